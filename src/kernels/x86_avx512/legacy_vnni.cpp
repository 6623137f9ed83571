// AVX512-VNNI instantiation of the 32-element block kernels: vpdpbusd does the u8 × s8
// products, the sums of four and the int32 accumulate in one instruction, replacing
// vpmaddubsw + vpmaddwd (and their 16-bit saturation). Called only when the CPU reports
// avx512vnni (Ice Lake, Sapphire Rapids, Zen 4); this file alone is compiled with -mavx512vnni.
#include "kernels/x86_avx512/avx512_kernels.h"
#include "kernels/x86_avx512/legacy512_kernels.h"

namespace hearth {
namespace x86 {
namespace {

struct Vnni512Dot {
  static __m512i u8s8(__m512i u, __m512i s) { return _mm512_dpbusd_epi32(_mm512_setzero_si512(), u, s); }
};
struct Vnni256Dot {
  static __m256i u8s8(__m256i u, __m256i s) { return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s); }
};

}  // namespace
}  // namespace x86

void fill_avx512_legacy_vnni(KernelTable& t) {
  using K = x86::Legacy512Kernels<x86::Vnni512Dot, x86::Vnni256Dot>;
  t.of(GgmlType::Q4_0).vec_dot = K::q4_0;
  t.of(GgmlType::Q5_0).vec_dot = K::q5_0;
  t.of(GgmlType::Q8_0).vec_dot = K::q8_0;
  t.of(GgmlType::IQ4_NL).vec_dot = K::iq4_nl;
  t.of(GgmlType::Q4_1).vec_dot = K::q4_1;
  t.of(GgmlType::Q5_1).vec_dot = K::q5_1;
}

}  // namespace hearth
