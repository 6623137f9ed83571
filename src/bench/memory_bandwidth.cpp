#include "bench/memory_bandwidth.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>
#include <new>
#include <string>

#include <fmt/format.h>

#include "bench/stats.h"

namespace hearth::bench {
namespace {

// "32768K", "8M" → bytes.
uint64_t parse_cache_size(const std::string& text) {
  uint64_t v = 0;
  size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') v = v * 10 + uint64_t(text[i++] - '0');
  if (i < text.size() && (text[i] == 'K' || text[i] == 'k')) v <<= 10;
  if (i < text.size() && (text[i] == 'M' || text[i] == 'm')) v <<= 20;
  return v;
}

uint64_t available_ram_bytes() {
  const long pages = ::sysconf(_SC_AVPHYS_PAGES);
  const long page = ::sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? uint64_t(pages) * uint64_t(page) : 0;
}

struct FreeDeleter {
  void operator()(double* p) const { ::operator delete[](p, std::align_val_t(64)); }
};
using Array = std::unique_ptr<double[], FreeDeleter>;

Array allocate(size_t n) {
  return Array(static_cast<double*>(::operator new[](n * sizeof(double), std::align_val_t(64), std::nothrow)));
}

}  // namespace

uint64_t last_level_cache_bytes() {
  uint64_t best = 0;
  for (int index = 0; index < 8; ++index) {
    std::ifstream in(fmt::format("/sys/devices/system/cpu/cpu0/cache/index{}/size", index));
    if (!in) continue;
    std::string text;
    in >> text;
    best = std::max(best, parse_cache_size(text));
  }
  return best;
}

Result<BandwidthResult> measure_bandwidth(ThreadPool& pool, const BandwidthOptions& options) {
  uint64_t bytes = options.array_bytes;
  if (bytes == 0) {
    bytes = std::max<uint64_t>(uint64_t(64) << 20, 4 * last_level_cache_bytes());
    // Three arrays in at most a quarter of the free RAM (a VM may report a huge shared L3).
    if (const uint64_t avail = available_ram_bytes(); avail > 0) bytes = std::min(bytes, avail / 12);
    bytes = std::max<uint64_t>(bytes, uint64_t(16) << 20);
  }
  const size_t n = bytes / sizeof(double);
  if (n < 1024) return Error{"bandwidth: arrays too small"};
  Array a = allocate(n), b = allocate(n), c = allocate(n);
  if (!a || !b || !c) return Error{fmt::format("bandwidth: cannot allocate 3 x {} MiB", bytes >> 20)};

  const int threads = pool.size();
  // Slices of whole cache lines, one per thread; each thread first-touches its own slice so
  // pages land near the core that streams them (NUMA machines).
  const size_t per = ((n + size_t(threads) - 1) / size_t(threads) + 7) / 8 * 8;
  auto slice = [&](int64_t t) { return std::pair{std::min(n, size_t(t) * per), std::min(n, size_t(t + 1) * per)}; };
  pool.parallel_for(threads, [&](int64_t t, int) {
    const auto [lo, hi] = slice(t);
    for (size_t i = lo; i < hi; ++i) {
      a[i] = 0.0;
      b[i] = 1.0;
      c[i] = 2.0;
    }
  });

  const double scalar = 3.0;
  std::vector<double> rates;
  for (int pass = 0; pass < std::max(1, options.passes); ++pass) {
    const auto t0 = std::chrono::steady_clock::now();
    pool.parallel_for(threads, [&](int64_t t, int) {
      const auto [lo, hi] = slice(t);
      double* __restrict pa = a.get();
      const double* __restrict pb = b.get();
      const double* __restrict pc = c.get();
      for (size_t i = lo; i < hi; ++i) pa[i] = pb[i] + scalar * pc[i];
    });
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s > 0) rates.push_back(3.0 * double(n) * sizeof(double) / s / 1e9);
  }
  // Keep the compiler from discarding the passes: the result is observed.
  volatile double sink = a[n / 2];
  (void)sink;

  BandwidthResult r;
  r.best_gb_per_s = rates.empty() ? 0 : *std::max_element(rates.begin(), rates.end());
  r.mean_gb_per_s = mean(rates);
  r.array_bytes = uint64_t(n) * sizeof(double);
  r.threads = threads;
  return r;
}

}  // namespace hearth::bench
