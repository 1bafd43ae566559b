// read_bandwidth.h: a STREAM-style read-bandwidth probe (sum over a large buffer), so speed can be quoted as
// a fraction of what the machine can read. Used by `duet bench` next to tok/s.
#pragma once

#include <cstddef>

#include "common/thread_pool.h"

namespace duet::model {

// GB/s (1e9 bytes) reading `bytes` with every thread of `pool` (or one thread when null); best of `reps`.
double measure_read_bandwidth_gbs(ThreadPool* pool, size_t bytes = size_t{512} << 20, int reps = 3);

}  // namespace duet::model
