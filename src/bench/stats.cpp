#include "bench/stats.h"

#include <cmath>
#include <numeric>

namespace hearth::bench {

double mean(std::span<const double> v) {
  if (v.empty()) return 0;
  return std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
}

double stddev(std::span<const double> v) {
  if (v.size() < 2) return 0;
  const double m = mean(v);
  double sq = 0;
  for (double x : v) sq += (x - m) * (x - m);
  return std::sqrt(sq / double(v.size() - 1));
}

std::vector<double> Samples::tokens_per_s() const {
  std::vector<double> ts;
  ts.reserve(ns.size());
  for (uint64_t t : ns) ts.push_back(t > 0 ? 1e9 * double(n_tokens) / double(t) : 0.0);
  return ts;
}

double Samples::avg_ts() const { return mean(tokens_per_s()); }
double Samples::stddev_ts() const { return stddev(tokens_per_s()); }

namespace {
std::vector<double> as_double(const std::vector<uint64_t>& ns) { return {ns.begin(), ns.end()}; }
}  // namespace

uint64_t Samples::avg_ns() const { return static_cast<uint64_t>(std::llround(mean(as_double(ns)))); }
uint64_t Samples::stddev_ns() const { return static_cast<uint64_t>(std::llround(stddev(as_double(ns)))); }

}  // namespace hearth::bench
