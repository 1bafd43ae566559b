// cmd_tokenize.cpp: `duet tokenize` (not built yet).
#include <cstdio>

#include "app/commands.h"

namespace duet::app {

int cmd_tokenize(int argc, char** argv) {
    std::fprintf(stderr, "error: 'duet tokenize' is not implemented yet\n");
    return 1;
}

}  // namespace duet::app
