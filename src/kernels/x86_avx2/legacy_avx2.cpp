// AVX2 instantiation of the 32-element block kernels (design note in legacy_kernels.h).
#include "kernels/x86_avx2/avx2_kernels.h"
#include "kernels/x86_avx2/legacy_kernels.h"

namespace hearth {

void fill_avx2_legacy(KernelTable& t) {
  using K = x86::LegacyKernels<x86::Avx2Dot>;
  t.of(GgmlType::Q4_0).vec_dot = K::q4_0;
  t.of(GgmlType::Q5_0).vec_dot = K::q5_0;
  t.of(GgmlType::Q8_0).vec_dot = K::q8_0;
  t.of(GgmlType::IQ4_NL).vec_dot = K::iq4_nl;
  t.of(GgmlType::Q4_1).vec_dot = K::q4_1;
  t.of(GgmlType::Q5_1).vec_dot = K::q5_1;
}

}  // namespace hearth
