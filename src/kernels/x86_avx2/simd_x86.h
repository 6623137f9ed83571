// Building blocks shared by the x86 kernels. Everything here has internal linkage (anonymous
// namespace): the header is compiled into TUs with different -m flags (AVX2 and AVX-512), and
// an inline function with external linkage would let the linker keep the AVX-512 copy for the
// AVX2 level. The int8 dot itself is a policy (Avx2Dot here, VnniDot in x86_avx512/) so one
// kernel template serves both levels. For the same reason ISA files include no header with
// inline functions of external linkage (core/fp16.h, STL containers): only this file.
#pragma once

// GCC 12 reports its own AVX-512 intrinsics (built on _mm512_undefined_*) as reading
// uninitialised values once inlined (GCC bug 105593); the warning is about the header.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <cstdint>
#include <cstring>

namespace hearth::x86 {
namespace {

inline float half_to_f32(uint16_t h) { return _cvtsh_ss(h); }  // F16C; exact like fp16.h

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline int32_t hsum(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(s);
}

// Token generation streams every weight byte once from DRAM. The hardware prefetcher alone
// leaves the dot kernels stalled on the first load of each block (perf: ~half of Q4_K's
// samples), because one block's arithmetic is too short for the out-of-order window to cover
// a miss; fetching kWeightPrefetchBytes ahead — into the next row when this one ends, the row
// a matmul band reads next — took TinyLlama Q4_K_M tg from 9.3 to 14.2 tok/s on one core
// (512 B: 11.6, 1 KiB: 13.3, 2 KiB: 14.2, 3 KiB: 14.3, 4 KiB: 13.4; docs/kernels.md).
inline constexpr int kWeightPrefetchBytes = 2048;
// Prefetches the `bytes` that lie kWeightPrefetchBytes past p: call once per step of a loop
// that advances `bytes` through the weights.
inline void prefetch_weights(const void* p, size_t bytes) {
  const char* c = static_cast<const char*>(p) + kWeightPrefetchBytes;
  for (size_t off = 0; off < bytes; off += 64) _mm_prefetch(c + off, _MM_HINT_T0);
}

inline __m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
inline __m128i load128(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }

// 16 bytes of packed nibbles -> 32 bytes 0..15 in the legacy element order: low nibbles are
// elements 0..15 (low lane), high nibbles 16..31 (high lane).
inline __m256i nibbles32(const uint8_t* qs) {
  const __m128i q = load128(qs);
  const __m256i both = _mm256_set_m128i(_mm_srli_epi16(q, 4), q);
  return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
}

// 32 bits (little endian) -> 32 bytes, 0xFF where the bit is set.
inline __m256i bits32_to_mask(const uint8_t* bits) {
  uint32_t word;
  std::memcpy(&word, bits, 4);
  // Byte j takes source byte j / 8, then tests bit j % 8.
  const __m256i spread = _mm256_shuffle_epi8(
      _mm256_set1_epi32(static_cast<int32_t>(word)),
      _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0));
  const __m256i bit = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201));
  return _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
}

// AVX2 int8 dot: 8 int32, each the sum of 4 adjacent u8 × s8 products. maddubs saturates its
// 16-bit pair sums; every caller keeps |u| |s| pairs below 2^15 (largest: 128·127·2 = 32512).
struct Avx2Dot {
  static __m256i u8s8(__m256i u, __m256i s) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
  }
};

// s8 × s8 through the u8 × s8 instruction: |x| · (y with x's sign).
template <class Dot>
inline __m256i dot_s8s8(__m256i x, __m256i y) {
  return Dot::u8s8(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
}

}  // namespace
}  // namespace hearth::x86
