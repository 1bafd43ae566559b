// cmd_serve.cpp: `duet serve` (not built yet).
#include <cstdio>

#include "app/commands.h"

namespace duet::app {

int cmd_serve(int argc, char** argv) {
    std::fprintf(stderr, "error: 'duet serve' is not implemented yet\n");
    return 1;
}

}  // namespace duet::app
