// `hearth plan`: will this model fit on this board, and how fast will it be? A model of the two
// ceilings of CPU inference: token generation streams every weight once per token, so it is
// bounded by memory bandwidth (the roofline) times how much of it an engine achieves; prefill
// batches tokens through the same weights, so it is bounded by the cores' multiply-add rate.
// Memory is weights + KV cache at the context + compute buffers + what the OS keeps.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "plan/device.h"
#include "plan/model_shape.h"

namespace hearth::plan {

enum class CacheType { kF16, kQ8_0 };
Result<CacheType> parse_cache_type(std::string_view name);
double cache_bytes_per_element(CacheType type);  // f16 2, q8_0 34/32

struct PlanOptions {
  int64_t ctx = 4096;
  CacheType cache = CacheType::kF16;
  double duty = 0.1;  // fraction of the day spent generating
  int64_t ubatch = 512;  // prompt tokens per forward pass: sizes the compute buffers
};

struct Plan {
  // Memory.
  uint64_t weight_bytes = 0, kv_bytes = 0, compute_bytes = 0, os_reserve_bytes = 0;
  uint64_t ram_bytes = 0;  // the sum of the four
  bool fits = false;
  int64_t ctx = 0;
  int64_t max_ctx = 0;  // largest context that fits (≤ the training context); 0: not even 1
  // Generation, at the start of a conversation (as llama-bench's tg128) and with ctx filled.
  double tg_roofline_tok_s = 0, tg_tok_s = 0, tg_full_ctx_tok_s = 0;
  // Prefill.
  double pp_tok_s = 0;  // over a 512-token prompt, as llama-bench's pp512
  double prefill_100_s = 0, prefill_1k_s = 0;
  std::string verdict;  // "real-time", "live chat", "live but patient", "batch only"
  double watt_hours_per_day = 0;
};

// KV cache bytes for `ctx` positions: 2 (K and V) × layers × KV heads × head size × ctx.
uint64_t kv_cache_bytes(const ModelShape& m, int64_t ctx, CacheType cache);
// Scratch the forward pass needs besides weights and cache (see planner.cpp).
uint64_t compute_buffer_bytes(const ModelShape& m, int64_t ctx, int64_t ubatch, int threads);
// Seconds to prefill a prompt of n tokens.
double prefill_seconds(const ModelShape& m, const Device& d, int64_t n);
std::string verdict_for(double tg_tok_s);

Plan make_plan(const ModelShape& m, const Device& d, const PlanOptions& options);

nlohmann::json plan_json(const ModelShape& m, const Device& d, const PlanOptions& o, const Plan& p);
std::string plan_text(const ModelShape& m, const Device& d, const PlanOptions& o, const Plan& p);

}  // namespace hearth::plan
