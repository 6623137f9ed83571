// Q4_K, Q5_K and Q6_K weights with Q8_K activations, AVX2. Per 256-element super-block:
// the 4/5/6-bit quants are unpacked 32 at a time into unsigned bytes (0..15, 0..31, 0..63),
// maddubs with the activations gives 16 int16 pair sums (largest 63·127·2 = 16002, no
// saturation), and madd with the sub-block scales broadcast as int16 turns them into 8 scaled
// int32 — so the whole super-block's Σ scale·Σ q·a stays exact in int32, converted to float
// once per block. Tile versions (kernels/tile.h) share each unpacked chunk among up to four
// activation rows; the vec_dots are their one-row instances. The other terms use the activation block sums (bsums):
//   Q4_K/Q5_K: the mins, Σ_g min_g Σ_g a;   Q6_K: the -32 offset, 32 Σ_g scale_g Σ_g a.
#include "kernels/x86_avx2/avx2_kernels.h"
#include "kernels/x86_avx2/simd_x86.h"
#include "kernels/tile.h"
#include "quant/blocks.h"

namespace hearth {
namespace {

using namespace x86;

// The 8 six-bit scales and mins of Q4_K/Q5_K (layout in kernels/ref/unpack.h), as int16.
inline void scales_mins_k4(const uint8_t* p, __m128i& scales, __m128i& mins) {
  uint32_t a[3];
  std::memcpy(a, p, 12);
  // Bytes 0-3 of scales/mins are the low 6 bits of p[0..3] / p[4..7]; bytes 4-7 take their low
  // nibbles from p[8..11] (low / high nibble) and their top 2 bits from p[0..3] / p[4..7].
  const uint32_t sc_lo = a[0] & 0x3f3f3f3f;
  const uint32_t mn_lo = a[1] & 0x3f3f3f3f;
  const uint32_t sc_hi = (a[2] & 0x0f0f0f0f) | ((a[0] >> 2) & 0x30303030);
  const uint32_t mn_hi = ((a[2] >> 4) & 0x0f0f0f0f) | ((a[1] >> 2) & 0x30303030);
  scales = _mm_cvtepu8_epi16(_mm_set_epi32(0, 0, static_cast<int>(sc_hi), static_cast<int>(sc_lo)));
  mins = _mm_cvtepu8_epi16(_mm_set_epi32(0, 0, static_cast<int>(mn_hi), static_cast<int>(mn_lo)));
}

// Σ_g mins_g (bsums[2g] + bsums[2g+1]) for 8 groups of 32.
inline int32_t mins_dot(const int16_t* bsums, __m128i mins) {
  const __m128i pairs = _mm_hadd_epi16(load128(bsums), load128(bsums + 8));
  const __m128i prod = _mm_madd_epi16(pairs, mins);
  __m128i s = _mm_add_epi32(prod, _mm_shuffle_epi32(prod, _MM_SHUFFLE(1, 0, 3, 2)));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(s);
}

inline __m256i scale16(const int16_t* s, int g) { return _mm256_set1_epi16(s[g]); }

// One weight row against NA activation rows (row a at act + a * act_stride): the weight
// quants of a 64-element chunk are unpacked once and multiplied into every row's int32 sum.
// Each row keeps its own accumulators, so every result is exactly the NA = 1 one (the vec_dot).
template <bool kFive, int NA>
void tile_q45_k(int64_t n, const void* w, const void* act, size_t act_stride, float* out,
                size_t out_stride) {
  using Block = std::conditional_t<kFive, BlockQ5_K, BlockQ4_K>;
  const auto* x = static_cast<const Block*>(w);
  const BlockQ8_K* y[NA];
  __m256 acc[NA];
  float acc_mins[NA];
  for (int a = 0; a < NA; ++a) {
    y[a] = reinterpret_cast<const BlockQ8_K*>(static_cast<const uint8_t*>(act) + a * act_stride);
    acc[a] = _mm256_setzero_ps();
    acc_mins[a] = 0.0f;
  }
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    prefetch_weights(x + i, sizeof(x[i]));
    __m128i scales, mins;
    scales_mins_k4(x[i].scales, scales, mins);
    alignas(16) int16_t sc[8];
    _mm_store_si128(reinterpret_cast<__m128i*>(sc), scales);
    const float dmin = half_to_f32(x[i].dmin);
    const float d = half_to_f32(x[i].d);
    __m256i sumi[NA];
    for (int a = 0; a < NA; ++a) {
      acc_mins[a] += y[a][i].d * dmin * static_cast<float>(mins_dot(y[a][i].bsums, mins));
      sumi[a] = _mm256_setzero_si256();
    }
    __m256i high = _mm256_setzero_si256();
    if constexpr (kFive) high = load256(x[i].qh);
    for (int c = 0; c < 4; ++c) {  // 64 elements: sub-blocks 2c (low nibbles), 2c+1 (high)
      const __m256i q = load256(x[i].qs + 32 * c);
      __m256i q_lo = _mm256_and_si256(q, low4);
      __m256i q_hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
      if constexpr (kFive) {  // fifth bit of sub-block g is bit g of qh[l]
        const __m256i one = _mm256_set1_epi8(1);
        q_lo = _mm256_or_si256(q_lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(high, 2 * c), one), 4));
        q_hi = _mm256_or_si256(q_hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(high, 2 * c + 1), one), 4));
      }
      const __m256i s_lo = scale16(sc, 2 * c), s_hi = scale16(sc, 2 * c + 1);
      for (int a = 0; a < NA; ++a) {
        const __m256i p_lo = _mm256_maddubs_epi16(q_lo, load256(y[a][i].qs + 64 * c));
        const __m256i p_hi = _mm256_maddubs_epi16(q_hi, load256(y[a][i].qs + 64 * c + 32));
        sumi[a] = _mm256_add_epi32(sumi[a], _mm256_madd_epi16(p_lo, s_lo));
        sumi[a] = _mm256_add_epi32(sumi[a], _mm256_madd_epi16(p_hi, s_hi));
      }
    }
    for (int a = 0; a < NA; ++a)
      acc[a] = _mm256_fmadd_ps(_mm256_set1_ps(y[a][i].d * d), _mm256_cvtepi32_ps(sumi[a]), acc[a]);
  }
  for (int a = 0; a < NA; ++a) out[a * out_stride] = hsum(acc[a]) - acc_mins[a];
}

