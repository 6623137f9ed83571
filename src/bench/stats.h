// Summary statistics of benchmark samples, computed as llama-bench computes them (sample
// standard deviation, n - 1 in the denominator; 0 for fewer than two samples), so a mean ± stddev
// printed by `hearth bench` means the same as one printed by llama-bench.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace hearth::bench {

double mean(std::span<const double> v);
double stddev(std::span<const double> v);

// One timed test (pp or tg) repeated: the wall time of each repetition in nanoseconds and the
// tokens each processed.
struct Samples {
  std::vector<uint64_t> ns;
  int64_t n_tokens = 0;

  std::vector<double> tokens_per_s() const;  // one value per repetition
  double avg_ts() const;
  double stddev_ts() const;
  uint64_t avg_ns() const;
  uint64_t stddev_ns() const;
};

}  // namespace hearth::bench
