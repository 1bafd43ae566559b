// bench_url.h: `duet bench --url URL ...`: load-test an OpenAI-compatible server (implemented in bench_url.cpp).
#pragma once

namespace duet::app {

// argv as given to cmd_bench (argv[0] is "bench"); returns the exit code.
int cmd_bench_url(int argc, char** argv);

}  // namespace duet::app
