// Reference quantizers of the K-quants: per sub-block searches for the scale (and min) that
// minimise a weighted squared (or absolute) error, then the sub-block scales are themselves
// quantized to 4, 6 or 8 bits against one fp16 super-block scale, and the values re-rounded
// against the scales as stored.
//
// Without `importance` each format uses the error weighting of ggml's reference quantizers
// (|x|, |x| + rms, x^2 — chosen per format by its authors by perplexity), so a file quantized
// here has the same error as llama-quantize's output for the same source. With `importance`
// (an imatrix row: mean squared activation per column) the weights become
// importance * sqrt(sigma^2 + x^2), and the sub-block scales are fitted to minimise the
// importance-weighted error too, as ggml does with an imatrix.
//
// Float expressions keep the reference's evaluation order: a different order changes ties in
// the searches, and then the chosen scales, by one step.
#include <cmath>
#include <cstring>

#include "core/fp16.h"
#include "quant/blocks.h"
#include "quant/formats.h"
#include "quant/kquants_scales.h"

namespace hearth {
namespace {

// A group whose largest magnitude is below this is stored as zeros.
constexpr float kGroupMaxEps = 1e-15f;

// Round to nearest, ties to even (the FPU's default mode), for |x| < 2^22: adding 1.5 * 2^23
// leaves the rounded integer in the low mantissa bits. Faster than nearbyintf, which is a
// library call on baseline x86-64, and it is in every inner loop below.
inline int round_int(float x) {
  const float biased = x + 12582912.f;
  int32_t bits;
  std::memcpy(&bits, &biased, 4);
  return (bits & 0x007fffff) - 0x00400000;
}

inline int clamp_int(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

// Asymmetric fit: x[i] ~ scale * L[i] + offset, L in [0, nmax], offset <= 0 (a negative min
// only: a positive one would waste levels). Starts from the min/max fit, then tries nstep+1
// trial inverse scales (nmax + rmin + rdelta*k) / range; for each rounding it solves the
// weighted least-squares scale and offset in closed form, keeping the lowest error.
// Returns the scale; *neg_offset = -offset >= 0.
float fit_affine(int n, int nmax, const float* x, const float* w, uint8_t* L, float* neg_offset,
                 uint8_t* L_trial, float rmin, float rdelta, int nstep, bool use_abs_error) {
  float lo = x[0], hi = x[0];
  float sum_w = w[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < lo) lo = x[i];
    if (x[i] > hi) hi = x[i];
    sum_w += w[i];
    sum_x += w[i] * x[i];
  }
  if (lo > 0) lo = 0;
  if (hi <= lo) {
    std::memset(L, 0, size_t(n));
    *neg_offset = -lo;
    return 0.f;
  }
  // Rounding clamps the argument first: once the offset moved, x - offset can exceed the range.
  auto level = [nmax](float v) { return v > 0 ? round_int(v < float(nmax) ? v : float(nmax)) : 0; };
  float iscale = nmax / (hi - lo);
  float scale = 1 / iscale;
  float best_error = 0;
  for (int i = 0; i < n; ++i) {
    L[i] = uint8_t(level(iscale * (x[i] - lo)));
    float diff = scale * L[i] + lo - x[i];
    diff = use_abs_error ? std::fabs(diff) : diff * diff;
    best_error += w[i] * diff;
  }
  for (int k = 0; k <= nstep; ++k) {
    iscale = (rmin + rdelta * k + nmax) / (hi - lo);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < n; ++i) {
      const int l = level(iscale * (x[i] - lo));
      L_trial[i] = uint8_t(l);
      sum_l += w[i] * l;
      sum_l2 += w[i] * l * l;
      sum_xl += w[i] * l * x[i];
    }
    const float det = sum_w * sum_l2 - sum_l * sum_l;
    if (!(det > 0)) continue;
    float trial_scale = (sum_w * sum_xl - sum_x * sum_l) / det;
    float trial_offset = (sum_l2 * sum_x - sum_l * sum_xl) / det;
    if (trial_offset > 0) {  // the best line crosses above zero: refit through the origin
      trial_offset = 0;
      trial_scale = sum_xl / sum_l2;
    }
    float error = 0;
    for (int i = 0; i < n; ++i) {
      float diff = trial_scale * L_trial[i] + trial_offset - x[i];
      diff = use_abs_error ? std::fabs(diff) : diff * diff;
      error += w[i] * diff;
    }
    if (error < best_error) {
      std::memcpy(L, L_trial, size_t(n));
      best_error = error;
      scale = trial_scale;
      lo = trial_offset;
    }
  }
  *neg_offset = -lo;
  return scale;
}

// Symmetric fit: x[i] ~ scale * (L[i] - nmax), L - nmax in [-nmax, nmax-1]. The scale's sign
// follows the value of largest magnitude so that value lands on the extra level -nmax.
// Tries 19 inverse scales around nmax/max and keeps the one whose least-squares scale explains
// the most weighted energy (sumlx^2 / suml2). Weights default to x^2.
float fit_symmetric(int n, int nmax, const float* x, int8_t* L, const float* w_in) {
  float max = 0, amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < kGroupMaxEps) {
    std::memset(L, 0, size_t(n));
    return 0.f;
  }
  auto weight = [&](int i) { return w_in ? w_in[i] : x[i] * x[i]; };
  float iscale = -nmax / max;
  float sumlx = 0, suml2 = 0;
  for (int i = 0; i < n; ++i) {
    const int l = clamp_int(round_int(iscale * x[i]), -nmax, nmax - 1);
    L[i] = int8_t(l + nmax);
    const float w = weight(i);
    sumlx += w * x[i] * l;
    suml2 += w * l * l;
  }
  float scale = suml2 ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  for (int k = -9; k <= 9; ++k) {
    if (k == 0) continue;
    iscale = -(nmax + 0.1f * k) / max;
    sumlx = suml2 = 0;
    for (int i = 0; i < n; ++i) {
      const int l = clamp_int(round_int(iscale * x[i]), -nmax, nmax - 1);
      const float w = weight(i);
      sumlx += w * x[i] * l;
      suml2 += w * l * l;
    }
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      for (int i = 0; i < n; ++i)
        L[i] = int8_t(nmax + clamp_int(round_int(iscale * x[i]), -nmax, nmax - 1));
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

// Symmetric fit for 3 bits (Q3_K without importance): start from nmax/max, then move single
// values to the level that most improves the x^2-weighted fit, up to 5 passes.
float fit_symmetric_refine(int n, int nmax, const float* x, int8_t* L) {
  float max = 0, amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < kGroupMaxEps) {
    std::memset(L, 0, size_t(n));
    return 0.f;
  }
  const float iscale = -nmax / max;
  float sumlx = 0, suml2 = 0;
  for (int i = 0; i < n; ++i) {
    const int l = clamp_int(round_int(iscale * x[i]), -nmax, nmax - 1);
    L[i] = int8_t(l);
    const float w = x[i] * x[i];
    sumlx += w * x[i] * l;
    suml2 += w * l * l;
  }
  for (int pass = 0; pass < 5; ++pass) {
    int changed = 0;
    for (int i = 0; i < n; ++i) {
      const float w = x[i] * x[i];
      float slx = sumlx - w * x[i] * L[i];
      if (slx > 0) {
        float sl2 = suml2 - w * L[i] * L[i];
        const int l = clamp_int(round_int(x[i] * sl2 / slx), -nmax, nmax - 1);
        if (l != L[i]) {
          slx += w * x[i] * l;
          sl2 += w * l * l;
          // Accept when the explained energy slx^2/sl2 grows.
          if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
            L[i] = int8_t(l);
            sumlx = slx;
            suml2 = sl2;
            ++changed;
          }
        }
      }
    }
    if (!changed) break;
  }
  for (int i = 0; i < n; ++i) L[i] = int8_t(L[i] + nmax);
  return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

// Fit of non-negative values (sub-block scales or mins) to L in [0, nmax] with one scale,
// weighted by w (the sub-blocks' total importance). Used when an imatrix is given.
float fit_positive(int n, int nmax, const float* x, uint8_t* L, const float* w) {
  float max = 0;
  for (int i = 0; i < n; ++i) max = x[i] > max ? x[i] : max;
  if (max < kGroupMaxEps) {
    std::memset(L, 0, size_t(n));
    return 0.f;
  }
  float iscale = nmax / max;
  float scale = 1 / iscale;
  float best_mse = 0;
  for (int i = 0; i < n; ++i) {
    const float diff = x[i] - scale * round_int(iscale * x[i]);
    best_mse += w[i] * diff * diff;
  }
  for (int k = -4; k <= 4; ++k) {
    if (k == 0) continue;
    const float iscale_k = (0.1f * k + nmax) / max;
    const float scale_k = 1 / iscale_k;
    float mse = 0;
    for (int i = 0; i < n; ++i) {
      const int l = std::min(nmax, round_int(iscale_k * x[i]));
      const float diff = x[i] - scale_k * l;
      mse += w[i] * diff * diff;
    }
    if (mse < best_mse) {
      best_mse = mse;
      iscale = iscale_k;
    }
  }
  float sumlx = 0, suml2 = 0;
  for (int i = 0; i < n; ++i) {
    const int l = std::min(nmax, round_int(iscale * x[i]));
    L[i] = uint8_t(l);
    sumlx += w[i] * x[i] * l;
    suml2 += w[i] * l * l;
  }
  for (int pass = 0; pass < 5; ++pass) {
    int changed = 0;
    for (int i = 0; i < n; ++i) {
      float slx = sumlx - w[i] * x[i] * L[i];
      float sl2 = suml2 - w[i] * L[i] * L[i];
      if (slx > 0 && sl2 > 0) {
        const int l = std::min(nmax, round_int(x[i] * sl2 / slx));
        if (l != L[i]) {
          slx += w[i] * x[i] * l;
          sl2 += w[i] * l * l;
          if (slx * slx * suml2 > sumlx * sumlx * sl2) {
            L[i] = uint8_t(l);
            sumlx = slx;
            suml2 = sl2;
            ++changed;
          }
        }
      }
    }
    if (!changed) break;
  }
  return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

// 2-bit values of a 256 block, four per byte: qs[32h + l] holds L[128h + 32j + l] at bits 2j.
void pack_2bit(const uint8_t* L, uint8_t* qs) {
  for (int h = 0; h < 2; ++h) {
    const uint8_t* Lh = L + 128 * h;
    for (int l = 0; l < 32; ++l)
      qs[32 * h + l] = uint8_t(Lh[l] | (Lh[l + 32] << 2) | (Lh[l + 64] << 4) | (Lh[l + 96] << 6));
  }
}

// ---- Q2_K -------------------------------------------------------------------------------

void quantize_block_q2_k(const float* x, BlockQ2_K& y, const float* importance) {
  uint8_t L[kQK_K];
  uint8_t L_trial[16];
  float weights[16];
  float scales[16], mins[16];
  if (!importance) {
    // |x| weighting, absolute error: what ggml's reference does at 2 bits.
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < 16; ++j) {
      for (int l = 0; l < 16; ++l) weights[l] = std::fabs(x[16 * j + l]);
      scales[j] = fit_affine(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], L_trial, -0.5f, 0.1f,
                             15, true);
      if (scales[j] > max_scale) max_scale = scales[j];
      if (mins[j] > max_min) max_min = mins[j];
    }
    if (max_scale > 0) {
      const float iscale = 15.f / max_scale;
      for (int j = 0; j < 16; ++j) y.scales[j] = uint8_t(round_int(iscale * scales[j]));
      y.d = f32_to_fp16(max_scale / 15.f);
    } else {
      std::memset(y.scales, 0, sizeof(y.scales));
      y.d = f32_to_fp16(0.f);
    }
    if (max_min > 0) {
      const float iscale = 15.f / max_min;
      for (int j = 0; j < 16; ++j) y.scales[j] = uint8_t(y.scales[j] | (round_int(iscale * mins[j]) << 4));
      y.dmin = f32_to_fp16(max_min / 15.f);
    } else {
      y.dmin = f32_to_fp16(0.f);
    }
  } else {
    float sumx2 = 0;
    for (int j = 0; j < kQK_K; ++j) sumx2 += x[j] * x[j];
    const float sigma2 = sumx2 / kQK_K;
    float sw[16] = {};
    for (int j = 0; j < 16; ++j) {
      const float* qw = importance + 16 * j;
      for (int l = 0; l < 16; ++l) weights[l] = qw[l] * std::sqrt(sigma2 + x[16 * j + l] * x[16 * j + l]);
      for (int l = 0; l < 16; ++l) sw[j] += weights[l];
      scales[j] = fit_affine(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], L_trial, -0.9f, 0.05f,
                             36, false);
    }
    uint8_t Ls[16], Lm[16];
    const float dm = fit_positive(16, 15, scales, Ls, sw);
    const float mm = fit_positive(16, 15, mins, Lm, sw);
    y.d = f32_to_fp16(dm);
    y.dmin = f32_to_fp16(mm);
    for (int j = 0; j < 16; ++j) y.scales[j] = uint8_t(Ls[j] | (Lm[j] << 4));
  }
  // Re-round against the scales as stored.
  const float d = fp16_to_f32(y.d), dmin = fp16_to_f32(y.dmin);
  for (int j = 0; j < 16; ++j) {
    const float dl = d * (y.scales[j] & 0x0F);
    if (!dl) continue;
    const float ml = dmin * (y.scales[j] >> 4);
    for (int i = 0; i < 16; ++i)
      L[16 * j + i] = uint8_t(clamp_int(round_int((x[16 * j + i] + ml) / dl), 0, 3));
  }
  pack_2bit(L, y.qs);
}

