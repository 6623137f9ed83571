// IQ4_NL and IQ4_XS: 4-bit indices into a fixed non-linear table of 16 levels (kIQ4NLValues,
// denser near zero where most weights are). IQ4_NL: one fp16 scale per 32 elements (4.5 bpw).
// IQ4_XS: super-blocks of 256 with one fp16 scale and a 6-bit signed scale per 32 (4.25 bpw).
//
// The quantizers minimise a weighted squared error Σ w·(x - d·level)², w = x² without an imatrix
// (large weights dominate dot products) or importance·sqrt(σ² + x²) with one. A sub-block's scale
// is searched like llama.cpp's: trial scales that put the extreme element on or near the table's
// end levels (both ends: the table is not symmetric, -127 vs 113), nearest level for each element,
// then the weighted least-squares scale for those levels; the best trial is re-rounded with its
// own fitted scale. IQ4_XS then quantises the eight sub-block scales to 6 bits against the
// super-block scale, trying the neighbours of each rounded scale and two orientations of the
// super-block scale, and keeps what gives the least error after fp16 rounding of d.
// Not bit-identical to llama.cpp (the format has no single reference rounding); the RMS error
// is compared with llama.cpp's files in tests/quant/iq4_test.cpp.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "core/fp16.h"
#include "quant/blocks.h"
#include "quant/formats.h"

