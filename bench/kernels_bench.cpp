// vec_dot per weight format × ISA level, and matvec, on a 4096 × 4096 matrix (the size of one
// attention projection of a 7B model): each benchmark iteration dots every row once with the
// same activation row, so weights stream from memory/L3 as in token generation. Reports
// rows/s (items) and weight bytes/s. Summarise with --benchmark_format=json.
#include <benchmark/benchmark.h>

#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/fp16.h"
#include "kernels/kernels.h"
#include "ops/matmul.h"
#include "runtime/thread_pool.h"


namespace hearth {
namespace {

using T = GgmlType;
constexpr int64_t kNe0 = 4096;
constexpr int64_t kRows = 4096;

const GgmlType kFormats[] = {T::F32,  T::F16,  T::BF16, T::Q4_0,   T::Q4_1, T::Q5_0, T::Q5_1, T::Q8_0,
                             T::IQ4_NL, T::Q2_K, T::Q3_K, T::Q4_K, T::Q5_K, T::Q6_K, T::IQ4_XS};

// Random weights: random bytes, every block's scale halves set to small finite values (the
// values do not change the speed, but NaN/inf could).
struct Weights {
  std::vector<uint8_t> bytes;
  size_t row_bytes = 0;
};

const Weights& weights(GgmlType type) {
  static std::map<GgmlType, std::unique_ptr<Weights>> cache;  // bench-only memo
  auto& slot = cache[type];
  if (slot) return *slot;
  slot = std::make_unique<Weights>();
  const TypeTraits& tt = type_traits(type);
  slot->row_bytes = *row_bytes(type, kNe0);
  slot->bytes.resize(slot->row_bytes * kRows);
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  if (tt.block_size == 1) {
    std::vector<float> row(kNe0);
    for (int64_t r = 0; r < kRows; ++r) {
      for (float& v : row) v = normal(rng);
      tt.quantize(row.data(), slot->bytes.data() + r * slot->row_bytes, kNe0, nullptr);
    }
    return *slot;
  }
  for (auto& b : slot->bytes) b = static_cast<uint8_t>(rng());
  // Half scale fields: d at 0 (and dmin/m at 2) except Q2_K, Q3_K, Q6_K, where d ends the block.
  const uint16_t d = f32_to_fp16(0.01f);
  for (size_t b = 0; b < slot->bytes.size(); b += tt.block_bytes) {
    uint8_t* blk = slot->bytes.data() + b;
    switch (type) {
      case T::Q2_K: std::memcpy(blk + 80, &d, 2); std::memcpy(blk + 82, &d, 2); break;
      case T::Q3_K: std::memcpy(blk + 108, &d, 2); break;
      case T::Q6_K: std::memcpy(blk + 208, &d, 2); break;
      default: std::memcpy(blk, &d, 2); std::memcpy(blk + 2, &d, 2); break;
    }
  }
  return *slot;
}

std::vector<float> activations() {
  std::mt19937 rng(2);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(kNe0);
  for (float& v : x) v = normal(rng);
  return x;
}

void bm_vec_dot(benchmark::State& state, const KernelTable* table, GgmlType type) {
  const FormatKernels& k = table->of(type);
  const Weights& w = weights(type);
  const std::vector<float> x = activations();
  std::vector<uint8_t> act(kNe0 * 4 + 64);
  k.quantize_act(x.data(), act.data(), kNe0);
  for (auto _ : state) {
    float sum = 0.0f;
    for (int64_t r = 0; r < kRows; ++r) sum += k.vec_dot(kNe0, w.bytes.data() + r * w.row_bytes, act.data());
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * kRows);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(w.bytes.size()));
}

// The same dot on 16 rows (at most 64 KB for Q8_0, in L1/L2): instruction throughput without
// the memory system, i.e. what the kernel itself costs.
void bm_vec_dot_hot(benchmark::State& state, const KernelTable* table, GgmlType type) {
  constexpr int64_t kHotRows = 16;
  const FormatKernels& k = table->of(type);
  const Weights& w = weights(type);
  const std::vector<float> x = activations();
  std::vector<uint8_t> act(kNe0 * 4 + 64);
  k.quantize_act(x.data(), act.data(), kNe0);
  for (auto _ : state) {
    float sum = 0.0f;
    for (int64_t r = 0; r < kHotRows; ++r) sum += k.vec_dot(kNe0, w.bytes.data() + r * w.row_bytes, act.data());
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * kHotRows);
  state.SetBytesProcessed(state.iterations() * kHotRows * static_cast<int64_t>(w.row_bytes));
}

void bm_matvec(benchmark::State& state, const KernelTable* table, GgmlType type) {
  const Weights& w = weights(type);
  const std::vector<float> x = activations();
  std::vector<float> y(kRows);
  ThreadPool pool(static_cast<int>(state.range(0)));
  const WeightMatrix m{type, kNe0, kRows, w.bytes.data(), w.row_bytes};
  for (auto _ : state) {
    if (!matvec(*table, pool, m, x.data(), y.data()).ok()) state.SkipWithError("matvec failed");
    benchmark::DoNotOptimize(y.data());
  }
  state.SetItemsProcessed(state.iterations() * kRows);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(w.bytes.size()));
}

void bm_quantize_act(benchmark::State& state, const KernelTable* table, GgmlType type) {
  const FormatKernels& k = table->of(type);
  const std::vector<float> x = activations();
  std::vector<uint8_t> act(kNe0 * 4 + 64);
  for (auto _ : state) {
    k.quantize_act(x.data(), act.data(), kNe0);
    benchmark::DoNotOptimize(act.data());
  }
  state.SetItemsProcessed(state.iterations() * kNe0);
}

int register_all() {
  std::vector<std::pair<std::string, const KernelTable*>> levels;
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512, Isa::kNeon, Isa::kDotprod})
    if (isa_supported(isa)) levels.emplace_back(std::string(isa_name(isa)), &kernel_table(isa));
  for (GgmlType type : kFormats) {
    const std::string name(type_traits(type).name);
    for (const auto& [level, table] : levels) {
      benchmark::RegisterBenchmark(("vec_dot/" + name + "/" + level).c_str(), bm_vec_dot, table, type);
      benchmark::RegisterBenchmark(("vec_dot_hot/" + name + "/" + level).c_str(), bm_vec_dot_hot, table, type);
    }
  }
  for (GgmlType act : {T::Q4_0, T::Q4_1, T::Q4_K})  // one format per activation type
    for (const auto& [level, table] : levels)
      benchmark::RegisterBenchmark(
          ("quantize_act/" + std::string(type_traits(table->of(act).act_type).name) + "/" + level).c_str(),
          bm_quantize_act, table, act);
  const KernelTable* best = &kernel_table(best_isa());
  for (GgmlType type : kFormats)
    benchmark::RegisterBenchmark(("matvec/" + std::string(type_traits(type).name) + "/" +
                                  std::string(isa_name(best->isa))).c_str(),
                                 bm_matvec, best, type)
        ->Arg(1)->Arg(2)->UseRealTime();
  return 0;
}

const int registered = register_all();

}  // namespace
}  // namespace hearth