// ---- Q3_K -------------------------------------------------------------------------------

void quantize_block_q3_k(const float* x, BlockQ3_K& y, const float* importance) {
  int8_t L[kQK_K];
  float scales[16];
  uint8_t biased[16];
  float d_block;
  if (!importance) {
    float max_scale = 0, amax = 0;
    for (int j = 0; j < 16; ++j) {
      scales[j] = fit_symmetric_refine(16, 4, x + 16 * j, L + 16 * j);
      const float a = std::fabs(scales[j]);
      if (a > amax) {
        amax = a;
        max_scale = scales[j];
      }
    }
    if (max_scale) {
      // The largest scale maps to -32, the extra level of the signed 6-bit range.
      const float iscale = -32.f / max_scale;
      for (int j = 0; j < 16; ++j)
        biased[j] = uint8_t(clamp_int(int8_t(round_int(iscale * scales[j])), -32, 31) + 32);
      d_block = 1 / iscale;
    } else {
      std::memset(biased, 0, sizeof(biased));
      d_block = 0.f;
    }
  } else {
    float sumx2 = 0;
    for (int j = 0; j < kQK_K; ++j) sumx2 += x[j] * x[j];
    const float sigma2 = 2 * sumx2 / kQK_K;
    float weights[16], sw[16];
    for (int j = 0; j < 16; ++j) {
      const float* qw = importance + 16 * j;
      for (int l = 0; l < 16; ++l) weights[l] = qw[l] * std::sqrt(sigma2 + x[16 * j + l] * x[16 * j + l]);
      float sumw = 0;
      for (int l = 0; l < 16; ++l) sumw += weights[l];
      sw[j] = sumw;
      scales[j] = fit_symmetric(16, 4, x + 16 * j, L + 16 * j, weights);
    }
    int8_t Ls[16];
    d_block = fit_symmetric(16, 32, scales, Ls, sw);
    for (int j = 0; j < 16; ++j) biased[j] = uint8_t(Ls[j]);
  }
  q3k_pack_scales(biased, y.scales);
  y.d = f32_to_fp16(d_block);

  int8_t sc[16];
  q3k_unpack_scales(y.scales, sc);
  const float d = fp16_to_f32(y.d);
  for (int j = 0; j < 16; ++j) {
    const float dl = d * sc[j];
    if (!dl) continue;
    for (int i = 0; i < 16; ++i)
      L[16 * j + i] = int8_t(clamp_int(round_int(x[16 * j + i] / dl), -4, 3) + 4);
  }
  // High bit of element j goes to bit j/32 of hmask[j % 32]; the low 2 bits pack as Q2_K.
  std::memset(y.hmask, 0, sizeof(y.hmask));
  uint8_t low[kQK_K];
  for (int j = 0; j < kQK_K; ++j) {
    int v = L[j];
    if (v > 3) {
      y.hmask[j % 32] = uint8_t(y.hmask[j % 32] | (1u << (j / 32)));
      v -= 4;
    }
    low[j] = uint8_t(v);
  }
  pack_2bit(low, y.qs);
}

