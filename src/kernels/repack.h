// Weight repacking for the packed GEMM kernels (kernels/tile.h): kPackRows rows of a Q4_0,
// Q5_0 or Q8_0 matrix interleaved block by block. For row group g and block j, one packed
// unit is
//   uint16 d[16]            the 16 rows' scales (halves), row order
//   uint32 w[words][16]     word i of every row's quants, row order (16 rows × 4 bytes = one
//                           512-bit load per word index i)
// Q4_0: 4 words (the 16 quant bytes; byte b of word i has element 4i + b in its low nibble
// and 16 + 4i + b in its high one, as in the block). Q5_0: those 4 words, then a fifth word
// per row with the 32 fifth bits regrouped: byte b, bit k is element 4k + b's (so the bits
// that complete the k-th 4-element word sit at bit k of each byte). Q8_0: 8 words of 4 int8
// each, stored + 128 (unsigned, what vpdpbusd multiplies). Units follow block by block, then
// group by group, so a group's row dots read one contiguous stretch. Sizes equal the
// unpacked ones.
//
// Q4_K, Q5_K, Q6_K: the same idea per 256-element superblock, with the scales widened to a
// byte each; see kernels/repack_kquants.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "quant/ggml_type.h"

namespace hearth {

// Whether `type` has a packed layout, and the packed size of an (nrows, ne0) matrix; nullopt
// when the format has none or nrows is not a multiple of kPackRows.
std::optional<size_t> packed_bytes(GgmlType type, int64_t ne0, int64_t nrows);

// Writes the packed form of nrows rows (row r at src + r * row_stride) into dst
// (packed_bytes() long). Requires packed_bytes() to have a value.
void repack_rows(GgmlType type, const void* src, size_t row_stride, int64_t ne0, int64_t nrows,
                 void* dst);

// Row `row` of a packed (ne0-element rows) matrix as ne0 floats, bit-identical to what the
// format's own dequantizer gives for the original row: a tied token embedding is read from
// its packed output copy, so the mapped original can leave memory.
void dequantize_packed_row(GgmlType type, int64_t ne0, const void* packed, int64_t row,
                           float* out);

// The scalar packed GEMM (PackedGemmFn): the oracle for the SIMD versions. Activation rows
// are Q8_0 for Q4_0 / Q8_0 weights, Q8_K for the K-quants.
void packed_gemm_ref(GgmlType type, int64_t ne0, const void* packed, int64_t g0, int64_t g1,
                     const uint8_t* act, size_t act_stride, int n_act, float* y, size_t y_stride);

}  // namespace hearth
