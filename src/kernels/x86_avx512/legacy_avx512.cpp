// AVX-512BW instantiation of the two-blocks-per-register kernels (design in legacy512_kernels.h).
#include "kernels/x86_avx512/avx512_kernels.h"
#include "kernels/x86_avx512/legacy512_kernels.h"

namespace hearth {

void fill_avx512_legacy(KernelTable& t) {
  using K = x86::Legacy512Kernels<x86::Bw512Dot, x86::Avx2Dot>;
  t.of(GgmlType::Q4_0).vec_dot = K::q4_0;
  t.of(GgmlType::Q5_0).vec_dot = K::q5_0;
  t.of(GgmlType::Q8_0).vec_dot = K::q8_0;
  t.of(GgmlType::IQ4_NL).vec_dot = K::iq4_nl;
  t.of(GgmlType::Q4_1).vec_dot = K::q4_1;
  t.of(GgmlType::Q5_1).vec_dot = K::q5_1;
}

}  // namespace hearth