namespace hearth {
namespace {

constexpr int kSub = 32;                     // elements per scale
constexpr int kSubPerSuper = kQK_K / kSub;   // 8 sub-blocks in an IQ4_XS super-block

// Nearest level of v, ties to the upper one. Every decision threshold (the midpoint of two
// neighbouring levels) is a multiple of 1/2, so floor(2v) alone decides: a table indexed by
// floor(2v), clamped to the table, replaces a search over the 16 levels. This lookup is
// the quantizers' inner loop (run ~36 times per element by the scale search).
constexpr int kLutOffset = 256;
constexpr int kLutSize = 512;
constexpr std::array<uint8_t, kLutSize> kNearestLut = [] {
  std::array<uint8_t, kLutSize> lut{};
  for (int i = 0; i < kLutSize; ++i) {
    const int twice_v = i - kLutOffset;  // any v with floor(2v) == twice_v
    int idx = 0;
    while (idx < 15 && twice_v >= kIQ4NLValues[idx] + kIQ4NLValues[idx + 1]) ++idx;
    lut[i] = uint8_t(idx);
  }
  return lut;
}();

inline int nearest_level(float v) {
  // Clamped to the table; written so that NaN compares false and lands on kLo.
  constexpr float kLo = float(-kLutOffset), kHi = float(kLutSize - kLutOffset - 1);
  float t = 2.0f * v;
  t = t > kLo ? t : kLo;
  t = t < kHi ? t : kHi;
  int i = static_cast<int>(t);  // truncates toward zero ...
  i -= float(i) > t ? 1 : 0;    // ... so step negatives down: floor(2v), exactly
  return kNearestLut[i + kLutOffset];
}

inline float level(int idx) { return float(kIQ4NLValues[idx]); }

// Weighted squared error of x ≈ d·level[L], choosing each L as the nearest level to x/d.
float round_and_error(const float* x, const float* w, float d, uint8_t* L) {
  if (d == 0.0f) {
    float e = 0.0f;
    for (int j = 0; j < kSub; ++j) {
      L[j] = 8;
      e += w[j] * x[j] * x[j];
    }
    return e;
  }
  const float id = 1.0f / d;
  float e = 0.0f;
  for (int j = 0; j < kSub; ++j) {
    L[j] = uint8_t(nearest_level(id * x[j]));
    const float diff = x[j] - d * level(L[j]);
    e += w[j] * diff * diff;
  }
  return e;
}

// Best scale of one 32-element sub-block (before any rounding of the scale itself).
float search_sub_block_scale(const float* x, const float* w) {
  float amax = 0.0f, m = 0.0f;
  for (int j = 0; j < kSub; ++j) {
    if (std::fabs(x[j]) > amax) {
      amax = std::fabs(x[j]);
      m = x[j];
    }
  }
  if (amax < 1e-30f) return 0.0f;
  float best_gain = -1.0f, best_d = 0.0f;
  // For fixed levels q the least-squares d is Σwxq/Σwq², and it lowers the error by
  // (Σwxq)²/Σwq²: the larger that gain, the better the trial.
  auto consider = [&](float id) {
    float sqx = 0.0f, sq2 = 0.0f;
    for (int j = 0; j < kSub; ++j) {
      const float q = level(nearest_level(id * x[j]));
      sqx += w[j] * q * x[j];
      sq2 += w[j] * q * q;
    }
    if (sq2 > 0.0f && sqx * sqx > best_gain * sq2) {
      best_gain = sqx * sqx / sq2;
      best_d = sqx / sq2;
    }
  };
  for (int t = -8; t <= 8; ++t) {
    consider((level(0) + float(t)) / m);   // extreme element near -127
    consider((level(15) + float(t)) / m);  // extreme element near 113
  }
  for (int pass = 0; pass < 2 && best_d != 0.0f; ++pass) consider(1.0f / best_d);
  return best_d;
}

inline float fp16_rounded(float v) { return fp16_to_f32(f32_to_fp16(v)); }

void set_weights(const float* x, const float* importance, float sigma2, float* w, int n) {
  if (!importance) {
    for (int j = 0; j < n; ++j) w[j] = x[j] * x[j];
    return;
  }
  float total = 0.0f;
  for (int j = 0; j < n; ++j) {
    w[j] = importance[j] * std::sqrt(sigma2 + x[j] * x[j]);
    total += w[j];
  }
  if (!(total > 0.0f))  // a block no calibration token touched: fall back to plain weights
    for (int j = 0; j < n; ++j) w[j] = x[j] * x[j];
}

float mean_square(const float* x, int64_t n) {
  double s = 0.0;
  for (int64_t j = 0; j < n; ++j) s += double(x[j]) * x[j];
  return n > 0 ? float(s / double(n)) : 0.0f;
}

// Element j in the low nibble of qs[j], element j+16 in the high one (per 32).
inline void pack_nibbles(uint8_t* qs, const uint8_t* L) {
  for (int j = 0; j < 16; ++j) qs[j] = uint8_t(L[j] | (L[j + 16] << 4));
}

// The IQ4_XS sub-block scales for super-block scale d: each 6-bit l (stored l + 32) is the
// rounded scale/d or a neighbour, whichever gives the least error. Returns the total error.
float assign_sub_scales(const float* x, const float* w, const float* scales, float d, int* ls,
                        uint8_t* L) {
  float total = 0.0f;
  uint8_t trial[kSub];
  for (int ib = 0; ib < kSubPerSuper; ++ib) {
    const float* xb = x + ib * kSub;
    const float* wb = w + ib * kSub;
    const int l0 = d != 0.0f ? std::clamp(int(std::nearbyint(scales[ib] / d)), -32, 31) : 0;
    float best = std::numeric_limits<float>::infinity();
    for (int l = std::max(-32, l0 - 1); l <= std::min(31, l0 + 1); ++l) {
      const float e = round_and_error(xb, wb, d * float(l), trial);  // d·l as dequant forms it
      if (e < best) {
        best = e;
        ls[ib] = l;
        std::copy(trial, trial + kSub, L + ib * kSub);
      }
    }
    total += best;
  }
  return total;
}

}  // namespace

void dequantize_row_iq4_nl(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockIQ4_NL*>(src);
  for (int64_t i = 0; i < n / kQK4_NL; ++i, dst += kQK4_NL) {
    const float d = fp16_to_f32(b[i].d);
    for (int j = 0; j < 16; ++j) {
      dst[j] = d * level(b[i].qs[j] & 0x0f);
      dst[j + 16] = d * level(b[i].qs[j] >> 4);
    }
  }
}

void dequantize_row_iq4_xs(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockIQ4_XS*>(src);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = fp16_to_f32(b[i].d);
    for (int ib = 0; ib < kSubPerSuper; ++ib, dst += kSub) {
      const int ls = ((b[i].scales_l[ib / 2] >> (4 * (ib % 2))) & 0x0f) |
                     (((b[i].scales_h >> (2 * ib)) & 3) << 4);
      const float dl = d * float(ls - 32);
      const uint8_t* qs = b[i].qs + 16 * ib;
      for (int j = 0; j < 16; ++j) {
        dst[j] = dl * level(qs[j] & 0x0f);
        dst[j + 16] = dl * level(qs[j] >> 4);
      }
    }
  }
}

