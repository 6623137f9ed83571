// Tile kernels for prefill: one weight row dotted with up to kTileActs activation rows in a
// single pass, so a weight block is loaded and unpacked (nibbles split, scales decoded, fifth
// and sixth bits merged) once and used for several tokens. In a batched matmul this unpacking
// is most of the work per multiply, so sharing it over 4 activation rows is where prefill gains.
//
// Each result is bit-identical with the same ISA's vec_dot for that pair: a tile kernel keeps
// one accumulator set per activation row and performs exactly the per-pair operations of the
// vec_dot, in the same order (the AVX2 vec_dots are the one-row instances of the same
// templates). Prefill and token-by-token decoding therefore give the same logits.
//
// A separate table from KernelTable, chosen by the same Isa: a format or ISA without a tile
// kernel (null) falls back to vec_dot per pair in ops/matmul.cpp, which is always correct.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "kernels/kernels.h"

namespace hearth {

inline constexpr int kTileActs = 4;  // activation rows per tile call (the register budget)

// y[a * y_stride] = dot(weight row w, activation row a) for a in [0, n_act), 1 <= n_act <=
// kTileActs; activation row a starts at act + a * act_stride bytes (in the format's act_type).
using TileDotFn = void (*)(int64_t n, const void* w, const void* act, size_t act_stride, int n_act,
                           float* y, size_t y_stride);

// Packed weights (kernels/repack.h): rows interleaved kPackRows at a time, so one 512-bit
// load holds 4 quants of each of 16 rows and one vpdpbusd advances 16 row dots at once. The
// activations come with the int32 sum of each 32-element block of int8 quants, which turns
// the weights' offset (Q4_0: q - 8; Q5_0: q - 16; Q8_0 stored as q + 128, unsigned) into one
// subtraction.
inline constexpr int kPackRows = 16;

struct PackedActs {
  const uint8_t* q = nullptr;     // n rows of quantised activations (Q8_0; Q8_K for K-quants)
  size_t q_stride = 0;            // bytes from one row to the next
  // Per row: Q8_0, the sum of each 32-quant block; Q8_K, kpack::pair_sums
  // (kernels/repack_kquants.h), 4 per superblock.
  const int32_t* sums = nullptr;
  size_t sums_stride = 0;         // int32s from one row to the next
  int n = 0;                      // rows, 1..kTileActs
};

// For row groups [g0, g1) of a packed matrix (ne0 columns): y[a * y_stride + 16 g + r] =
// dot(row 16 g + r, activation row a).
using PackedGemmFn = void (*)(int64_t ne0, const void* packed, int64_t g0, int64_t g1,
                              const PackedActs& acts, float* y, size_t y_stride);

struct TileKernels {
  std::array<TileDotFn, kGgmlTypeIdLimit> dot{};
  std::array<PackedGemmFn, kGgmlTypeIdLimit> packed{};  // null: no packed layout on this level
  TileDotFn of(GgmlType t) const { return dot[static_cast<uint32_t>(t)]; }
  TileDotFn& of(GgmlType t) { return dot[static_cast<uint32_t>(t)]; }
  PackedGemmFn packed_of(GgmlType t) const { return packed[static_cast<uint32_t>(t)]; }
  PackedGemmFn& packed_of(GgmlType t) { return packed[static_cast<uint32_t>(t)]; }
};

// The tile kernels of an ISA level this machine supports (empty entries where a level has none).
const TileKernels& tile_kernels(Isa isa);

// ISA folders: each sets the entries it has. Defined only where compiled.
void fill_tiles_avx2(TileKernels& t);
void fill_tiles_avx512(TileKernels& t);  // AVX512-VNNI variants; call only where the CPU has it
void fill_tiles_avx2_kquants(TileKernels& t);  // Q4_K, Q5_K, Q6_K (part of fill_tiles_avx2)
void fill_tiles_avx2_float(TileKernels& t);    // F32, F16, BF16 (part of fill_tiles_avx2)
void fill_tiles_avx512_float(TileKernels& t);  // F32, F16, BF16 at 512 bits (AVX512F)
// Packed Q4_0, Q5_0, Q8_0 and Q4_K, Q5_K, Q6_K (parts of fill_tiles_avx512).
void fill_packed_avx512_vnni(TileKernels& t);
void fill_packed_avx512_kquants(TileKernels& t);

}  // namespace hearth
