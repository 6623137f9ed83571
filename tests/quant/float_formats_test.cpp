// F32/F16/BF16: the conversions of core/fp16.h checked exhaustively over all 65536 16-bit
// patterns, the rounding of every halfway point, the special values, and (where the host has
// it) the hardware converter (F16C on x86, FCVT on aarch64) over a wide sample of all floats.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/fp16.h"
#include "quant/formats.h"
#include "quant/ggml_type.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace hearth {
namespace {

bool is_nan_half(uint16_t h) { return (h & 0x7c00) == 0x7c00 && (h & 0x03ff) != 0; }
bool is_nan_bf16(uint16_t h) { return (h & 0x7f80) == 0x7f80 && (h & 0x007f) != 0; }

// An independent decoding of a half: sign · mantissa · 2^exp computed in double.
double half_value(uint16_t h) {
  const int sign = h & 0x8000 ? -1 : 1;
  const int exp = (h >> 10) & 0x1f;
  const int mant = h & 0x3ff;
  if (exp == 0x1f) return mant ? std::numeric_limits<double>::quiet_NaN() : sign * INFINITY;
  if (exp == 0) return sign * std::ldexp(double(mant), -24);
  return sign * std::ldexp(double(mant + 1024), exp - 25);
}

TEST(Fp16, DecodesEveryHalfExactly) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = fp16_to_f32(uint16_t(h));
    if (is_nan_half(uint16_t(h))) {
      ASSERT_TRUE(std::isnan(f)) << h;
      // The payload moves to the top of the float mantissa, sign kept.
      EXPECT_EQ(f32_to_bits(f), (uint32_t(h & 0x8000) << 16) | 0x7f800000u | (uint32_t(h & 0x3ff) << 13));
    } else {
      ASSERT_EQ(double(f), half_value(uint16_t(h))) << h;
      ASSERT_EQ(std::signbit(f), (h & 0x8000) != 0) << h;  // -0 stays -0
    }
  }
}

TEST(Fp16, EveryHalfRoundTrips) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const uint16_t back = f32_to_fp16(fp16_to_f32(uint16_t(h)));
    if (is_nan_half(uint16_t(h)))
      EXPECT_EQ(back, uint16_t(h | 0x0200)) << h;  // F16C: quiet bit set, payload kept
    else
      ASSERT_EQ(back, h) << h;
  }
}

// Between two neighbouring finite halves a and b: the midpoint goes to the even one, anything
// off the midpoint (by one float ulp) to the nearer one.
TEST(Fp16, RoundsHalfwayCasesToEven) {
  for (uint32_t h = 0; h < 0x7bff; ++h) {  // positive finite halves below the largest
    for (uint32_t sign : {0u, 0x8000u}) {
      const uint16_t a = uint16_t(h | sign), b = uint16_t((h + 1) | sign);
      const float mid = float((half_value(a) + half_value(b)) / 2);  // exact in float
      const uint16_t even = (h & 1) ? b : a;
      ASSERT_EQ(f32_to_fp16(mid), even) << h;
      const float toward_a = std::nextafter(mid, float(half_value(a)));
      const float toward_b = std::nextafter(mid, float(half_value(b)));
      ASSERT_EQ(f32_to_fp16(toward_a), a) << h;
      ASSERT_EQ(f32_to_fp16(toward_b), b) << h;
    }
  }
}

