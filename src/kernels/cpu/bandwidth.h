// bandwidth.h: the machine's memory read bandwidth, measured STREAM-style (sum over a large buffer), so that
// decode speeds can be printed next to the limit they approach (bench_kernels, `duet bench`).
#pragma once

#include <cstddef>

namespace duet::kernels {

// Best-of-several read bandwidth in GB/s (1e9 bytes/s) of n_threads threads summing a buffer of `bytes`
// (use 1-2 GiB: far larger than the caches). Takes about a second.
double measure_read_bandwidth_gbs(int n_threads, size_t bytes);

}  // namespace duet::kernels
