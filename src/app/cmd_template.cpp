// cmd_template.cpp: `duet template` (not built yet).
#include <cstdio>

#include "app/commands.h"

namespace duet::app {

int cmd_template(int argc, char** argv) {
    std::fprintf(stderr, "error: 'duet template' is not implemented yet\n");
    return 1;
}

}  // namespace duet::app