TEST(Fp16, SpecialValues) {
  EXPECT_EQ(f32_to_fp16(0.0f), 0x0000);
  EXPECT_EQ(f32_to_fp16(-0.0f), 0x8000);
  EXPECT_EQ(f32_to_fp16(1.0f), 0x3c00);
  EXPECT_EQ(f32_to_fp16(-2.0f), 0xc000);
  EXPECT_EQ(f32_to_fp16(65504.0f), 0x7bff);                   // largest half
  EXPECT_EQ(f32_to_fp16(65519.996f), 0x7bff);                 // just below the midpoint to inf
  EXPECT_EQ(f32_to_fp16(65520.0f), 0x7c00);                   // midpoint: even is infinity
  EXPECT_EQ(f32_to_fp16(1e10f), 0x7c00);
  EXPECT_EQ(f32_to_fp16(-1e10f), 0xfc00);
  EXPECT_EQ(f32_to_fp16(INFINITY), 0x7c00);
  EXPECT_EQ(f32_to_fp16(-INFINITY), 0xfc00);
  EXPECT_EQ(f32_to_fp16(std::ldexp(1.0f, -24)), 0x0001);     // smallest subnormal
  EXPECT_EQ(f32_to_fp16(std::ldexp(1.0f, -25)), 0x0000);     // half of it: ties to even 0
  EXPECT_EQ(f32_to_fp16(std::ldexp(1.5f, -25)), 0x0001);
  EXPECT_EQ(f32_to_fp16(std::ldexp(3.0f, -25)), 0x0002);     // 1.5 ulp: ties to even 2
  EXPECT_EQ(f32_to_fp16(std::ldexp(1.0f, -14)), 0x0400);     // smallest normal
  EXPECT_EQ(f32_to_fp16(std::ldexp(1023.5f, -24)), 0x0400);  // top subnormal rounds up into it
  EXPECT_EQ(f32_to_fp16(1e-30f), 0x0000);
  EXPECT_EQ(f32_to_fp16(-1e-30f), 0x8000);
  EXPECT_EQ(f32_to_fp16(std::numeric_limits<float>::denorm_min()), 0x0000);
  EXPECT_EQ(f32_to_fp16(std::numeric_limits<float>::quiet_NaN()), 0x7e00);
  EXPECT_EQ(f32_to_fp16(bits_to_f32(0x7f800001u)), 0x7e00);  // signalling NaN comes out quiet
  EXPECT_EQ(f32_to_fp16(bits_to_f32(0xffc02000u)), 0xfe01);  // sign and top payload bits kept
}

// The F16C instruction (and aarch64's FCVT) define the rounding hearth's SIMD kernels use; the
// portable converter must agree with them on every input, NaN payloads included. A stride
// coprime with 2^32 samples every exponent and many mantissa patterns.
#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("f16c"))) uint16_t hardware_fp16(float f) {
  return uint16_t(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT));
}
bool hardware_fp16_available() { return __builtin_cpu_supports("f16c"); }
#elif defined(__aarch64__)
uint16_t hardware_fp16(float f) {
  const __fp16 h = static_cast<__fp16>(f);  // FCVT, round to nearest even (FPCR default)
  uint16_t bits;
  std::memcpy(&bits, &h, 2);
  return bits;
}
bool hardware_fp16_available() { return true; }
#else
uint16_t hardware_fp16(float) { return 0; }
bool hardware_fp16_available() { return false; }
#endif

TEST(Fp16, MatchesHardwareConverter) {
  if (!hardware_fp16_available()) GTEST_SKIP() << "no hardware fp16 converter on this host";
  int64_t checked = 0;
  for (uint64_t u = 0; u < (uint64_t(1) << 32); u += 9973) {
    const float f = bits_to_f32(uint32_t(u));
    ASSERT_EQ(f32_to_fp16(f), hardware_fp16(f)) << std::hex << u;
    ++checked;
  }
  for (uint32_t h = 0; h < 65536; ++h) {  // and every half's neighbourhood
    const float f = fp16_to_f32(uint16_t(h));
    for (int d = -2; d <= 2; ++d) {
      const float g = bits_to_f32(f32_to_bits(f) + uint32_t(d) * 0x1000u);  // ±2 half-ulps
      ASSERT_EQ(f32_to_fp16(g), hardware_fp16(g)) << std::hex << f32_to_bits(g);
    }
  }
  EXPECT_GT(checked, 400000);
}

