// Q4_0, Q4_1, Q5_0, Q5_1: 32-element blocks, one fp16 scale (and an fp16 offset for the _1
// kinds), element j in the low nibble of qs[j] and element j+16 in the high one; the Q5 kinds
// keep each element's 5th bit in the 32-bit mask qh (bit j for element j).
//
// Without importance weights the quantizers are the formats' one round-to-nearest definition,
// written so that every output byte equals llama.cpp's reference quantizer (`*_ref`), which its
// `llama-quantize` also uses when no imatrix is given:
//   Q4_0/Q5_0  d = m / -8 (or -16) where m is the element of largest magnitude, sign kept, so
//              m lands exactly on the most negative level; q = trunc(x/d + 8.5), capped at 15
//              (+16.5 and 31 for Q5_0): the +0.5 rounds half up because x/d + 8 >= 0.
//   Q4_1/Q5_1  d = (max - min) / 15 (or 31), offset = min, q = trunc((x - min)/d + 0.5),
//              capped at 15 for Q4_1 and not capped for Q5_1.
// The reference multiplies by the rounded reciprocal 1/d rather than dividing, and rounds the
// product to float before the add; both matter for the bytes and are kept here.
//
// With importance weights (an imatrix) the scale (and offset) are instead searched to minimise
// the weighted squared error, like llama.cpp's imatrix paths: several trial scales around the
// plain one, each followed by the weighted least-squares fit for the levels it chose.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/fp16.h"
#include "quant/blocks.h"
#include "quant/formats.h"