// ---- Q4_K / Q5_K ------------------------------------------------------------------------

// Shared by Q4_K (nmax 15) and Q5_K (nmax 31): 8 sub-blocks of 32 with a 6-bit scale and min.
// Fills L (0..nmax) and the block's d, dmin and packed scales.
void quantize_scales_mins_k(const float* x, int nmax, const float* importance, uint8_t* L,
                            uint16_t* d_out, uint16_t* dmin_out, uint8_t packed[12]) {
  uint8_t L_trial[32];
  float weights[32];
  float scales[8], mins[8];
  uint8_t ls[8], lm[8];
  if (!importance) {
    // Weights |x| + rms(sub-block), squared error; searches tuned per format by ggml.
    const float rmin = nmax == 15 ? -1.f : -0.5f;
    const int nstep = nmax == 15 ? 20 : 15;
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < 8; ++j) {
      float sum_x2 = 0;
      for (int l = 0; l < 32; ++l) sum_x2 += x[32 * j + l] * x[32 * j + l];
      const float av_x = std::sqrt(sum_x2 / 32);
      for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(x[32 * j + l]);
      scales[j] = fit_affine(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], L_trial, rmin, 0.1f,
                             nstep, false);
      if (scales[j] > max_scale) max_scale = scales[j];
      if (mins[j] > max_min) max_min = mins[j];
    }
    const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
    const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
    for (int j = 0; j < 8; ++j) {
      ls[j] = std::min<uint8_t>(63, uint8_t(round_int(inv_scale * scales[j])));
      lm[j] = std::min<uint8_t>(63, uint8_t(round_int(inv_min * mins[j])));
    }
    *d_out = f32_to_fp16(max_scale / 63.f);
    *dmin_out = f32_to_fp16(max_min / 63.f);
  } else {
    float sum_x2 = 0;
    for (int l = 0; l < kQK_K; ++l) sum_x2 += x[l] * x[l];
    const float sigma2 = 2 * sum_x2 / kQK_K;
    float sw[8];
    for (int j = 0; j < 8; ++j) {
      const float* qw = importance + 32 * j;
      for (int l = 0; l < 32; ++l) weights[l] = qw[l] * std::sqrt(sigma2 + x[32 * j + l] * x[32 * j + l]);
      float sumw = 0;
      for (int l = 0; l < 32; ++l) sumw += weights[l];
      sw[j] = sumw;
      scales[j] = fit_affine(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], L_trial, -0.9f, 0.05f,
                             36, false);
    }
    *d_out = f32_to_fp16(fit_positive(8, 63, scales, ls, sw));
    *dmin_out = f32_to_fp16(fit_positive(8, 63, mins, lm, sw));
  }
  kquant_pack_scales_mins(ls, lm, packed);

  const float d = fp16_to_f32(*d_out), dmin = fp16_to_f32(*dmin_out);
  for (int j = 0; j < 8; ++j) {
    uint8_t sc, m;
    kquant_scale_min(j, packed, &sc, &m);
    const float dl = d * sc;
    if (!dl) continue;
    const float ml = dmin * m;
    for (int i = 0; i < 32; ++i)
      L[32 * j + i] = uint8_t(clamp_int(round_int((x[32 * j + i] + ml) / dl), 0, nmax));
  }
}

