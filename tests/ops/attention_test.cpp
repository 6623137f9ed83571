// The attention op against a double-precision oracle that rounds exactly where the op (and
// llama.cpp) rounds: the query to F16 or to Q8_0 for the K type, the keys and values as the
// cache holds them, F16 probabilities for an F16 V. Every cache type pair, grouped-query heads,
// runs that cross cache chunks, a sliding window, a batch of queries after cached positions, on
// the scalar table and the best ISA the host runs.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/fp16.h"
#include "kernels/kernels.h"
#include "ops/attention.h"
#include "quant/blocks.h"
#include "quant/formats.h"
#include "runtime/kv_cache.h"
#include "runtime/thread_pool.h"

namespace hearth {
namespace {

using T = GgmlType;

std::vector<double> dequant(GgmlType type, const uint16_t* row, int64_t n) {
  std::vector<float> f(static_cast<size_t>(n));
  if (type == T::Q8_0)
    dequantize_row_q8_0(row, f.data(), n);
  else
    for (int64_t i = 0; i < n; ++i) f[static_cast<size_t>(i)] = fp16_to_f32(row[i]);
  return {f.begin(), f.end()};
}

// The query as the K kernel sees it.
std::vector<double> query_as_seen(GgmlType k_type, const float* q, int64_t n) {
  std::vector<float> f(static_cast<size_t>(n));
  if (k_type == T::Q8_0) {
    std::vector<BlockQ8_0> blocks(static_cast<size_t>(n / 32));
    quantize_row_q8_0(q, blocks.data(), n, nullptr);
    dequantize_row_q8_0(blocks.data(), f.data(), n);
  } else {
    for (int64_t i = 0; i < n; ++i) f[static_cast<size_t>(i)] = fp16_to_f32(f32_to_fp16(q[i]));
  }
  return {f.begin(), f.end()};
}

struct Case {
  KvCacheTypes types;
  int64_t n_head, n_head_kv, head_dim, n_past, n_tokens, window, chunk;
};

void run_case(const Case& c, const KernelTable& kernels, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int64_t row_len = c.n_head_kv * c.head_dim, n_kv = c.n_past + c.n_tokens;
  auto kv = KvCache::create(1, row_len, n_kv, c.chunk, c.types);
  ASSERT_TRUE(kv.ok()) << kv.error().message;
  ASSERT_TRUE(kv->reserve(n_kv).ok());
  std::vector<float> k(static_cast<size_t>(row_len)), v(static_cast<size_t>(row_len));
  for (int64_t p = 0; p < n_kv; ++p) {
    for (float& x : k) x = normal(rng);
    for (float& x : v) x = normal(rng);
    kv->store(0, p, k.data(), v.data());
  }
  const int64_t q_width = c.n_head * c.head_dim;
  std::vector<float> q(static_cast<size_t>(c.n_tokens * q_width));
  for (float& x : q) x = normal(rng) * 0.5f;
  std::vector<int32_t> positions(static_cast<size_t>(c.n_tokens));
  for (int64_t t = 0; t < c.n_tokens; ++t) positions[static_cast<size_t>(t)] = static_cast<int32_t>(c.n_past + t);

  ThreadPool pool(2);
  AttentionParams p;
  p.n_head = c.n_head;
  p.n_head_kv = c.n_head_kv;
  p.head_dim = c.head_dim;
  p.scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  p.sliding_window = c.window;
  const KvLayerView view = kv->view(0, n_kv);
  std::vector<float> scores(static_cast<size_t>(pool.size() * n_kv));
  std::vector<float> out(q.size(), NAN);
  attention(kernels, pool, p, view, q.data(), positions.data(), c.n_tokens, scores.data(), out.data());

  const int64_t group = c.n_head / c.n_head_kv;
  for (int64_t t = 0; t < c.n_tokens; ++t) {
    for (int64_t h = 0; h < c.n_head; ++h) {
      const int64_t kvh = h / group;
      const float* qh = q.data() + t * q_width + h * c.head_dim;
      const std::vector<double> qs = query_as_seen(c.types.k, qh, c.head_dim);
      const int64_t last = positions[static_cast<size_t>(t)];
      const int64_t first = c.window > 0 ? std::max<int64_t>(0, last - c.window + 1) : 0;
      std::vector<double> s;
      double mx = -INFINITY;
      for (int64_t j = first; j <= last; ++j) {
        const auto kr = dequant(c.types.k, view.k_at(j) + kv_row_units(c.types.k, kvh * c.head_dim), c.head_dim);
        double dot = 0;
        for (int64_t d = 0; d < c.head_dim; ++d) dot += qs[static_cast<size_t>(d)] * kr[static_cast<size_t>(d)];
        s.push_back(dot * p.scale);
        mx = std::max(mx, s.back());
      }
      double sum = 0;
      for (double& x : s) sum += (x = std::exp(x - mx));
      std::vector<double> want(static_cast<size_t>(c.head_dim), 0.0);
      double magnitude = 0;
      for (int64_t j = first; j <= last; ++j) {
        double w = s[static_cast<size_t>(j - first)] / sum;
        if (c.types.v == T::F16) w = fp16_to_f32(f32_to_fp16(static_cast<float>(w)));
        const auto vr = dequant(c.types.v, view.v_at(j) + kv_row_units(c.types.v, kvh * c.head_dim), c.head_dim);
        for (int64_t d = 0; d < c.head_dim; ++d) {
          want[static_cast<size_t>(d)] += w * vr[static_cast<size_t>(d)];
          magnitude = std::max(magnitude, std::fabs(vr[static_cast<size_t>(d)]));
        }
      }
      for (int64_t d = 0; d < c.head_dim; ++d) {
        const float got = out[static_cast<size_t>(t * q_width + h * c.head_dim + d)];
        // Scores and weights in float: a few float roundings of quantities of size ~magnitude.
        // An F16 probability may round to the other neighbour than the oracle's when it sits
        // within a float rounding of a midpoint: allow that (2^-11 of it) for a few of them.
        const double tol = (c.types.v == T::F16 ? 4e-4 : 2e-5) * magnitude + 1e-6;
        ASSERT_NEAR(got, want[static_cast<size_t>(d)], tol)
            << isa_name(kernels.isa) << " K " << type_traits(c.types.k).name << " V "
            << type_traits(c.types.v).name << " token " << t << " head " << h << " dim " << d;
      }
    }
  }
}

TEST(Attention, MatchesTheOracleForEveryCacheType) {
  std::mt19937 rng(42);
  std::vector<const KernelTable*> tables = {&kernel_table(Isa::kScalar)};
  if (best_isa() != Isa::kScalar) tables.push_back(&kernel_table(best_isa()));
  for (KvCacheTypes types : {KvCacheTypes{}, KvCacheTypes{T::Q8_0, T::F16},
                             KvCacheTypes{T::F16, T::Q8_0}, KvCacheTypes{T::Q8_0, T::Q8_0}}) {
    const std::vector<Case> cases = {
        {types, 4, 4, 64, 0, 9, 0, 4},     // a prompt in one batch, chunks of 4 positions
        {types, 8, 2, 32, 37, 1, 0, 16},   // a decode step, grouped-query heads
        {types, 4, 1, 128, 20, 5, 0, 7},   // a batch after cached positions, one kv head
        {types, 2, 2, 64, 30, 3, 8, 16},   // sliding window
    };
    for (const KernelTable* kt : tables)
      for (const Case& c : cases) run_case(c, *kt, rng);
  }
  // F16 caches take any head size.
  for (const KernelTable* kt : tables) run_case({{}, 3, 3, 40, 5, 4, 0, 4}, *kt, rng);
}

}  // namespace
}  // namespace hearth