namespace hearth {
namespace {

// Returns v rounded to float at this point. GCC contracts a*b+c into one fused multiply-add
// even across statements in C++ (-ffp-contract=fast), and aarch64 always has FMA; the
// reference rounds the product first, so an empty asm pins the rounded product in a register.
// The library is built with -ffp-contract=off too; this keeps the bytes independent of flags.
inline float rounded(float v) {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  __asm__("" : "+x"(v));
#elif defined(__GNUC__) && defined(__aarch64__)
  __asm__("" : "+w"(v));
#else
  volatile float pinned = v;
  v = pinned;
#endif
  return v;
}

// The reference converts with a plain C cast, `(int8_t)f` / `(uint8_t)f`, which x86-64 compiles
// to a truncating convert to int32 followed by taking the low byte. Out-of-range values (and
// NaN) give INT32_MIN there, low byte 0. Only blocks of subnormal weights, where 1/d is far
// from 8/m, reach such values; reproducing them keeps the bytes identical everywhere.
inline int32_t truncate_to_int32(float v) {
  if (v >= -2147483648.0f && v < 2147483648.0f) return static_cast<int32_t>(v);
  return std::numeric_limits<int32_t>::min();
}
inline int8_t cast_to_int8(float v) { return static_cast<int8_t>(truncate_to_int32(v)); }
inline uint8_t cast_to_uint8(float v) { return static_cast<uint8_t>(truncate_to_int32(v)); }

// The signed element of largest magnitude (the first one on ties), as the reference finds it.
inline float signed_absmax(const float* x, int n) {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < n; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

inline void min_max(const float* x, int n, float* lo, float* hi) {
  float min = FLT_MAX, max = -FLT_MAX;
  for (int j = 0; j < n; ++j) {
    if (x[j] < min) min = x[j];
    if (x[j] > max) max = x[j];
  }
  *lo = min;
  *hi = max;
}

inline void set_high_bits(uint8_t qh_bytes[4], const uint8_t q[32]) {
  uint32_t qh = 0;
  for (int j = 0; j < 32; ++j) qh |= uint32_t((q[j] >> 4) & 1) << j;
  std::memcpy(qh_bytes, &qh, 4);  // little endian on every target hearth builds for
}

inline void pack_low_nibbles(uint8_t qs[16], const uint8_t q[32]) {
  for (int j = 0; j < 16; ++j) qs[j] = uint8_t((q[j] & 0x0f) | ((q[j + 16] & 0x0f) << 4));
}

inline uint32_t load_high_bits(const uint8_t qh_bytes[4]) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, 4);
  return qh;
}

// ---- importance-weighted searches ------------------------------------------------------

// Per-element weights: the imatrix value times a magnitude term, so that within a block the
// large weights (which dominate a dot product) count more, but small ones never count zero.
// sigma2 is the row's mean square, as llama.cpp's imatrix quantizers use.
// A block whose importances are all zero (a column no calibration token touched) falls back to
// equal weights rather than to a zero scale.
void element_weights(const float* x, const float* importance, float sigma2, float* w, int n) {
  float total = 0.0f;
  for (int j = 0; j < n; ++j) {
    w[j] = importance[j] * std::sqrt(sigma2 + x[j] * x[j]);
    total += w[j];
  }
  if (!(total > 0.0f)) std::fill(w, w + n, 1.0f);
}

float mean_square(const float* x, int64_t n) {
  double s = 0.0;
  for (int64_t j = 0; j < n; ++j) s += double(x[j]) * x[j];
  return n > 0 ? float(s / double(n)) : 0.0f;
}

inline int nearest(float v) { return static_cast<int>(std::nearbyint(v)); }

// Symmetric levels l in [-nmax, nmax-1] (x ≈ d·l), 32 elements. Returns d and the levels
// offset by nmax (0..2·nmax-1). Each trial inverse scale maps the extreme element m onto
// -(nmax + t/10); the least-squares d for the chosen levels is Σwxl/Σwl², which lowers the
// weighted error by (Σwxl)²/Σwl², the quantity compared. A final pass re-rounds with the best d.
float search_symmetric(const float* x, const float* w, int nmax, uint8_t* q) {
  const float m = signed_absmax(x, 32);
  if (std::fabs(m) < 1e-30f) {
    std::fill(q, q + 32, uint8_t(nmax));
    return 0.0f;
  }
  auto fit = [&](float iscale, int* l, float* sumlx, float* suml2) {
    float slx = 0.0f, sl2 = 0.0f;
    for (int j = 0; j < 32; ++j) {
      l[j] = std::clamp(nearest(iscale * x[j]), -nmax, nmax - 1);
      slx += w[j] * x[j] * float(l[j]);
      sl2 += w[j] * float(l[j] * l[j]);
    }
    *sumlx = slx;
    *suml2 = sl2;
  };
  int l[32], best_l[32];
  float best_gain = -1.0f, best_d = 0.0f;
  auto consider = [&](float iscale) {
    float slx, sl2;
    fit(iscale, l, &slx, &sl2);
    if (sl2 <= 0.0f) return;
    const float gain = slx * slx / sl2;
    if (gain > best_gain) {
      best_gain = gain;
      best_d = slx / sl2;
      std::copy(l, l + 32, best_l);
    }
  };
  for (int t = -10; t <= 10; ++t) consider(-(float(nmax) + 0.1f * float(t)) / m);
  for (int pass = 0; pass < 2 && best_d != 0.0f; ++pass) consider(1.0f / best_d);
  if (best_gain < 0.0f) {
    std::fill(q, q + 32, uint8_t(nmax));
    return 0.0f;
  }
  for (int j = 0; j < 32; ++j) q[j] = uint8_t(best_l[j] + nmax);
  return best_d;
}

// Affine levels l in [0, nmax] (x ≈ d·l + offset), 32 elements. Trial inverse scales stretch
// the [min, max] range over nmax-1 .. nmax+1 steps; for each rounding the pair (d, offset) is the
// weighted least-squares solution, and the pair of least weighted error wins.
void search_affine(const float* x, const float* w, int nmax, uint8_t* q, float* d_out,
                   float* offset_out) {
  float lo, hi;
  min_max(x, 32, &lo, &hi);
  if (!(hi > lo)) {  // a constant block is exact with d = 0
    std::fill(q, q + 32, uint8_t(0));
    *d_out = 0.0f;
    *offset_out = lo;
    return;
  }
  float sw = 0.0f, swx = 0.0f;
  for (int j = 0; j < 32; ++j) {
    sw += w[j];
    swx += w[j] * x[j];
  }
  uint8_t l[32];
  float best_err = std::numeric_limits<float>::infinity();
  auto error_of = [&](float d, float off) {
    float e = 0.0f;
    for (int j = 0; j < 32; ++j) {
      const float diff = d * float(l[j]) + off - x[j];
      e += w[j] * diff * diff;
    }
    return e;
  };
  auto keep_if_better = [&](float d, float off) {
    const float e = error_of(d, off);
    if (e < best_err) {
      best_err = e;
      *d_out = d;
      *offset_out = off;
      std::copy(l, l + 32, q);
    }
  };
  auto round_with = [&](float iscale, float off) {
    for (int j = 0; j < 32; ++j)
      l[j] = uint8_t(std::clamp(nearest(iscale * (x[j] - off)), 0, nmax));
  };
  auto fit_and_keep = [&]() {
    float swl = 0.0f, swl2 = 0.0f, swxl = 0.0f;
    for (int j = 0; j < 32; ++j) {
      const float lf = float(l[j]);
      swl += w[j] * lf;
      swl2 += w[j] * lf * lf;
      swxl += w[j] * lf * x[j];
    }
    const float det = sw * swl2 - swl * swl;
    if (det > 0.0f) keep_if_better((sw * swxl - swx * swl) / det, (swl2 * swx - swl * swxl) / det);
  };
  const float plain = float(nmax) / (hi - lo);
  round_with(plain, lo);
  keep_if_better(1.0f / plain, lo);
  for (int t = 0; t <= 40; ++t) {
    round_with((float(nmax) - 1.0f + 0.05f * float(t)) / (hi - lo), lo);
    fit_and_keep();
  }
  for (int pass = 0; pass < 2 && *d_out > 0.0f; ++pass) {
    round_with(1.0f / *d_out, *offset_out);
    fit_and_keep();
  }
}

}  // namespace

