// Packed Q4_K / Q5_K / Q6_K GEMM with AVX512-VNNI (layout in kernels/repack_kquants.h), for
// decode and prefill alike. Per 32-element sub-block of a 16-row group, the rows' quants are
// rebuilt as bytes in 8 registers (4 loads of nibbles, plus one or two planes of high bits
// merged with a shift and a vpternlog), and each activation row costs 8 vpdpbusd advancing
// 16 row dots at once. The per-row scales are one widening load per sub-block, applied in
// float to the int32 sums; the mins (Q4_K, Q5_K) are 4 vpdpwssd per superblock against the
// activations' per-32 sums, and Q6_K's −32 offset starts each sum at −32 × the activations'
// per-16 sum, so it costs nothing. Up to kTileActs activation rows share each rebuilt block.
#include "kernels/repack_kquants.h"
#include "kernels/tile.h"
#include "kernels/x86_avx2/simd_x86.h"
#include "quant/blocks.h"

namespace hearth {
namespace {

inline __m512i bcast32(const void* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

// Bits 4.. of element word k's bytes from a Q5_K plane (bit k of each byte) or a Q6_K plane
// (bits 2t..2t+1): shift them to bit 4 and keep `mask`. The 16-bit shifts never carry a
// wanted bit across a byte (the shift is at most 4 and the mask drops the rest).
template <int kShiftLeft>
inline __m512i high_bits(__m512i plane, __m512i mask, __m512i low) {
  const __m512i moved = kShiftLeft >= 0 ? _mm512_slli_epi16(plane, kShiftLeft)
                                        : _mm512_srli_epi16(plane, -kShiftLeft);
  return _mm512_ternarylogic_epi32(low, moved, mask, 0xF8);  // low | (moved & mask)
}

// The 8 words of sub-block `sub` as unsigned bytes, word k = elements 4k..4k+3 of each row.
template <GgmlType kType>
inline void rebuild(const uint8_t* sub, __m512i w[8]) {
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  for (int i = 0; i < 4; ++i) {
    const __m512i v = _mm512_loadu_si512(sub + 64 * i);
    w[i] = _mm512_and_si512(v, low4);
    w[4 + i] = _mm512_and_si512(_mm512_srli_epi16(v, 4), low4);
  }
  if constexpr (kType == GgmlType::Q5_K) {
    const __m512i hi = _mm512_loadu_si512(sub + 256);
    const __m512i bit4 = _mm512_set1_epi8(0x10);
    w[0] = high_bits<4>(hi, bit4, w[0]);
    w[1] = high_bits<3>(hi, bit4, w[1]);
    w[2] = high_bits<2>(hi, bit4, w[2]);
    w[3] = high_bits<1>(hi, bit4, w[3]);
    w[4] = high_bits<0>(hi, bit4, w[4]);
    w[5] = high_bits<-1>(hi, bit4, w[5]);
    w[6] = high_bits<-2>(hi, bit4, w[6]);
    w[7] = high_bits<-3>(hi, bit4, w[7]);
  } else if constexpr (kType == GgmlType::Q6_K) {
    const __m512i p0 = _mm512_loadu_si512(sub + 256);
    const __m512i p1 = _mm512_loadu_si512(sub + 320);
    const __m512i bits45 = _mm512_set1_epi8(0x30);
    w[0] = high_bits<4>(p0, bits45, w[0]);
    w[1] = high_bits<2>(p0, bits45, w[1]);
    w[2] = high_bits<0>(p0, bits45, w[2]);
    w[3] = high_bits<-2>(p0, bits45, w[3]);
    w[4] = high_bits<4>(p1, bits45, w[4]);
    w[5] = high_bits<2>(p1, bits45, w[5]);
    w[6] = high_bits<0>(p1, bits45, w[6]);
    w[7] = high_bits<-2>(p1, bits45, w[7]);
  }
}

template <GgmlType kType, int NA>
void packed_kquant(int64_t ne0, const void* packed, int64_t g0, int64_t g1,
                   const PackedActs& acts, float* y, size_t y_stride) {
  constexpr kpack::Layout kL = kpack::layout(kType);
  constexpr bool kQ6 = kType == GgmlType::Q6_K;
  const int64_t nb = ne0 / kQK_K;
  const auto* base = static_cast<const uint8_t*>(packed);
  for (int64_t g = g0; g < g1; ++g) {
    __m512 total[NA];
    for (int a = 0; a < NA; ++a) total[a] = _mm512_setzero_ps();
    const uint8_t* unit = base + static_cast<size_t>(g * nb) * kL.unit;
    for (int64_t j = 0; j < nb; ++j, unit += kL.unit) {
      // Decode streams the weights once from DRAM (see x86::prefetch_weights).
      x86::prefetch_weights(unit, kL.unit);
      const BlockQ8_K* blk[NA];
      for (int a = 0; a < NA; ++a)
        blk[a] = reinterpret_cast<const BlockQ8_K*>(acts.q + a * acts.q_stride) + j;
      __m512 acc[NA];
      for (int a = 0; a < NA; ++a) acc[a] = _mm512_setzero_ps();
      for (int s = 0; s < 8; ++s) {
        __m512i w[8];
        rebuild<kType>(unit + kL.quants + s * kL.sub, w);
        if constexpr (kQ6) {
          // Scales of the sub-block's two halves, as int16 pairs per row: low = first half.
          const __m512i pairs = _mm512_cvtepi8_epi16(x86::load256(unit + kL.scales + 32 * s));
          const __m512 sc0 = _mm512_cvtepi32_ps(_mm512_srai_epi32(_mm512_slli_epi32(pairs, 16), 16));
          const __m512 sc1 = _mm512_cvtepi32_ps(_mm512_srai_epi32(pairs, 16));
          for (int a = 0; a < NA; ++a) {
            const int8_t* q = blk[a]->qs + 32 * s;
            __m512i h0 = _mm512_set1_epi32(-32 * blk[a]->bsums[2 * s]);
            __m512i h1 = _mm512_set1_epi32(-32 * blk[a]->bsums[2 * s + 1]);
            for (int k = 0; k < 4; ++k) {
              h0 = _mm512_dpbusd_epi32(h0, w[k], bcast32(q + 4 * k));
              h1 = _mm512_dpbusd_epi32(h1, w[4 + k], bcast32(q + 16 + 4 * k));
            }
            acc[a] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(h0), sc0, acc[a]);
            acc[a] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(h1), sc1, acc[a]);
          }
        } else {
          const __m512 sc =
              _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(x86::load128(unit + kL.scales + 16 * s)));
          for (int a = 0; a < NA; ++a) {
            const int8_t* q = blk[a]->qs + 32 * s;
            // Two dependency chains of four (vpdpbusd latency 5) instead of one of eight.
            __m512i even = _mm512_setzero_si512(), odd = _mm512_setzero_si512();
            for (int k = 0; k < 8; k += 2) {
              even = _mm512_dpbusd_epi32(even, w[k], bcast32(q + 4 * k));
              odd = _mm512_dpbusd_epi32(odd, w[k + 1], bcast32(q + 4 * k + 4));
            }
            acc[a] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(even, odd)), sc, acc[a]);
          }
        }
      }
      const __m512 d = _mm512_cvtph_ps(x86::load256(unit + kL.d));
      if constexpr (kQ6) {
        for (int a = 0; a < NA; ++a)
          total[a] = _mm512_fmadd_ps(acc[a], _mm512_mul_ps(d, _mm512_set1_ps(blk[a]->d)), total[a]);
      } else {
        const __m512 dmin = _mm512_cvtph_ps(x86::load256(unit + kL.dmin));
        __m512i mins[4];
        for (int p = 0; p < 4; ++p)
          mins[p] = _mm512_cvtepu8_epi16(x86::load256(unit + kL.mins + 32 * p));
        for (int a = 0; a < NA; ++a) {
          const int32_t* sums = acts.sums + a * acts.sums_stride + 4 * j;
          __m512i m = _mm512_setzero_si512();
          for (int p = 0; p < 4; ++p) m = _mm512_dpwssd_epi32(m, mins[p], _mm512_set1_epi32(sums[p]));
          const __m512 da = _mm512_set1_ps(blk[a]->d);
          total[a] = _mm512_fmadd_ps(acc[a], _mm512_mul_ps(d, da), total[a]);
          total[a] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(m), _mm512_mul_ps(dmin, da), total[a]);
        }
      }
    }
    for (int a = 0; a < NA; ++a) _mm512_storeu_ps(y + a * y_stride + kPackRows * g, total[a]);
  }
}

template <GgmlType kType>
void packed_kquant_n(int64_t ne0, const void* packed, int64_t g0, int64_t g1,
                     const PackedActs& acts, float* y, size_t y_stride) {
  switch (acts.n) {
    case 1: return packed_kquant<kType, 1>(ne0, packed, g0, g1, acts, y, y_stride);
    case 2: return packed_kquant<kType, 2>(ne0, packed, g0, g1, acts, y, y_stride);
    case 3: return packed_kquant<kType, 3>(ne0, packed, g0, g1, acts, y, y_stride);
    default: return packed_kquant<kType, 4>(ne0, packed, g0, g1, acts, y, y_stride);
  }
}

}  // namespace

void fill_packed_avx512_kquants(TileKernels& t) {
  t.packed_of(GgmlType::Q4_K) = packed_kquant_n<GgmlType::Q4_K>;
  t.packed_of(GgmlType::Q5_K) = packed_kquant_n<GgmlType::Q5_K>;
  t.packed_of(GgmlType::Q6_K) = packed_kquant_n<GgmlType::Q6_K>;
}

}  // namespace hearth
