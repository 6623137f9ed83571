// Rotary position embedding (RoPE). A head vector's first n_rot dimensions are taken as n_rot/2
// pairs; pair i at position p is rotated by theta = p * freq_scale * base^(-2i/n_rot) / factor_i.
// Which dimensions form a pair is the one convention that differs between model families.
#pragma once

#include <cstdint>

namespace hearth {

enum class RopeType {
  kNormal,  // adjacent pairs (x[2i], x[2i+1]): llama, mistral (ggml mode 0)
  kNeox,    // halves (x[i], x[i + n_rot/2]): qwen2, phi3, stablelm (GPT-NeoX, ggml mode 2)
};

struct RopeParams {
  RopeType type = RopeType::kNormal;
  int64_t n_rot = 0;              // rotated dimensions per head (<= head_dim: partial rotary)
  float freq_base = 10000.0f;
  float freq_scale = 1.0f;        // linear position interpolation
  float attn_factor = 1.0f;       // scales cos and sin (LongRoPE's attention factor)
  const float* freq_factors = nullptr;  // (n_rot/2) divisors, or null
};

// cos/sin of every (position, pair): each (n_tokens, n_rot/2).
void rope_cache(const RopeParams& p, const int32_t* positions, int64_t n_tokens, float* cos_out,
                float* sin_out);

// Rotates n_heads heads of head_dim floats in each of n_tokens rows (row r starts at
// x + r * row_stride, head h at + h * head_dim), in place.
void rope_apply(const RopeParams& p, const float* cos_table, const float* sin_table, float* x,
                int64_t n_tokens, int64_t row_stride, int64_t n_heads, int64_t head_dim);

}  // namespace hearth