TEST(Bf16, EveryBf16RoundTrips) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = bf16_to_f32(uint16_t(h));
    ASSERT_EQ(f32_to_bits(f), h << 16);
    const uint16_t back = f32_to_bf16(f);
    if (is_nan_bf16(uint16_t(h)))
      EXPECT_EQ(back, uint16_t(h | 0x0040)) << h;  // quieted, like ggml and gguf-py
    else
      ASSERT_EQ(back, h) << h;
  }
}

// Nearest of the two bf16 neighbours of x, ties to the even one: computed in double.
uint16_t bf16_nearest(float x) {
  const uint32_t u = f32_to_bits(x);
  const uint32_t lo = u & 0xffff0000u;
  const double a = bf16_to_f32(uint16_t(lo >> 16));
  const uint32_t hi_bits = (lo >> 16) + 1;  // next pattern away from zero (may become inf)
  const double b = bf16_to_f32(uint16_t(hi_bits));
  const double da = std::fabs(double(x) - a), db = std::fabs(b - double(x));
  if (da < db) return uint16_t(lo >> 16);
  if (db < da) return uint16_t(hi_bits);
  return (lo >> 16) & 1 ? uint16_t(hi_bits) : uint16_t(lo >> 16);
}

TEST(Bf16, RoundsToNearestEven) {
  for (uint64_t u = 0; u < (uint64_t(1) << 32); u += 7919) {
    const float f = bits_to_f32(uint32_t(u));
    if ((u & 0x7fffffffu) >= 0x7f7f8000u) continue;  // rounds to inf, or is inf/NaN: below
    ASSERT_EQ(f32_to_bf16(f), bf16_nearest(f)) << std::hex << u;
  }
  EXPECT_EQ(f32_to_bf16(bits_to_f32(0x3f808000u)), 0x3f80);  // tie, even below
  EXPECT_EQ(f32_to_bf16(bits_to_f32(0x3f818000u)), 0x3f82);  // tie, even above
  EXPECT_EQ(f32_to_bf16(bits_to_f32(0x3f808001u)), 0x3f81);
  EXPECT_EQ(f32_to_bf16(bits_to_f32(0x00018000u)), 0x0002);  // subnormals are kept, not flushed
  EXPECT_EQ(f32_to_bf16(bits_to_f32(0x80000001u)), 0x8000);
  EXPECT_EQ(f32_to_bf16(std::numeric_limits<float>::max()), 0x7f80);  // rounds up to inf
  EXPECT_EQ(f32_to_bf16(-INFINITY), 0xff80);
  EXPECT_EQ(f32_to_bf16(bits_to_f32(0x7f800001u)), 0x7fc0);  // NaN never becomes inf
  EXPECT_EQ(f32_to_bf16(bits_to_f32(0xff81ffffu)), 0xffc1);  // payload truncated, not rounded
}

// The row functions of the type table are the element conversions, on any byte alignment.
TEST(FloatRows, RowsUseTheElementConversions) {
  std::vector<float> x(257);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::ldexp(float(i) - 128.3f, int(i % 40) - 20);
  for (GgmlType t : {GgmlType::F32, GgmlType::F16, GgmlType::BF16}) {
    const TypeTraits& tt = type_traits(t);
    std::vector<uint8_t> buf(x.size() * tt.block_bytes + 1);
    uint8_t* odd = buf.data() + 1;  // rows sliced from a file need not be aligned
    tt.quantize(x.data(), odd, int64_t(x.size()), nullptr);
    std::vector<float> y(x.size());
    tt.dequantize(odd, y.data(), int64_t(x.size()));
    for (size_t i = 0; i < x.size(); ++i) {
      float want = x[i];
      if (t == GgmlType::F16) want = fp16_to_f32(f32_to_fp16(x[i]));
      if (t == GgmlType::BF16) want = bf16_to_f32(f32_to_bf16(x[i]));
      ASSERT_EQ(f32_to_bits(y[i]), f32_to_bits(want)) << tt.name << " " << i;
    }
  }
}

}  // namespace
}  // namespace hearth
