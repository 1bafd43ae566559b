// cmd_generate.cpp: `duet generate` (not built yet).
#include <cstdio>

#include "app/commands.h"

namespace duet::app {

int cmd_generate(int argc, char** argv) {
    std::fprintf(stderr, "error: 'duet generate' is not implemented yet\n");
    return 1;
}

}  // namespace duet::app
