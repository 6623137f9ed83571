// The packed layout of Q4_K, Q5_K and Q6_K (kernels/repack.h), shared by the repacker, the
// scalar reference and the AVX512-VNNI kernel. One unit per (16-row group, 256-element
// superblock), 64-byte aligned throughout so every 512-bit load sits in one cache line:
//
//   header (320 bytes)
//     uint16 d[16]                      the rows' superblock scales (halves), row order
//     Q4_K/Q5_K: uint16 dmin[16]        the rows' min scales
//                uint8  sc[8][16]       6-bit scale of sub-block s (32 elements) of row r
//                uint8  m[4][16][2]     6-bit mins, in pairs (m[2p], m[2p+1]) per row, so one
//                                       widening load gives vpdpwssd its int16 pairs
//     Q6_K:      int8   sc[8][16][2]    the two 16-element scales of sub-block s, per row
//                (padding to 320)
//   then per sub-block s = 0..7 (32 elements, 32s..32s+31 of the superblock):
//     uint32 lo[4][16]   word i of row r: byte b holds element 4i+b in its low nibble and
//                        16+4i+b in its high one (as a Q4_0 block does)
//     Q5_K: uint32 hi[16]      byte b of row r: bit k = bit 4 of element 4k+b
//     Q6_K: uint32 hi[2][16]   plane P, byte b of row r: bits 2t..2t+1 = bits 4..5 of element
//                              4(4P+t)+b
//
// Element values are the block's unsigned q (Q4_K 0..15, Q5_K 0..31, Q6_K 0..63, i.e. its
// signed q + 32). A weight is d·sc·q − dmin·m (Q4_K, Q5_K) or d·sc·(q − 32) (Q6_K). The unit
// is 2.8% (Q4_K), 2.3% (Q5_K) and 1.0% (Q6_K) larger than the 16 rows' blocks.
#pragma once

#include <cstddef>
#include <cstdint>

#include "quant/ggml_type.h"

namespace hearth::kpack {

struct Layout {
  size_t d = 0;         // offset of d[16]
  size_t dmin = 0;      // offset of dmin[16] (Q4_K, Q5_K)
  size_t scales = 0;    // offset of sc
  size_t mins = 0;      // offset of m (Q4_K, Q5_K)
  size_t quants = 320;  // offset of sub-block 0
  size_t sub = 0;       // bytes per sub-block
  size_t unit = 0;      // bytes per unit
};

constexpr bool has_layout(GgmlType t) {
  return t == GgmlType::Q4_K || t == GgmlType::Q5_K || t == GgmlType::Q6_K;
}

constexpr Layout layout(GgmlType t) {
  Layout l;
  if (t == GgmlType::Q6_K) {
    l.scales = 32;
    l.sub = 256 + 128;
  } else {
    l.dmin = 32;
    l.scales = 64;
    l.mins = 192;
    l.sub = t == GgmlType::Q5_K ? 256 + 64 : 256;
  }
  l.unit = l.quants + 8 * l.sub;
  return l;
}

// Writes nrows (a multiple of 16) rows of ne0 (a multiple of 256) elements, row r at
// src + r * row_stride, in the layout above.
void repack(GgmlType type, const void* src, size_t row_stride, int64_t ne0, int64_t nrows,
            void* dst);

// Row `row` of a packed matrix as ne0 floats, bit-identical to the format's dequantizer.
void dequantize_row(GgmlType type, int64_t ne0, const void* packed, int64_t row, float* out);

// The scalar packed GEMM on Q8_K activation rows: the oracle for the SIMD kernel.
void gemm_ref(GgmlType type, int64_t ne0, const void* packed, int64_t g0, int64_t g1,
              const uint8_t* act, size_t act_stride, int n_act, float* y, size_t y_stride);

// The int16 pair sums a packed Q4_K/Q5_K kernel takes as PackedActs::sums, for one Q8_K row of
// nb superblocks: out[4j + p] = (Σ of sub-block 2p's 32 quants) | (Σ of 2p+1's) << 16.
void pair_sums(const void* q8k_row, int64_t nb, int32_t* out);

}  // namespace hearth::kpack
