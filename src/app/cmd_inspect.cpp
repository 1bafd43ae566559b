// cmd_inspect.cpp: `duet inspect` (not built yet).
#include <cstdio>

#include "app/commands.h"

namespace duet::app {

int cmd_inspect(int argc, char** argv) {
    std::fprintf(stderr, "error: 'duet inspect' is not implemented yet\n");
    return 1;
}

}  // namespace duet::app