// ---- dequantization --------------------------------------------------------------------

void dequantize_row_q4_0(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ4_0*>(src);
  for (int64_t i = 0; i < n / kQK4_0; ++i, dst += kQK4_0) {
    const float d = fp16_to_f32(b[i].d);
    for (int j = 0; j < 16; ++j) {
      dst[j] = float((b[i].qs[j] & 0x0f) - 8) * d;
      dst[j + 16] = float((b[i].qs[j] >> 4) - 8) * d;
    }
  }
}

void dequantize_row_q4_1(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ4_1*>(src);
  for (int64_t i = 0; i < n / kQK4_1; ++i, dst += kQK4_1) {
    const float d = fp16_to_f32(b[i].d);
    const float m = fp16_to_f32(b[i].m);
    for (int j = 0; j < 16; ++j) {
      dst[j] = rounded(float(b[i].qs[j] & 0x0f) * d) + m;
      dst[j + 16] = rounded(float(b[i].qs[j] >> 4) * d) + m;
    }
  }
}

void dequantize_row_q5_0(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ5_0*>(src);
  for (int64_t i = 0; i < n / kQK5_0; ++i, dst += kQK5_0) {
    const float d = fp16_to_f32(b[i].d);
    const uint32_t qh = load_high_bits(b[i].qh);
    for (int j = 0; j < 16; ++j) {
      const int q0 = (b[i].qs[j] & 0x0f) | int((qh >> j) & 1) << 4;
      const int q1 = (b[i].qs[j] >> 4) | int((qh >> (j + 16)) & 1) << 4;
      dst[j] = float(q0 - 16) * d;
      dst[j + 16] = float(q1 - 16) * d;
    }
  }
}

void dequantize_row_q5_1(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ5_1*>(src);
  for (int64_t i = 0; i < n / kQK5_1; ++i, dst += kQK5_1) {
    const float d = fp16_to_f32(b[i].d);
    const float m = fp16_to_f32(b[i].m);
    const uint32_t qh = load_high_bits(b[i].qh);
    for (int j = 0; j < 16; ++j) {
      const int q0 = (b[i].qs[j] & 0x0f) | int((qh >> j) & 1) << 4;
      const int q1 = (b[i].qs[j] >> 4) | int((qh >> (j + 16)) & 1) << 4;
      dst[j] = rounded(float(q0) * d) + m;
      dst[j + 16] = rounded(float(q1) * d) + m;
    }
  }
}

// ---- quantization ----------------------------------------------------------------------

void quantize_row_q4_0(const float* src, void* dst, int64_t n, const float* importance) {
  auto* b = static_cast<BlockQ4_0*>(dst);
  const int64_t nb = n / kQK4_0;
  if (importance) {
    const float sigma2 = mean_square(src, n);
    float w[32];
    uint8_t q[32];
    for (int64_t i = 0; i < nb; ++i) {
      const float* x = src + i * kQK4_0;
      element_weights(x, importance + i * kQK4_0, sigma2, w, 32);
      b[i].d = f32_to_fp16(search_symmetric(x, w, 8, q));
      pack_low_nibbles(b[i].qs, q);
    }
    return;
  }
  for (int64_t i = 0; i < nb; ++i) {
    const float* x = src + i * kQK4_0;
    const float d = signed_absmax(x, kQK4_0) / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b[i].d = f32_to_fp16(d);
    for (int j = 0; j < 16; ++j) {
      const uint8_t q0 = uint8_t(std::min<int>(15, cast_to_int8(rounded(x[j] * id) + 8.5f)));
      const uint8_t q1 = uint8_t(std::min<int>(15, cast_to_int8(rounded(x[j + 16] * id) + 8.5f)));
      b[i].qs[j] = uint8_t(q0 | (q1 << 4));
    }
  }
}

