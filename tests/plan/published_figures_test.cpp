// The planner against measurements of real boards published by others. Each case names its
// source; an estimate must land within ±35% of the published figure. These are llama.cpp-class
// engines (llama.cpp, llamafile, Ollama), so they check the planner's device defaults
// (bandwidth, efficiency, arithmetic width), not hearth's own kernels.
#include <gtest/gtest.h>

#include <string>

#include "plan/device.h"
#include "plan/planner.h"

namespace hearth::plan {
namespace {

constexpr double kTolerance = 0.35;

struct Figures {
  Plan plan;
  ModelShape model;
  Device device;
};

Figures plan_for(const char* device, double params, const char* quant) {
  Figures f{Plan{}, *shape_from_params(params, quant), *device_profile(device)};
  f.plan = make_plan(f.model, f.device, PlanOptions{});
  return f;
}

void expect_within(double estimate, double published, const std::string& what) {
  EXPECT_GE(estimate, published * (1 - kTolerance)) << what << ": estimate " << estimate << " vs " << published;
  EXPECT_LE(estimate, published * (1 + kTolerance)) << what << ": estimate " << estimate << " vs " << published;
}

// Justine Tunney, "LLaMA Now Goes Faster on CPUs" (llamafile's tinyBLAS matmul write-up, 2024),
// https://justine.lol/matmul/ — TinyLlama 1.1B Q8_0. Raspberry Pi 4: about 3 tok/s generation
// and about 10 tok/s prompt processing. Raspberry Pi 5: about 9 tok/s generation, 35–45 tok/s
// prompt processing.
TEST(PublishedFigures, Pi4TinyLlamaQ8_0_Llamafile) {
  const Figures f = plan_for("pi4", 1.1e9, "q8_0");
  expect_within(f.plan.tg_tok_s, 3.0, "Pi 4 TinyLlama Q8_0 generation");
  expect_within(f.plan.pp_tok_s, 10.0, "Pi 4 TinyLlama Q8_0 prompt");
  EXPECT_TRUE(f.plan.fits);
}

TEST(PublishedFigures, Pi5TinyLlamaQ8_0_Llamafile) {
  const Figures f = plan_for("pi5", 1.1e9, "q8_0");
  expect_within(f.plan.tg_tok_s, 9.0, "Pi 5 TinyLlama Q8_0 generation");
  expect_within(f.plan.pp_tok_s, 40.0, "Pi 5 TinyLlama Q8_0 prompt");
  EXPECT_GE(f.plan.pp_tok_s, 35.0 * (1 - kTolerance));
  EXPECT_LE(f.plan.pp_tok_s, 45.0 * (1 + kTolerance));
}

// Jeff Geerling, Ollama CPU benchmarks of the Raspberry Pi 5 (8 GB and 16 GB, D0 stepping),
// https://github.com/geerlingguy/ai-benchmarks/issues/7 and
// https://github.com/geerlingguy/sbc-reviews/issues/21 (2025): llama3.2:3b (Ollama's default,
// Q4_K_M) 4.51–4.88 tok/s; llama3.1:8b (Q4_K_M) 1.87–2.17 tok/s, eval rate (generation).
TEST(PublishedFigures, Pi5Llama32_3B_Q4_K_M_Geerling) {
  const Figures f = plan_for("pi5", 3.21e9, "q4_k_m");
  expect_within(f.plan.tg_tok_s, 4.7, "Pi 5 Llama 3.2 3B Q4_K_M generation");
  EXPECT_EQ(f.plan.verdict, "live but patient");
}

TEST(PublishedFigures, Pi5Llama31_8B_Q4_K_M_Geerling) {
  const Figures f = plan_for("pi5", 8.03e9, "q4_k_m");
  expect_within(f.plan.tg_tok_s, 2.0, "Pi 5 Llama 3.1 8B Q4_K_M generation");
  EXPECT_EQ(f.plan.verdict, "batch only");
  EXPECT_TRUE(f.plan.fits);  // the 8 GB board runs it
}

// b4rtaz on llama.cpp PR #6928 ("llamafile : use 64-bit integers in sgemm", 2024-04-28),
// https://github.com/ggml-org/llama.cpp/pull/6928 — Raspberry Pi 5 8 GB, Llama 2 7B Q4_0 with
// the llamafile sgemm path: prompt eval 109 tokens in 13.46 s, 8.10 tok/s.
TEST(PublishedFigures, Pi5Llama2_7B_Q4_0_Prompt_LlamaCppPr6928) {
  const Figures f = plan_for("pi5", 6.74e9, "q4_0");
  expect_within(109.0 / prefill_seconds(f.model, f.device, 109), 8.10, "Pi 5 Llama 2 7B Q4_0 prompt");
}

// dan-and on aidatatools/ollama-benchmark PR #9 (2024-06-10),
// https://github.com/aidatatools/ollama-benchmark/pull/9 — Raspberry Pi 4 2 GB, Ollama 0.1.42,
// qwen:1.8b (Qwen1.5 1.8B, Q4_0): eval rate 2.94–3.17, average 3.05 tok/s.
TEST(PublishedFigures, Pi4Qwen1_8B_Q4_0_OllamaBenchmark) {
  Figures f = plan_for("pi4", 1.84e9, "q4_0");
  expect_within(f.plan.tg_tok_s, 3.05, "Pi 4 Qwen 1.8B Q4_0 generation");
  f.device.ram_bytes = 2ull << 30;
  EXPECT_TRUE(make_plan(f.model, f.device, PlanOptions{.ctx = 2048}).fits);
}

}  // namespace
}  // namespace hearth::plan
