// The AVX-512 level (Skylake-X and later Xeons, Ice Lake, Sapphire Rapids, Zen 4): starts from
// the AVX2 table and replaces the float dots (16 lanes, masked tails) and, where the CPU has
// AVX512-VNNI, the int8 dot of the 32-element block formats (vpdpbusd). The K-quants and
// IQ4_XS keep their AVX2 kernels: their scales are applied with vpmaddwd on 16-bit pair sums,
// which vpdpbusd cannot fold in. Measurements and the variants tried in docs/kernels.md.
#include "kernels/x86_avx512/avx512_kernels.h"

namespace hearth {

void fill_kernels_avx512(KernelTable& t) {
  fill_avx512_float(t);
  if (__builtin_cpu_supports("avx512vnni")) fill_avx512_legacy_vnni(t);
}

}  // namespace hearth
