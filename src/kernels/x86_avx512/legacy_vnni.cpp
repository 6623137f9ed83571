// AVX512-VNNI instantiation of the 32-element block kernels (x86_avx2/legacy_kernels.h):
// vpdpbusd does the u8 × s8 products, the sums of four and the int32 accumulate in one
// instruction, replacing vpmaddubsw + vpmaddwd (and their 16-bit saturation). 256-bit
// (AVX512-VL encoding): one 32-element block per register. A two-blocks-per-zmm version was
// measured 10-20% slower than AVX2 on this machine's Xeon — joining two blocks' halves and
// their two scales costs shuffles on port 5 that the wider multiply does not win back — so it
// was dropped (docs/kernels.md). Called only when the CPU reports avx512vnni (Ice Lake,
// Sapphire Rapids, Zen 4); this file alone is compiled with -mavx512vnni.
#include "kernels/x86_avx2/legacy_kernels.h"
#include "kernels/tile.h"
#include "kernels/x86_avx512/avx512_kernels.h"

namespace hearth {
namespace x86 {
namespace {

struct Vnni256Dot {
  static __m256i u8s8(__m256i u, __m256i s) { return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s); }
};

}  // namespace
}  // namespace x86

void fill_avx512_legacy_vnni(KernelTable& t) {
  using K = x86::LegacyKernels<x86::Vnni256Dot>;
  t.of(GgmlType::Q4_0).vec_dot = K::q4_0;
  t.of(GgmlType::Q5_0).vec_dot = K::q5_0;
  t.of(GgmlType::Q8_0).vec_dot = K::q8_0;
  t.of(GgmlType::IQ4_NL).vec_dot = K::iq4_nl;
  t.of(GgmlType::Q4_1).vec_dot = K::q4_1;
  t.of(GgmlType::Q5_1).vec_dot = K::q5_1;
}

void fill_tiles_avx512(TileKernels& t) {
  using K = x86::LegacyKernels<x86::Vnni256Dot>;
  t.of(GgmlType::Q4_0) = K::tile_q4_0;
  t.of(GgmlType::Q5_0) = K::tile_q5_0;
  t.of(GgmlType::Q8_0) = K::tile_q8_0;
  t.of(GgmlType::IQ4_NL) = K::tile_iq4_nl;
  fill_packed_avx512_vnni(t);
  fill_packed_avx512_kquants(t);
}

}  // namespace hearth