void quantize_row_q4_1(const float* src, void* dst, int64_t n, const float* importance) {
  auto* b = static_cast<BlockQ4_1*>(dst);
  const int64_t nb = n / kQK4_1;
  if (importance) {
    const float sigma2 = mean_square(src, n);
    float w[32], d, offset;
    uint8_t q[32];
    for (int64_t i = 0; i < nb; ++i) {
      const float* x = src + i * kQK4_1;
      element_weights(x, importance + i * kQK4_1, sigma2, w, 32);
      search_affine(x, w, 15, q, &d, &offset);
      b[i].d = f32_to_fp16(d);
      b[i].m = f32_to_fp16(offset);
      pack_low_nibbles(b[i].qs, q);
    }
    return;
  }
  for (int64_t i = 0; i < nb; ++i) {
    const float* x = src + i * kQK4_1;
    float lo, hi;
    min_max(x, kQK4_1, &lo, &hi);
    const float d = (hi - lo) / 15.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b[i].d = f32_to_fp16(d);
    b[i].m = f32_to_fp16(lo);
    for (int j = 0; j < 16; ++j) {
      const uint8_t q0 = uint8_t(std::min<int>(15, cast_to_int8(rounded((x[j] - lo) * id) + 0.5f)));
      const uint8_t q1 =
          uint8_t(std::min<int>(15, cast_to_int8(rounded((x[j + 16] - lo) * id) + 0.5f)));
      b[i].qs[j] = uint8_t(q0 | (q1 << 4));
    }
  }
}

void quantize_row_q5_0(const float* src, void* dst, int64_t n, const float* importance) {
  auto* b = static_cast<BlockQ5_0*>(dst);
  const int64_t nb = n / kQK5_0;
  const float sigma2 = importance ? mean_square(src, n) : 0.0f;
  float w[32];
  uint8_t q[32];
  for (int64_t i = 0; i < nb; ++i) {
    const float* x = src + i * kQK5_0;
    if (importance) {
      element_weights(x, importance + i * kQK5_0, sigma2, w, 32);
      b[i].d = f32_to_fp16(search_symmetric(x, w, 16, q));
    } else {
      const float d = signed_absmax(x, kQK5_0) / -16.0f;
      const float id = d != 0.0f ? 1.0f / d : 0.0f;
      b[i].d = f32_to_fp16(d);
      for (int j = 0; j < 32; ++j)
        q[j] = uint8_t(std::min<int>(31, cast_to_int8(rounded(x[j] * id) + 16.5f)));
    }
    pack_low_nibbles(b[i].qs, q);
    set_high_bits(b[i].qh, q);
  }
}

void quantize_row_q5_1(const float* src, void* dst, int64_t n, const float* importance) {
  auto* b = static_cast<BlockQ5_1*>(dst);
  const int64_t nb = n / kQK5_1;
  const float sigma2 = importance ? mean_square(src, n) : 0.0f;
  float w[32];
  uint8_t q[32];
  for (int64_t i = 0; i < nb; ++i) {
    const float* x = src + i * kQK5_1;
    if (importance) {
      float d, offset;
      element_weights(x, importance + i * kQK5_1, sigma2, w, 32);
      search_affine(x, w, 31, q, &d, &offset);
      b[i].d = f32_to_fp16(d);
      b[i].m = f32_to_fp16(offset);
    } else {
      float lo, hi;
      min_max(x, kQK5_1, &lo, &hi);
      const float d = (hi - lo) / 31.0f;
      const float id = d != 0.0f ? 1.0f / d : 0.0f;
      b[i].d = f32_to_fp16(d);
      b[i].m = f32_to_fp16(lo);
      // No cap: (max - min)·id + 0.5 stays below 32 for every finite block.
      for (int j = 0; j < 32; ++j) q[j] = cast_to_uint8(rounded((x[j] - lo) * id) + 0.5f);
    }
    pack_low_nibbles(b[i].qs, q);
    set_high_bits(b[i].qh, q);
  }
}

}  // namespace hearth
