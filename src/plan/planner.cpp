#include "plan/planner.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace hearth::plan {
namespace {

constexpr uint64_t kMiB = 1024ull * 1024;
// The binary, tokenizer tables, thread stacks, allocator slack.
constexpr uint64_t kRuntimeOverhead = 64 * kMiB;

std::string gib(uint64_t bytes) { return fmt::format("{:.2f} GiB", double(bytes) / (1024.0 * kMiB)); }

}  // namespace

Result<CacheType> parse_cache_type(std::string_view name) {
  if (name == "f16") return CacheType::kF16;
  if (name == "q8_0") return CacheType::kQ8_0;
  return Error{"unknown cache type '" + std::string(name) + "' (known: f16, q8_0)"};
}

double cache_bytes_per_element(CacheType type) { return type == CacheType::kF16 ? 2.0 : 34.0 / 32.0; }

uint64_t kv_cache_bytes(const ModelShape& m, int64_t ctx, CacheType cache) {
  const double elements = 2.0 * double(m.n_layer) * double(m.n_head_kv) * double(m.head_dim) * double(ctx);
  return static_cast<uint64_t>(elements * cache_bytes_per_element(cache));
}

// f32 activations for one micro-batch of prompt tokens (residual, normed copy, q/k/v, attention
// output, the feed-forward's gate and up, ~4·n_embd + 3·n_ff with n_ff ≈ 8/3·n_embd), the
// logits of one row, and one row of attention scores per thread over the whole context.
uint64_t compute_buffer_bytes(const ModelShape& m, int64_t ctx, int64_t ubatch, int threads) {
  const double n_ff = 8.0 / 3.0 * double(m.n_embd);
  const double per_token = 4.0 * double(m.n_embd) + 3.0 * n_ff;
  const double floats = double(ubatch) * per_token + 2.0 * double(m.n_vocab) + double(threads) * double(ctx);
  return static_cast<uint64_t>(4.0 * floats) + kRuntimeOverhead;
}

double prefill_seconds(const ModelShape& m, const Device& d, int64_t n) {
  const double rate = d.peak_ops_per_s(m.dot) * d.pp_efficiency;
  // Causal attention: QK^T and AV, 2 ops per multiply-add, n²/2 pairs per layer.
  const double attention = 2.0 * double(m.n_layer) * double(m.n_head) * double(m.head_dim) * double(n) * double(n);
  return (double(n) * m.ops_per_token + attention) / rate;
}

std::string verdict_for(double tg_tok_s) {
  if (tg_tok_s >= 20) return "real-time";
  if (tg_tok_s >= 6) return "live chat";
  if (tg_tok_s >= 3) return "live but patient";
  return "batch only";
}

Plan make_plan(const ModelShape& m, const Device& d, const PlanOptions& o) {
  Plan p;
  p.ctx = o.ctx;
  p.weight_bytes = m.weight_bytes;
  p.kv_bytes = kv_cache_bytes(m, o.ctx, o.cache);
  p.compute_bytes = compute_buffer_bytes(m, o.ctx, o.ubatch, d.cores);
  p.os_reserve_bytes = d.os_reserve_bytes;
  p.ram_bytes = p.weight_bytes + p.kv_bytes + p.compute_bytes + p.os_reserve_bytes;
  p.fits = p.ram_bytes <= d.ram_bytes;

  // Everything but the cache and the score rows is fixed; those grow linearly with the context.
  const uint64_t fixed = p.weight_bytes + compute_buffer_bytes(m, 0, o.ubatch, d.cores) + p.os_reserve_bytes;
  if (fixed < d.ram_bytes) {
    const double per_position = double(kv_cache_bytes(m, 1 << 20, o.cache)) / double(1 << 20) + 4.0 * d.cores;
    int64_t n = static_cast<int64_t>(double(d.ram_bytes - fixed) / per_position);
    if (m.context_length > 0) n = std::min(n, m.context_length);
    while (n > 0 && fixed + kv_cache_bytes(m, n, o.cache) + compute_buffer_bytes(m, n, o.ubatch, d.cores) -
                            compute_buffer_bytes(m, 0, o.ubatch, d.cores) > d.ram_bytes)
      --n;
    p.max_ctx = n;
  }

  const double kv_per_position = double(kv_cache_bytes(m, 1 << 20, o.cache)) / double(1 << 20);
  p.tg_roofline_tok_s = d.bandwidth_bytes_per_s / double(m.bytes_read_per_token);
  p.tg_tok_s = p.tg_roofline_tok_s * d.tg_efficiency;
  p.tg_full_ctx_tok_s = d.bandwidth_bytes_per_s * d.tg_efficiency /
                        (double(m.bytes_read_per_token) + kv_per_position * double(o.ctx));
  p.pp_tok_s = 512.0 / prefill_seconds(m, d, 512);
  p.prefill_100_s = prefill_seconds(m, d, 100);
  p.prefill_1k_s = prefill_seconds(m, d, 1000);
  p.verdict = verdict_for(p.tg_tok_s);
  p.watt_hours_per_day = 24.0 * (o.duty * d.load_watts + (1.0 - o.duty) * d.idle_watts);
  return p;
}

