// cmd_logits.cpp: `duet logits` (not built yet).
#include <cstdio>

#include "app/commands.h"

namespace duet::app {

int cmd_logits(int argc, char** argv) {
    std::fprintf(stderr, "error: 'duet logits' is not implemented yet\n");
    return 1;
}

}  // namespace duet::app
