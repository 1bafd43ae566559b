// cmd_bench.cpp: `duet bench` (not built yet).
#include <cstdio>

#include "app/commands.h"

namespace duet::app {

int cmd_bench(int argc, char** argv) {
    std::fprintf(stderr, "error: 'duet bench' is not implemented yet\n");
    return 1;
}

}  // namespace duet::app
