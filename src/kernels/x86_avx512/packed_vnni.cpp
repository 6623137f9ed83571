// Packed Q4_0 / Q5_0 / Q8_0 GEMM with AVX512-VNNI (layout in kernels/repack.h). The hot loop
// of both decode and prefill for these formats. Per 32-element block of a 16-row group: the 16
// rows' quants are 4 (Q4_0), 5 (Q5_0) or 8 (Q8_0) 512-bit loads, each lane holding 4 quants of
// one row (Q5_0's fifth bits join the nibbles with a shift and a vpternlogd each); one
// vpdpbusd per 4 columns multiplies them with the activation's 4 int8 (broadcast) and adds to
// that row's int32 sum, so 16 row dots advance per instruction with no horizontal sums. The
// weights' offset (Q4_0 stores q, the value is q - 8; Q5_0 q - 16; Q8_0 is stored q + 128)
// comes off once per block as offset × Σ activation quants, and the 16 scales convert with
// one vcvtph2ps.
// Up to kTileActs activation rows share each unpacked block (prefill); decode is NA = 1.
// Compared with the per-row vec_dot this needs about 1/15 of the instructions per weight byte.
#include "kernels/tile.h"
#include "kernels/x86_avx2/simd_x86.h"
#include "quant/blocks.h"

namespace hearth {
namespace {

inline __m512i bcast32(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

enum class Block { kQ4_0, kQ5_0, kQ8_0 };

// Bit k of every byte of v moved to bit 4 (16-bit shifts: bit 4 of each byte then still comes
// from the same byte, for k in 0..7).
template <int K>
inline __m512i bit_to_4(__m512i v) {
  if constexpr (K <= 4) return _mm512_slli_epi16(v, 4 - K);
  else return _mm512_srli_epi16(v, K - 4);
}

template <int K>
inline void add_fifth_bits(__m512i (&w)[8], __m512i high, __m512i bit4) {
  // w | (shifted & bit4): ternary-logic truth table 0xF8.
  w[K] = _mm512_ternarylogic_epi32(w[K], bit_to_4<K>(high), bit4, 0xF8);
  if constexpr (K < 7) add_fifth_bits<K + 1>(w, high, bit4);
}

template <Block kB, int NA>
void packed_gemm(int64_t ne0, const void* packed, int64_t g0, int64_t g1, const PackedActs& acts,
                 float* y, size_t y_stride) {
  constexpr bool kNibbles = kB != Block::kQ8_0;
  constexpr int kWords = kB == Block::kQ8_0 ? 8 : kB == Block::kQ5_0 ? 5 : 4;
  constexpr size_t kUnit = 2 * kPackRows + 4 * kPackRows * kWords;
  constexpr int32_t kOffset = kB == Block::kQ8_0 ? 128 : kB == Block::kQ5_0 ? 16 : 8;
  constexpr size_t kPrefetch = 2048;
  const int64_t nb = ne0 / 32;
  const auto* base = static_cast<const uint8_t*>(packed);
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  const __m512i bit4 = _mm512_set1_epi8(0x10);
  for (int64_t g = g0; g < g1; ++g) {
    __m512 acc[NA];
    for (int a = 0; a < NA; ++a) acc[a] = _mm512_setzero_ps();
    const uint8_t* unit = base + static_cast<size_t>(g * nb) * kUnit;
    for (int64_t j = 0; j < nb; ++j, unit += kUnit) {
      // Decode streams the weights from DRAM once: ask for every line of the unit kPrefetch
      // bytes ahead (the hardware prefetcher alone left the loads waiting).
      for (size_t line = 0; line < kUnit; line += 64)
        _mm_prefetch(reinterpret_cast<const char*>(unit + kPrefetch + line), _MM_HINT_T0);
      const __m512 dw = _mm512_cvtph_ps(x86::load256(unit));
      __m512i w[8];
      if constexpr (kNibbles) {
        for (int i = 0; i < 4; ++i) {
          const __m512i v = _mm512_loadu_si512(unit + 32 + 64 * i);
          w[i] = _mm512_and_si512(v, low4);
          w[4 + i] = _mm512_and_si512(_mm512_srli_epi16(v, 4), low4);
        }
        if constexpr (kB == Block::kQ5_0)
          add_fifth_bits<0>(w, _mm512_loadu_si512(unit + 32 + 64 * 4), bit4);
      } else {
        for (int i = 0; i < 8; ++i) w[i] = _mm512_loadu_si512(unit + 32 + 64 * i);
      }
      for (int a = 0; a < NA; ++a) {
        const auto* blk = reinterpret_cast<const BlockQ8_0*>(acts.q + a * acts.q_stride) + j;
        // Q4_0 word i holds columns 4i..4i+3 (low nibbles) and 16+4i.. (high): w[4 + i].
        // Two dependency chains of four (vpdpbusd latency 5) instead of one of eight.
        __m512i even = _mm512_setzero_si512(), odd = _mm512_setzero_si512();
        for (int i = 0; i < 8; i += 2) {
          even = _mm512_dpbusd_epi32(even, w[i], bcast32(blk->qs + 4 * i));
          odd = _mm512_dpbusd_epi32(odd, w[i + 1], bcast32(blk->qs + 4 * i + 4));
        }
        __m512i isum = _mm512_add_epi32(even, odd);
        const int32_t s = acts.sums[a * acts.sums_stride + j];
        isum = _mm512_sub_epi32(isum, _mm512_set1_epi32(kOffset * s));
        const __m512 d = _mm512_mul_ps(dw, _mm512_set1_ps(x86::half_to_f32(blk->d)));
        acc[a] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), d, acc[a]);
      }
    }
    for (int a = 0; a < NA; ++a) _mm512_storeu_ps(y + a * y_stride + 16 * g, acc[a]);
  }
}

template <Block kB>
void packed_gemm_n(int64_t ne0, const void* packed, int64_t g0, int64_t g1, const PackedActs& acts,
                   float* y, size_t y_stride) {
  switch (acts.n) {
    case 1: return packed_gemm<kB, 1>(ne0, packed, g0, g1, acts, y, y_stride);
    case 2: return packed_gemm<kB, 2>(ne0, packed, g0, g1, acts, y, y_stride);
    case 3: return packed_gemm<kB, 3>(ne0, packed, g0, g1, acts, y, y_stride);
    default: return packed_gemm<kB, 4>(ne0, packed, g0, g1, acts, y, y_stride);
  }
}

}  // namespace

void fill_packed_avx512_vnni(TileKernels& t) {
  t.packed_of(GgmlType::Q4_0) = packed_gemm_n<Block::kQ4_0>;
  t.packed_of(GgmlType::Q5_0) = packed_gemm_n<Block::kQ5_0>;
  t.packed_of(GgmlType::Q8_0) = packed_gemm_n<Block::kQ8_0>;
}

}  // namespace hearth
