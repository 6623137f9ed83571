// The machine's memory bandwidth, measured the way STREAM's triad does: a[i] = b[i] + s * c[i]
// over three arrays of doubles far larger than the last-level cache, every thread of the pool
// streaming its own contiguous slice, 24 bytes counted per element (STREAM's convention: reads
// of b and c, the write of a; the write-allocate read is not counted). The best of several
// passes is reported, as STREAM does: the machine can reach that figure, and it is what bounds
// token generation (every weight read once per token).
#pragma once

#include <cstdint>

#include "core/status.h"
#include "runtime/thread_pool.h"

namespace hearth::bench {

struct BandwidthOptions {
  uint64_t array_bytes = 0;  // per array; 0: max(64 MiB, 4 x last-level cache), within RAM limits
  int passes = 5;
};

struct BandwidthResult {
  double best_gb_per_s = 0;  // 1e9 bytes per second
  double mean_gb_per_s = 0;
  uint64_t array_bytes = 0;
  int threads = 0;
};

// Size of the largest CPU cache the kernel reports (/sys/devices/system/cpu/cpu0/cache), 0 when
// unknown.
uint64_t last_level_cache_bytes();

Result<BandwidthResult> measure_bandwidth(ThreadPool& pool, const BandwidthOptions& options = {});

}  // namespace hearth::bench
