// Tile-kernel tables per ISA level (see tile.h). Like dispatch.cpp, the only place that knows
// which ISA folders carry tile kernels; arm64 levels have none yet and use the vec_dot fallback.
#include "kernels/tile.h"

namespace hearth {
namespace {

TileKernels build_tiles([[maybe_unused]] Isa isa) {
  TileKernels t;
#if defined(__x86_64__)
  if (isa == Isa::kAvx2 || isa == Isa::kAvx512) fill_tiles_avx2(t);
  // This level's float vec_dots are the 512-bit ones, so its tiles must be too.
  if (isa == Isa::kAvx512) fill_tiles_avx512_float(t);
  if (isa == Isa::kAvx512 && __builtin_cpu_supports("avx512vnni")) fill_tiles_avx512(t);
#endif
  return t;
}

}  // namespace

const TileKernels& tile_kernels(Isa isa) {
  static const TileKernels tables[] = {build_tiles(Isa::kScalar), build_tiles(Isa::kAvx2),
                                       build_tiles(Isa::kAvx512), build_tiles(Isa::kNeon),
                                       build_tiles(Isa::kDotprod)};
  return tables[static_cast<int>(isa)];
}

}  // namespace hearth