// Q6_K: element 128h + 32k + l has low 4 bits in nibble k/2 of ql[64h + 32(k%2) + l] and top
// 2 bits at 2k in qh[32h + l]; scale per 16 (int8). q6 unsigned 0..63 = value + 32. One weight
// row against NA activation rows, as tile_q45_k.
template <int NA>
void tile_q6_k(int64_t n, const void* w, const void* act, size_t act_stride, float* out,
               size_t out_stride) {
  const auto* x = static_cast<const BlockQ6_K*>(w);
  const BlockQ8_K* y[NA];
  __m256 acc[NA];
  for (int a = 0; a < NA; ++a) {
    y[a] = reinterpret_cast<const BlockQ8_K*>(static_cast<const uint8_t*>(act) + a * act_stride);
    acc[a] = _mm256_setzero_ps();
  }
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  const __m256i two = _mm256_set1_epi8(3);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    prefetch_weights(x + i, sizeof(x[i]));
    const __m128i sc8 = load128(x[i].scales);
    const __m256i sc16 = _mm256_cvtepi8_epi16(sc8);  // 16 scales as int16
    alignas(32) int16_t sc[16];
    _mm256_store_si256(reinterpret_cast<__m256i*>(sc), sc16);
    // The offset of every q6 from its value, 32 Σ_g scale_g bsum_g, taken off first: int32
    // sums are exact, so the order of the additions does not change the result.
    __m256i sumi[NA];
    for (int a = 0; a < NA; ++a)
      sumi[a] = _mm256_sub_epi32(_mm256_setzero_si256(),
                                 _mm256_slli_epi32(_mm256_madd_epi16(sc16, load256(y[a][i].bsums)), 5));
    for (int h = 0; h < 2; ++h) {
      const __m256i ql0 = load256(x[i].ql + 64 * h);
      const __m256i ql1 = load256(x[i].ql + 64 * h + 32);
      const __m256i qh = load256(x[i].qh + 32 * h);
      for (int k = 0; k < 4; ++k) {
        const __m256i ql = k % 2 ? ql1 : ql0;
        const __m256i lo = _mm256_and_si256(k < 2 ? ql : _mm256_srli_epi16(ql, 4), low4);
        const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * k), two);
        const __m256i q = _mm256_or_si256(lo, _mm256_slli_epi16(hi, 4));
        const int g = 8 * h + 2 * k;  // low lane: group g, high lane: g + 1
        const __m256i s = _mm256_set_m128i(_mm_set1_epi16(sc[g + 1]), _mm_set1_epi16(sc[g]));
        for (int a = 0; a < NA; ++a) {
          const __m256i p = _mm256_maddubs_epi16(q, load256(y[a][i].qs + 128 * h + 32 * k));
          sumi[a] = _mm256_add_epi32(sumi[a], _mm256_madd_epi16(p, s));
        }
      }
    }
    const float d = half_to_f32(x[i].d);
    for (int a = 0; a < NA; ++a)
      acc[a] = _mm256_fmadd_ps(_mm256_set1_ps(y[a][i].d * d), _mm256_cvtepi32_ps(sumi[a]), acc[a]);
  }
  for (int a = 0; a < NA; ++a) out[a * out_stride] = hsum(acc[a]);
}

template <void (*Tile1)(int64_t, const void*, const void*, size_t, float*, size_t)>
float dot_one(int64_t n, const void* w, const void* act) {
  float out;
  Tile1(n, w, act, 0, &out, 0);
  return out;
}

template <template <int> class K>
void tile_dispatch(int64_t n, const void* w, const void* act, size_t act_stride, int n_act,
                   float* out, size_t out_stride) {
  switch (n_act) {
    case 1: return K<1>::run(n, w, act, act_stride, out, out_stride);
    case 2: return K<2>::run(n, w, act, act_stride, out, out_stride);
    case 3: return K<3>::run(n, w, act, act_stride, out, out_stride);
    default: return K<4>::run(n, w, act, act_stride, out, out_stride);
  }
}
template <int NA>
struct Q4K { static constexpr auto run = &tile_q45_k<false, NA>; };
template <int NA>
struct Q5K { static constexpr auto run = &tile_q45_k<true, NA>; };
template <int NA>
struct Q6K { static constexpr auto run = &tile_q6_k<NA>; };

}  // namespace

void fill_avx2_kquants(KernelTable& t) {
  t.of(GgmlType::Q4_K).vec_dot = dot_one<tile_q45_k<false, 1>>;
  t.of(GgmlType::Q5_K).vec_dot = dot_one<tile_q45_k<true, 1>>;
  t.of(GgmlType::Q6_K).vec_dot = dot_one<tile_q6_k<1>>;
}

void fill_tiles_avx2_kquants(TileKernels& t) {
  t.of(GgmlType::Q4_K) = tile_dispatch<Q4K>;
  t.of(GgmlType::Q5_K) = tile_dispatch<Q5K>;
  t.of(GgmlType::Q6_K) = tile_dispatch<Q6K>;
}

}  // namespace hearth
