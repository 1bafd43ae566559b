// cmd_make_model.cpp: `duet make-model` (not built yet).
#include <cstdio>

#include "app/commands.h"

namespace duet::app {

int cmd_make_model(int argc, char** argv) {
    std::fprintf(stderr, "error: 'duet make-model' is not implemented yet\n");
    return 1;
}

}  // namespace duet::app
