// bandwidth.h: the machine's memory read bandwidth, so that decode speeds can be printed next to the limit they
// approach (bench_kernels, `duet bench`, bench/compare.sh).
//
// The figure is the best of several read methods, because no single loop reaches the limit on every core: plain
// 64-bit adds (what the compiler vectorizes for the baseline ISA), 256-bit and 512-bit loads into 4 independent
// accumulators, each with and without a non-temporal software prefetch ahead of the loads. Each thread reads its
// own buffer (allocated and first touched by that thread, 2 MiB aligned, transparent huge pages asked for), the
// methods are interleaved run by run (so a drifting machine hits them alike), and the best run counts.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace duet::kernels {

struct ReadBandwidth {
    double gbs = 0;      // best over methods and runs, 1e9 bytes/s
    std::string method;  // the method that reached it, e.g. "avx512 4x64B + prefetchnta"
};

// Read bandwidth of n_threads threads each summing bytes / n_threads (use ≥ 512 MiB in all: far larger than the
// caches), best of `runs` runs of every method this CPU has. Takes about a second per GiB and thread count.
ReadBandwidth measure_read_bandwidth(int n_threads, size_t bytes, int runs = 5);

// measure_read_bandwidth(...).gbs.
double measure_read_bandwidth_gbs(int n_threads, size_t bytes);

// The methods measure_read_bandwidth tries on this CPU, in order (names as in ReadBandwidth::method).
std::vector<std::string> read_bandwidth_methods();

}  // namespace duet::kernels
