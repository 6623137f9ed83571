// The 32-element block formats at 512 bits: two blocks per register, so one int8 dot, one
// int32->float conversion and one FMA serve 64 weights. The int8 dot is a policy: Bw512Dot
// (vpmaddubsw + vpmaddwd, any AVX-512BW core: Skylake-X) or Vnni512Dot (one vpdpbusd: Ice Lake,
// Sapphire Rapids, Zen 4). Per-block weight unpacking reuses the 256-bit functions of
// x86_avx2/legacy_kernels.h (recompiled here with EVEX encodings); the two halves are joined
// with one vinserti64x4. AVX-512 has no vpsignb, so the sign trick becomes |x| (vpabsb) and
// y negated under the mask of x's sign bits (vpmovb2m + masked vpsubb). An odd last block
// takes the 256-bit path.
#pragma once

#include "kernels/x86_avx2/legacy_kernels.h"

namespace hearth::x86 {
namespace {

struct Bw512Dot {
  static __m512i u8s8(__m512i u, __m512i s) {
    return _mm512_madd_epi16(_mm512_maddubs_epi16(u, s), _mm512_set1_epi16(1));
  }
};

template <class Dot>
inline __m512i dot512_s8s8(__m512i x, __m512i y) {
  const __m512i y_signed = _mm512_mask_sub_epi8(y, _mm512_movepi8_mask(x), _mm512_setzero_si512(), y);
  return Dot::u8s8(_mm512_abs_epi8(x), y_signed);
}

inline __m512i join(__m256i lo, __m256i hi) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}
inline __m512 join_scales(float lo, float hi) {
  return _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_set1_ps(lo)), _mm256_set1_ps(hi), 1);
}

template <class Dot, class Dot256, class Block, __m256i (*Values)(const Block&)>
float dot512_signed_q8_0(int64_t n, const void* w, const void* act) {
  const auto* x = static_cast<const Block*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(act);
  const int64_t nb = n / 32;
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  auto pair = [&](int64_t i, __m512& acc) {
    const __m512i p = dot512_s8s8<Dot>(join(Values(x[i]), Values(x[i + 1])),
                                       join(load256(y[i].qs), load256(y[i + 1].qs)));
    const __m512 d = join_scales(half_to_f32(x[i].d) * half_to_f32(y[i].d),
                                 half_to_f32(x[i + 1].d) * half_to_f32(y[i + 1].d));
    acc = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(p), acc);
  };
  int64_t i = 0;
  for (; i + 3 < nb; i += 4) {
    pair(i, acc0);
    pair(i + 2, acc1);
  }
  if (i + 1 < nb) {
    pair(i, acc0);
    i += 2;
  }
  float sum = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
  if (i < nb) {
    const __m256i p = dot_s8s8<Dot256>(Values(x[i]), load256(y[i].qs));
    sum += half_to_f32(x[i].d) * half_to_f32(y[i].d) * static_cast<float>(hsum(p));
  }
  return sum;
}

template <class Dot, class Dot256, class Block, __m256i (*Values)(const Block&)>
float dot512_offset_q8_1(int64_t n, const void* w, const void* act) {
  const auto* x = static_cast<const Block*>(w);
  const auto* y = static_cast<const BlockQ8_1*>(act);
  const int64_t nb = n / 32;
  __m512 acc = _mm512_setzero_ps();
  float offsets = 0.0f;
  int64_t i = 0;
  for (; i + 1 < nb; i += 2) {
    const __m512i p = Dot::u8s8(join(Values(x[i]), Values(x[i + 1])),
                                join(load256(y[i].qs), load256(y[i + 1].qs)));
    const __m512 d = join_scales(half_to_f32(x[i].d) * half_to_f32(y[i].d),
                                 half_to_f32(x[i + 1].d) * half_to_f32(y[i + 1].d));
    acc = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(p), acc);
    offsets += half_to_f32(x[i].m) * half_to_f32(y[i].s) + half_to_f32(x[i + 1].m) * half_to_f32(y[i + 1].s);
  }
  float sum = _mm512_reduce_add_ps(acc) + offsets;
  if (i < nb) {
    const __m256i p = Dot256::u8s8(Values(x[i]), load256(y[i].qs));
    sum += half_to_f32(x[i].d) * half_to_f32(y[i].d) * static_cast<float>(hsum(p)) +
           half_to_f32(x[i].m) * half_to_f32(y[i].s);
  }
  return sum;
}

template <class Dot, class Dot256>
struct Legacy512Kernels {
  static constexpr auto q4_0 = &dot512_signed_q8_0<Dot, Dot256, BlockQ4_0, q4_0_values>;
  static constexpr auto q5_0 = &dot512_signed_q8_0<Dot, Dot256, BlockQ5_0, q5_0_values>;
  static constexpr auto q8_0 = &dot512_signed_q8_0<Dot, Dot256, BlockQ8_0, q8_0_values>;
  static constexpr auto iq4_nl = &dot512_signed_q8_0<Dot, Dot256, BlockIQ4_NL, iq4_nl_values>;
  static constexpr auto q4_1 = &dot512_offset_q8_1<Dot, Dot256, BlockQ4_1, q4_1_values>;
  static constexpr auto q5_1 = &dot512_offset_q8_1<Dot, Dot256, BlockQ5_1, q5_1_values>;
};

}  // namespace
}  // namespace hearth::x86