nlohmann::json plan_json(const ModelShape& m, const Device& d, const PlanOptions& o, const Plan& p) {
  nlohmann::json j;
  j["model"] = {{"description", m.description}, {"quant", m.quant}, {"params", m.params},
                {"n_layer", m.n_layer}, {"n_head_kv", m.n_head_kv}, {"head_dim", m.head_dim},
                {"context_length", m.context_length}, {"bytes_read_per_token", m.bytes_read_per_token}};
  j["device"] = {{"name", d.name}, {"description", d.description}, {"ram_bytes", d.ram_bytes},
                 {"bandwidth_bytes_per_s", d.bandwidth_bytes_per_s}, {"cores", d.cores}, {"ghz", d.ghz},
                 {"tg_efficiency", d.tg_efficiency}, {"pp_efficiency", d.pp_efficiency},
                 {"idle_w", d.idle_watts}, {"load_w", d.load_watts}};
  j["ctx"] = p.ctx;
  j["cache_type"] = o.cache == CacheType::kF16 ? "f16" : "q8_0";
  j["fits"] = p.fits;
  j["ram_bytes"] = p.ram_bytes;
  j["weight_bytes"] = p.weight_bytes;
  j["kv_bytes"] = p.kv_bytes;
  j["compute_bytes"] = p.compute_bytes;
  j["os_reserve_bytes"] = p.os_reserve_bytes;
  j["max_ctx"] = p.max_ctx;
  j["tg_roofline_tok_s"] = p.tg_roofline_tok_s;
  j["tg_tok_s"] = p.tg_tok_s;
  j["tg_full_ctx_tok_s"] = p.tg_full_ctx_tok_s;
  j["pp_tok_s"] = p.pp_tok_s;
  j["prefill_100_s"] = p.prefill_100_s;
  j["prefill_1k_s"] = p.prefill_1k_s;
  j["verdict"] = p.verdict;
  j["duty"] = o.duty;
  j["wh_per_day"] = p.watt_hours_per_day;
  return j;
}

std::string plan_text(const ModelShape& m, const Device& d, const PlanOptions& o, const Plan& p) {
  std::string s;
  s += fmt::format("model    {} ({}, {:.2f}B parameters)\n", m.description, m.quant, m.params / 1e9);
  s += fmt::format("device   {}: {} RAM, {:.1f} GB/s, {} cores at {:.2f} GHz\n", d.description, gib(d.ram_bytes),
                   d.bandwidth_bytes_per_s / 1e9, d.cores, d.ghz);
  s += fmt::format("\nmemory at ctx {} ({} cache)\n", o.ctx, o.cache == CacheType::kF16 ? "f16" : "q8_0");
  s += fmt::format("  weights          {}\n", gib(p.weight_bytes));
  s += fmt::format("  KV cache         {}\n", gib(p.kv_bytes));
  s += fmt::format("  compute buffers  {}\n", gib(p.compute_bytes));
  s += fmt::format("  OS reserve       {}\n", gib(p.os_reserve_bytes));
  s += fmt::format("  total            {} of {}: {}\n", gib(p.ram_bytes), gib(d.ram_bytes),
                   p.fits ? "fits" : "does NOT fit");
  s += p.max_ctx > 0 ? fmt::format("  largest context that fits: {}\n", p.max_ctx)
                     : std::string("  the weights alone do not fit\n");
  s += "\ngeneration\n";
  s += fmt::format("  roofline         {:.1f} tok/s ({:.2f} GB read per token)\n", p.tg_roofline_tok_s,
                   double(m.bytes_read_per_token) / 1e9);
  s += fmt::format("  estimate         {:.1f} tok/s (x{:.2f} efficiency); {:.1f} tok/s with ctx {} filled\n",
                   p.tg_tok_s, d.tg_efficiency, p.tg_full_ctx_tok_s, o.ctx);
  s += fmt::format("  verdict          {}\n", p.verdict);
  s += "\nprefill\n";
  s += fmt::format("  rate             {:.1f} tok/s\n", p.pp_tok_s);
  s += fmt::format("  100-token prompt {:.1f} s\n", p.prefill_100_s);
  s += fmt::format("  1000-token prompt {:.1f} s\n", p.prefill_1k_s);
  s += fmt::format("\nenergy   {:.0f} Wh/day at {:.0f}% duty ({:.1f} W idle, {:.1f} W load)\n",
                   p.watt_hours_per_day, o.duty * 100, d.idle_watts, d.load_watts);
  return s;
}

}  // namespace hearth::plan