void quantize_block_q4_k(const float* x, BlockQ4_K& y, const float* importance) {
  uint8_t L[kQK_K];
  quantize_scales_mins_k(x, 15, importance, L, &y.d, &y.dmin, y.scales);
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l) y.qs[32 * c + l] = uint8_t(L[64 * c + l] | (L[64 * c + l + 32] << 4));
}

void quantize_block_q5_k(const float* x, BlockQ5_K& y, const float* importance) {
  uint8_t L[kQK_K];
  quantize_scales_mins_k(x, 31, importance, L, &y.d, &y.dmin, y.scales);
  std::memset(y.qh, 0, sizeof(y.qh));
  for (int c = 0; c < 4; ++c) {
    for (int l = 0; l < 32; ++l) {
      int lo = L[64 * c + l], hi = L[64 * c + l + 32];
      if (lo > 15) {
        lo -= 16;
        y.qh[l] = uint8_t(y.qh[l] | (1u << (2 * c)));
      }
      if (hi > 15) {
        hi -= 16;
        y.qh[l] = uint8_t(y.qh[l] | (2u << (2 * c)));
      }
      y.qs[32 * c + l] = uint8_t(lo | (hi << 4));
    }
  }
}

// ---- Q6_K -------------------------------------------------------------------------------

void quantize_block_q6_k(const float* x, BlockQ6_K& y, const float* importance) {
  int8_t L[kQK_K];
  float scales[16];
  float max_scale = 0, max_abs_scale = 0;
  for (int j = 0; j < 16; ++j) {
    // The imatrix weights are used as they are: at 6 bits the sigma term made no difference.
    scales[j] = fit_symmetric(16, 32, x + 16 * j, L + 16 * j, importance ? importance + 16 * j : nullptr);
    const float a = std::fabs(scales[j]);
    if (a > max_abs_scale) {
      max_abs_scale = a;
      max_scale = scales[j];
    }
  }
  if (max_abs_scale < kGroupMaxEps) {
    std::memset(&y, 0, sizeof(y));
    return;
  }
  const float iscale = -128.f / max_scale;
  y.d = f32_to_fp16(1 / iscale);
  for (int j = 0; j < 16; ++j) y.scales[j] = int8_t(std::min(127, round_int(iscale * scales[j])));
  const float d = fp16_to_f32(y.d);
  for (int j = 0; j < 16; ++j) {
    const float dl = d * y.scales[j];
    if (!dl) continue;
    for (int i = 0; i < 16; ++i)
      L[16 * j + i] = int8_t(clamp_int(round_int(x[16 * j + i] / dl), -32, 31) + 32);
  }
  for (int h = 0; h < 2; ++h) {
    const int8_t* Lh = L + 128 * h;
    uint8_t* ql = y.ql + 64 * h;
    uint8_t* qh = y.qh + 32 * h;
    for (int l = 0; l < 32; ++l) {
      const int q1 = Lh[l], q2 = Lh[l + 32], q3 = Lh[l + 64], q4 = Lh[l + 96];
      ql[l] = uint8_t((q1 & 0x0F) | ((q3 & 0x0F) << 4));
      ql[l + 32] = uint8_t((q2 & 0x0F) | ((q4 & 0x0F) << 4));
      qh[l] = uint8_t((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
    }
  }
}

template <class Block, void (*QuantizeBlock)(const float*, Block&, const float*)>
void quantize_row(const float* src, void* dst, int64_t n, const float* importance) {
  auto* blocks = static_cast<Block*>(dst);
  for (int64_t b = 0; b < n / kQK_K; ++b)
    QuantizeBlock(src + b * kQK_K, blocks[b], importance ? importance + b * kQK_K : nullptr);
}

}  // namespace

void quantize_row_q2_k(const float* src, void* dst, int64_t n, const float* importance) {
  quantize_row<BlockQ2_K, quantize_block_q2_k>(src, dst, n, importance);
}
void quantize_row_q3_k(const float* src, void* dst, int64_t n, const float* importance) {
  quantize_row<BlockQ3_K, quantize_block_q3_k>(src, dst, n, importance);
}
void quantize_row_q4_k(const float* src, void* dst, int64_t n, const float* importance) {
  quantize_row<BlockQ4_K, quantize_block_q4_k>(src, dst, n, importance);
}
void quantize_row_q5_k(const float* src, void* dst, int64_t n, const float* importance) {
  quantize_row<BlockQ5_K, quantize_block_q5_k>(src, dst, n, importance);
}
void quantize_row_q6_k(const float* src, void* dst, int64_t n, const float* importance) {
  quantize_row<BlockQ6_K, quantize_block_q6_k>(src, dst, n, importance);
}

}  // namespace hearth
