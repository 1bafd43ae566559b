// bench_url.cpp: placeholder for the server load generator behind `duet bench --url` (another engineer's file).
#include "app/bench_url.h"

#include <cstdio>

namespace duet::app {

int cmd_bench_url(int argc, char** argv) {
    std::fprintf(stderr, "error: --url is not implemented yet\n");
    return 1;
}

}  // namespace duet::app
