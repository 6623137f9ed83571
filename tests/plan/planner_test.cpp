// The planner's memory and speed arithmetic on shapes whose numbers are known: llama.cpp prints
// "KV self size" for these models (TinyLlama at 2048: 44 MiB; Llama 3.1 8B at 8192: 1024 MiB;
// Phi-3 mini at 4096: 1536 MiB, all f16).
#include <gtest/gtest.h>

#include <cmath>

#include "gguf/reader.h"
#include "model/config.h"
#include "plan/device.h"
#include "plan/planner.h"
#include "test_data.h"

namespace hearth::plan {
namespace {

constexpr uint64_t kMiB = 1024ull * 1024;
constexpr uint64_t kGiB = 1024 * kMiB;

ModelShape params_shape(double params, const char* quant) {
  Result<ModelShape> m = shape_from_params(params, quant);
  EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().message);
  return *m;
}

Device profile(const char* name) { return *device_profile(name); }

TEST(PlanShapes, NearestTableEntry) {
  EXPECT_EQ(nearest_shape(1.1e9).name, "TinyLlama 1.1B");
  EXPECT_EQ(nearest_shape(3.8e9).name, "Phi-3 mini 3.8B");
  EXPECT_EQ(nearest_shape(8e9).name, "Llama 3.1 8B");
  EXPECT_EQ(nearest_shape(0.5e9).name, "Qwen2.5 0.5B");
  EXPECT_EQ(nearest_shape(70e9).name, "Llama 3.1 8B");
}

TEST(PlanShapes, QuantTable) {
  ASSERT_NE(find_quant("Q4_K_M"), nullptr);
  EXPECT_DOUBLE_EQ(find_quant("q4_k_m")->bits_per_weight, 4.85);
  EXPECT_DOUBLE_EQ(find_quant("q8_0")->bits_per_weight, 8.5);
  EXPECT_EQ(find_quant("q4_k_x"), nullptr);
  Result<ModelShape> bad = shape_from_params(1e9, "q4_k_x");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("q4_k_x"), std::string::npos);
}

TEST(PlanMemory, KvCacheMatchesLlamaCpp) {
  EXPECT_EQ(kv_cache_bytes(params_shape(1.1e9, "q8_0"), 2048, CacheType::kF16), 44 * kMiB);
  EXPECT_EQ(kv_cache_bytes(params_shape(8.03e9, "q4_k_m"), 8192, CacheType::kF16), 1024 * kMiB);
  EXPECT_EQ(kv_cache_bytes(params_shape(3.8e9, "q4_k_m"), 4096, CacheType::kF16), 1536 * kMiB);
  // q8_0 blocks: 34 bytes per 32 values.
  EXPECT_EQ(kv_cache_bytes(params_shape(8.03e9, "q4_k_m"), 8192, CacheType::kQ8_0), 544 * kMiB);
}

TEST(PlanMemory, WeightsFromBitsPerWeight) {
  const ModelShape m = params_shape(8.03e9, "q4_k_m");
  EXPECT_NEAR(double(m.weight_bytes) / 1e9, 8.03 * 4.85 / 8, 0.01);  // ≈ 4.87 GB, as the GGUF
  // The untied embedding (128256 × 4096) is looked up, not streamed.
  EXPECT_LT(m.bytes_read_per_token, m.weight_bytes);
  const ModelShape tied = params_shape(3.213e9, "q4_k_m");
  EXPECT_EQ(tied.bytes_read_per_token, tied.weight_bytes);
}

TEST(PlanMemory, FitsAndLargestContext) {
  Device pi = profile("pi5");
  const ModelShape m = params_shape(8.03e9, "q4_k_m");
  PlanOptions o;
  o.ctx = 4096;
  Plan p = make_plan(m, pi, o);
  EXPECT_TRUE(p.fits);
  EXPECT_EQ(p.ram_bytes, p.weight_bytes + p.kv_bytes + p.compute_bytes + p.os_reserve_bytes);
  ASSERT_GT(p.max_ctx, 4096);
  ASSERT_LT(p.max_ctx, m.context_length);
  // max_ctx fits, one more position does not.
  o.ctx = p.max_ctx;
  EXPECT_TRUE(make_plan(m, pi, o).fits);
  o.ctx = p.max_ctx + 1;
  EXPECT_FALSE(make_plan(m, pi, o).fits);

  pi.ram_bytes = 4 * kGiB;  // an 8B Q4_K_M does not fit a 4 GB board at all
  p = make_plan(m, pi, PlanOptions{});
  EXPECT_FALSE(p.fits);
  EXPECT_EQ(p.max_ctx, 0);
}