void quantize_row_iq4_nl(const float* src, void* dst, int64_t n, const float* importance) {
  auto* b = static_cast<BlockIQ4_NL*>(dst);
  const float sigma2 = importance ? mean_square(src, n) : 0.0f;
  float w[kSub];
  uint8_t L[kSub];
  for (int64_t i = 0; i < n / kQK4_NL; ++i) {
    const float* x = src + i * kQK4_NL;
    set_weights(x, importance ? importance + i * kQK4_NL : nullptr, sigma2, w, kSub);
    // Levels are chosen for the scale the file will hold, i.e. after fp16 rounding.
    const float d = fp16_rounded(search_sub_block_scale(x, w));
    round_and_error(x, w, d, L);
    b[i].d = f32_to_fp16(d);
    pack_nibbles(b[i].qs, L);
  }
}

void quantize_row_iq4_xs(const float* src, void* dst, int64_t n, const float* importance) {
  auto* b = static_cast<BlockIQ4_XS*>(dst);
  const float sigma2 = importance ? mean_square(src, n) : 0.0f;
  float w[kQK_K], scales[kSubPerSuper];
  uint8_t L[kQK_K], L_try[kQK_K];
  int ls[kSubPerSuper], ls_try[kSubPerSuper];
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float* x = src + i * kQK_K;
    set_weights(x, importance ? importance + i * kQK_K : nullptr, sigma2, w, kQK_K);
    float amax = 0.0f, max_scale = 0.0f;
    for (int ib = 0; ib < kSubPerSuper; ++ib) {
      scales[ib] = search_sub_block_scale(x + ib * kSub, w + ib * kSub);
      if (std::fabs(scales[ib]) > amax) {
        amax = std::fabs(scales[ib]);
        max_scale = scales[ib];
      }
    }
    // The 6-bit range is -32..31: the largest scale goes to -32 (or, second candidate, +31).
    float best = std::numeric_limits<float>::infinity(), d_best = 0.0f;
    for (const float d_raw : {-max_scale / 32.0f, max_scale / 31.0f}) {
      const float d = fp16_rounded(d_raw);
      const float e = assign_sub_scales(x, w, scales, d, ls_try, L_try);
      if (e < best) {
        best = e;
        d_best = d;
        std::copy(ls_try, ls_try + kSubPerSuper, ls);
        std::copy(L_try, L_try + kQK_K, L);
      }
    }
    b[i].d = f32_to_fp16(d_best);
    b[i].scales_h = 0;
    for (int ib = 0; ib < kSubPerSuper; ++ib) {
      const int s = ls[ib] + 32;  // 0..63
      if (ib % 2 == 0)
        b[i].scales_l[ib / 2] = uint8_t(s & 0x0f);
      else
        b[i].scales_l[ib / 2] |= uint8_t((s & 0x0f) << 4);
      b[i].scales_h |= uint16_t((s >> 4) << (2 * ib));
      pack_nibbles(b[i].qs + 16 * ib, L + ib * kSub);
    }
  }
}

}  // namespace hearth
