// The 32-element block formats (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL), one template per
// format over the int8-dot policy: Avx2Dot (maddubs + madd, Haswell and later) or VnniDot
// (one vpdpbusd, Ice Lake / Zen 4). A block is one 256-bit vector of 32 weights; its int32
// dot is converted to float and scaled by d_w d_a with one FMA into 8 lanes. Two independent
// accumulators cover FMA latency (4 cycles) against a loop body of about 8 cycles.
//
// Signed formats become int8 first (q - 8, q - 16, codebook lookup) and go through the sign
// trick; Q4_1/Q5_1 stay unsigned (0..31), which is what the u8 × s8 instruction wants, and
// their offset m is added per block as m · s (s = d_a Σ q_a, stored in the Q8_1 block).
#pragma once

#include <cstddef>

#include "kernels/x86_avx2/simd_x86.h"
#include "quant/blocks.h"

namespace hearth::x86 {
namespace {

// Weights of one block as 32 int8 (signed formats) in element order.
inline __m256i q4_0_values(const BlockQ4_0& b) {
  return _mm256_sub_epi8(nibbles32(b.qs), _mm256_set1_epi8(8));
}
// q | h << 4, minus 16: where h is clear, nibble | 0xF0 is that value as int8 already.
inline __m256i q5_0_values(const BlockQ5_0& b) {
  const __m256i high_clear = _mm256_andnot_si256(bits32_to_mask(b.qh), _mm256_set1_epi8(-16));
  return _mm256_or_si256(nibbles32(b.qs), high_clear);
}
inline __m256i q8_0_values(const BlockQ8_0& b) { return load256(b.qs); }
inline __m256i iq4_nl_values(const BlockIQ4_NL& b) {
  const __m256i table = _mm256_broadcastsi128_si256(load128(kIQ4NLValues));
  return _mm256_shuffle_epi8(table, nibbles32(b.qs));
}
// Unsigned 0..15 / 0..31.
inline __m256i q4_1_values(const BlockQ4_1& b) { return nibbles32(b.qs); }
inline __m256i q5_1_values(const BlockQ5_1& b) {
  const __m256i high = _mm256_and_si256(bits32_to_mask(b.qh), _mm256_set1_epi8(16));
  return _mm256_or_si256(nibbles32(b.qs), high);
}

// Σ_b d_w d_a Σ q_w q_a for signed weights and Q8_0 activations, for one weight row and NA
// activation rows (activation row a at act + a * act_stride). The weight block is unpacked
// once per NA rows; every row keeps its own two accumulators, so each result is exactly the
// NA = 1 result (the vec_dot).
template <class Dot, class Block, __m256i (*Values)(const Block&), int NA>
void tile_signed_q8_0(int64_t n, const void* w, const void* act, size_t act_stride, float* out,
                      size_t out_stride) {
  const auto* x = static_cast<const Block*>(w);
  const BlockQ8_0* y[NA];
  __m256 acc0[NA], acc1[NA];
  for (int a = 0; a < NA; ++a) {
    y[a] = reinterpret_cast<const BlockQ8_0*>(static_cast<const uint8_t*>(act) + a * act_stride);
    acc0[a] = _mm256_setzero_ps();
    acc1[a] = _mm256_setzero_ps();
  }
  const int64_t nb = n / 32;
  int64_t i = 0;
  for (; i + 1 < nb; i += 2) {
    prefetch_weights(x + i, 2 * sizeof(Block));
    const __m256i v0 = Values(x[i]), v1 = Values(x[i + 1]);
    const __m256i u0 = _mm256_sign_epi8(v0, v0), u1 = _mm256_sign_epi8(v1, v1);
    const float d0 = half_to_f32(x[i].d), d1 = half_to_f32(x[i + 1].d);
    for (int a = 0; a < NA; ++a) {
      const __m256i p0 = Dot::u8s8(u0, _mm256_sign_epi8(load256(y[a][i].qs), v0));
      const __m256i p1 = Dot::u8s8(u1, _mm256_sign_epi8(load256(y[a][i + 1].qs), v1));
      acc0[a] = _mm256_fmadd_ps(_mm256_set1_ps(d0 * half_to_f32(y[a][i].d)),
                                _mm256_cvtepi32_ps(p0), acc0[a]);
      acc1[a] = _mm256_fmadd_ps(_mm256_set1_ps(d1 * half_to_f32(y[a][i + 1].d)),
                                _mm256_cvtepi32_ps(p1), acc1[a]);
    }
  }
  if (i < nb) {
    const __m256i v0 = Values(x[i]);
    const __m256i u0 = _mm256_sign_epi8(v0, v0);
    const float d0 = half_to_f32(x[i].d);
    for (int a = 0; a < NA; ++a) {
      const __m256i p0 = Dot::u8s8(u0, _mm256_sign_epi8(load256(y[a][i].qs), v0));
      acc0[a] = _mm256_fmadd_ps(_mm256_set1_ps(d0 * half_to_f32(y[a][i].d)),
                                _mm256_cvtepi32_ps(p0), acc0[a]);
    }
  }
  for (int a = 0; a < NA; ++a) out[a * out_stride] = hsum(_mm256_add_ps(acc0[a], acc1[a]));
}

template <class Dot, class Block, __m256i (*Values)(const Block&)>
float dot_signed_q8_0(int64_t n, const void* w, const void* act) {
  float out;
  tile_signed_q8_0<Dot, Block, Values, 1>(n, w, act, 0, &out, 0);
  return out;
}

// TileDotFn over the NA instances above.
template <class Dot, class Block, __m256i (*Values)(const Block&)>
void tile_dot_signed_q8_0(int64_t n, const void* w, const void* act, size_t act_stride, int n_act,
                          float* out, size_t out_stride) {
  switch (n_act) {
    case 1: return tile_signed_q8_0<Dot, Block, Values, 1>(n, w, act, act_stride, out, out_stride);
    case 2: return tile_signed_q8_0<Dot, Block, Values, 2>(n, w, act, act_stride, out, out_stride);
    case 3: return tile_signed_q8_0<Dot, Block, Values, 3>(n, w, act, act_stride, out, out_stride);
    default: return tile_signed_q8_0<Dot, Block, Values, 4>(n, w, act, act_stride, out, out_stride);
  }
}

// Σ_b (d_w d_a Σ q_w q_a + m s) for unsigned weights with an offset and Q8_1 activations.
template <class Dot, class Block, __m256i (*Values)(const Block&)>
float dot_offset_q8_1(int64_t n, const void* w, const void* act) {
  const auto* x = static_cast<const Block*>(w);
  const auto* y = static_cast<const BlockQ8_1*>(act);
  const int64_t nb = n / 32;
  __m256 acc = _mm256_setzero_ps();
  float offsets = 0.0f;
  for (int64_t i = 0; i < nb; ++i) {
    prefetch_weights(x + i, sizeof(Block));
    const __m256i p = Dot::u8s8(Values(x[i]), load256(y[i].qs));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(half_to_f32(x[i].d) * half_to_f32(y[i].d)),
                          _mm256_cvtepi32_ps(p), acc);
    offsets += half_to_f32(x[i].m) * half_to_f32(y[i].s);
  }
  return hsum(acc) + offsets;
}

template <class Dot>
struct LegacyKernels {
  static constexpr auto q4_0 = &dot_signed_q8_0<Dot, BlockQ4_0, q4_0_values>;
  static constexpr auto q5_0 = &dot_signed_q8_0<Dot, BlockQ5_0, q5_0_values>;
  static constexpr auto q8_0 = &dot_signed_q8_0<Dot, BlockQ8_0, q8_0_values>;
  static constexpr auto iq4_nl = &dot_signed_q8_0<Dot, BlockIQ4_NL, iq4_nl_values>;
  static constexpr auto q4_1 = &dot_offset_q8_1<Dot, BlockQ4_1, q4_1_values>;
  static constexpr auto q5_1 = &dot_offset_q8_1<Dot, BlockQ5_1, q5_1_values>;
  static constexpr auto tile_q4_0 = &tile_dot_signed_q8_0<Dot, BlockQ4_0, q4_0_values>;
  static constexpr auto tile_q5_0 = &tile_dot_signed_q8_0<Dot, BlockQ5_0, q5_0_values>;
  static constexpr auto tile_q8_0 = &tile_dot_signed_q8_0<Dot, BlockQ8_0, q8_0_values>;
  static constexpr auto tile_iq4_nl = &tile_dot_signed_q8_0<Dot, BlockIQ4_NL, iq4_nl_values>;
};

}  // namespace
}  // namespace hearth::x86
