// AVX2 tile kernels (kernels/tile.h): the 32-element signed formats from legacy_kernels.h, the
// K-quants from kquants_avx2.cpp and the float formats from float_avx2.cpp, each the multi-row
// form of this level's vec_dot.
#include "kernels/tile.h"
#include "kernels/x86_avx2/legacy_kernels.h"

namespace hearth {

void fill_tiles_avx2(TileKernels& t) {
  using K = x86::LegacyKernels<x86::Avx2Dot>;
  t.of(GgmlType::Q4_0) = K::tile_q4_0;
  t.of(GgmlType::Q5_0) = K::tile_q5_0;
  t.of(GgmlType::Q8_0) = K::tile_q8_0;
  t.of(GgmlType::IQ4_NL) = K::tile_iq4_nl;
  fill_tiles_avx2_kquants(t);
  fill_tiles_avx2_float(t);
}

}  // namespace hearth