TEST(PlanMemory, LargestContextCappedByTraining) {
  const ModelShape m = params_shape(1.1e9, "q4_k_m");  // TinyLlama: trained at 2048
  const Plan p = make_plan(m, profile("pi5"), PlanOptions{});
  EXPECT_EQ(p.max_ctx, 2048);
}

TEST(PlanMemory, Q8CacheHoldsMoreContext) {
  Device pi = profile("pi4");
  pi.ram_bytes = 4 * kGiB;
  const ModelShape m = params_shape(3.8e9, "q4_k_m");
  PlanOptions f16, q8;
  q8.cache = CacheType::kQ8_0;
  EXPECT_GT(make_plan(m, pi, q8).max_ctx, make_plan(m, pi, f16).max_ctx);
}

TEST(PlanSpeed, RooflineAndVerdicts) {
  const Device pi = profile("pi5");
  const ModelShape m = params_shape(1.1e9, "q4_k_m");
  const Plan p = make_plan(m, pi, PlanOptions{});
  EXPECT_DOUBLE_EQ(p.tg_roofline_tok_s, pi.bandwidth_bytes_per_s / double(m.bytes_read_per_token));
  EXPECT_DOUBLE_EQ(p.tg_tok_s, p.tg_roofline_tok_s * pi.tg_efficiency);
  EXPECT_LT(p.tg_full_ctx_tok_s, p.tg_tok_s);
  EXPECT_GT(p.prefill_1k_s, 10 * p.prefill_100_s);  // attention grows with the square
  EXPECT_EQ(verdict_for(25), "real-time");
  EXPECT_EQ(verdict_for(20), "real-time");
  EXPECT_EQ(verdict_for(6), "live chat");
  EXPECT_EQ(verdict_for(3), "live but patient");
  EXPECT_EQ(verdict_for(2.9), "batch only");
}

TEST(PlanSpeed, DotProductMakesA76PrefillFaster) {
  // Same clock and cores: only the A76's sdot differs.
  Device a72 = profile("pi4"), a76 = profile("pi5");
  a72.ghz = a76.ghz;
  const ModelShape m = params_shape(1.1e9, "q8_0");
  EXPECT_GT(make_plan(m, a76, PlanOptions{}).pp_tok_s, 2 * make_plan(m, a72, PlanOptions{}).pp_tok_s);
}

TEST(PlanEnergy, DutyCycle) {
  const Device pi4 = profile("pi4");
  PlanOptions o;
  o.duty = 0.1;
  EXPECT_NEAR(make_plan(params_shape(1.1e9, "q8_0"), pi4, o).watt_hours_per_day, 24 * (0.1 * 6.4 + 0.9 * 2.7), 1e-9);
  o.duty = 1;
  EXPECT_NEAR(make_plan(params_shape(1.1e9, "q8_0"), pi4, o).watt_hours_per_day, 24 * 6.4, 1e-9);
}

TEST(PlanDevice, MemInfo) {
  Result<MemInfo> m = parse_meminfo("MemTotal:        8052348 kB\nMemFree:  100 kB\nMemAvailable:    7000000 kB\n");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->total, 8052348ull * 1024);
  EXPECT_EQ(m->available, 7000000ull * 1024);
  EXPECT_FALSE(parse_meminfo("MemFree: 1 kB\n").ok());
  EXPECT_FALSE(device_profile("pi3").ok());
}

TEST(PlanGguf, RealTensorBytesAndHyperparameters) {
  const auto path = test::models_dir() / "synth" / "synth-llama-tiny-Q8_0.gguf";
  HEARTH_REQUIRE_FILE(path);
  Result<ModelShape> m = shape_from_gguf(path);
  ASSERT_TRUE(m.ok()) << m.error().message;
  Result<gguf::File> file = gguf::File::open(path);
  ASSERT_TRUE(file.ok());
  uint64_t total = 0;
  for (const auto& t : file->tensors()) total += t.nbytes;
  EXPECT_EQ(m->weight_bytes, total);
  const ModelConfig config = *load_config(*file);
  EXPECT_EQ(m->n_layer, config.n_layer);
  EXPECT_EQ(m->n_head_kv, config.n_head_kv);
  EXPECT_EQ(m->head_dim, config.head_dim);
  EXPECT_EQ(m->quant, "q8_0");
  EXPECT_EQ(kv_cache_bytes(*m, 100, CacheType::kF16),
            uint64_t(2 * config.n_layer * config.n_head_kv * config.head_dim * 100 * 2));
  EXPECT_LE(m->bytes_read_per_token, m->weight_bytes);
}

TEST(PlanGguf, MissingFileIsAnError) {
  Result<ModelShape> m = shape_from_gguf("/nonexistent/model.gguf");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("no such file"), std::string::npos);
}

}  // namespace
}  // namespace hearth::plan
