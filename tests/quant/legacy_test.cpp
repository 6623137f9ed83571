// Q4_0, Q4_1, Q5_0, Q5_1 (and the Q8_0 weight quantizer): hand-built blocks with known values,
// hand-worked quantizations that pin the reference rounding (half up, the caps at 15/31, the
// sign of d), byte identity with llama.cpp's llama-quantize output on the shared synth model,
// and the importance-weighted search against plain rounding.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/fp16.h"
#include "gguf/reader.h"
#include "quant/blocks.h"
#include "quant/formats.h"
#include "quant/ggml_type.h"
#include "test_data.h"

namespace hearth {
namespace {

std::vector<float> dequantize(GgmlType t, const void* block, int64_t n) {
  std::vector<float> y(static_cast<size_t>(n));
  type_traits(t).dequantize(block, y.data(), n);
  return y;
}

// ---- known blocks ----------------------------------------------------------------------

TEST(LegacyDequant, Q4_0KnownBlock) {
  BlockQ4_0 b{};
  b.d = 0x3800;  // 0.5
  for (int j = 0; j < 16; ++j) b.qs[j] = uint8_t(j | ((15 - j) << 4));
  const auto y = dequantize(GgmlType::Q4_0, &b, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], 0.5f * float(j - 8)) << j;       // low nibbles: -4 .. 3.5
    EXPECT_EQ(y[j + 16], 0.5f * float(7 - j)) << j;  // high nibbles: 3.5 .. -4
  }
}

TEST(LegacyDequant, Q4_1KnownBlock) {
  BlockQ4_1 b{};
  b.d = 0x3400;  // 0.25
  b.m = 0xbc00;  // -1
  for (int j = 0; j < 16; ++j) b.qs[j] = uint8_t(j | ((15 - j) << 4));
  const auto y = dequantize(GgmlType::Q4_1, &b, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], 0.25f * float(j) - 1.0f) << j;
    EXPECT_EQ(y[j + 16], 0.25f * float(15 - j) - 1.0f) << j;
  }
  EXPECT_EQ(y[0], -1.0f);
  EXPECT_EQ(y[15], 2.75f);
}

TEST(LegacyDequant, Q5_0KnownBlock) {
  BlockQ5_0 b{};
  b.d = 0x3c00;  // 1
  for (int j = 0; j < 16; ++j) b.qs[j] = uint8_t(j | ((15 - j) << 4));
  const uint32_t qh = 0x0000ffffu;  // 5th bit set for elements 0..15 only
  std::memcpy(b.qh, &qh, 4);
  const auto y = dequantize(GgmlType::Q5_0, &b, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], float(j)) << j;             // (16 + j) - 16
    EXPECT_EQ(y[j + 16], float(-1 - j)) << j;   // (15 - j) - 16
  }
}

TEST(LegacyDequant, Q5_1KnownBlock) {
  BlockQ5_1 b{};
  b.d = 0x3800;  // 0.5
  b.m = 0x4000;  // 2
  for (int j = 0; j < 16; ++j) b.qs[j] = uint8_t(j | ((15 - j) << 4));
  const uint32_t qh = 0xffff0000u;  // 5th bit set for elements 16..31 only
  std::memcpy(b.qh, &qh, 4);
  const auto y = dequantize(GgmlType::Q5_1, &b, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], 0.5f * float(j) + 2.0f) << j;
    EXPECT_EQ(y[j + 16], 0.5f * float(31 - j) + 2.0f) << j;  // (15 - j) | 16
  }
  EXPECT_EQ(y[16], 17.5f);
}

// ---- hand-worked quantizations ---------------------------------------------------------

// x = -4 is the extreme, so d = -4/-8 = 0.5 and 1/d = 2; q = trunc(2x + 8.5), at most 15.
TEST(LegacyQuantize, Q4_0RoundsHalfUpAndCaps) {
  float x[32] = {};
  x[0] = -4.0f;    // -8 + 8.5 = 0.5 -> 0
  x[1] = 3.75f;    // 7.5 + 8.5 = 16 -> capped at 15
  x[2] = 0.25f;    // 0.5 -> 9 (half rounds up)
  x[3] = -0.25f;   // -0.5 -> 8 (half rounds up, to 0)
  x[4] = -0.75f;   // -1.5 -> 7
  x[5] = 1.2f;     // 2.4 -> 10
  x[16] = -3.9f;   // -7.8 -> 0
  x[17] = 2.0f;    // 4 -> 12
  BlockQ4_0 b;
  quantize_row_q4_0(x, &b, 32, nullptr);
  EXPECT_EQ(b.d, 0x3800);
  const uint8_t want[16] = {0x00, 0xcf, 0x89, 0x88, 0x87, 0x8a, 0x88, 0x88,
                            0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88};
  EXPECT_EQ(std::memcmp(b.qs, want, 16), 0);
}

// The extreme keeps its sign: a positive one gives a negative d, and -4 then rounds to 16,
// which the cap turns into 15 (the format's asymmetric range costs that element 0.5).
TEST(LegacyQuantize, Q4_0PositiveExtremeGivesNegativeScale) {
  float x[32] = {};
  x[0] = 4.0f;   // first of two equal magnitudes wins
  x[1] = -4.0f;
  x[2] = 1.0f;   // -2 + 8.5 -> 6
  BlockQ4_0 b;
  quantize_row_q4_0(x, &b, 32, nullptr);
  EXPECT_EQ(b.d, 0xb800);  // -0.5
  EXPECT_EQ(b.qs[0], 0x80);
  EXPECT_EQ(b.qs[1], 0x8f);
  EXPECT_EQ(b.qs[2], 0x86);
  const auto y = dequantize(GgmlType::Q4_0, &b, 32);
  EXPECT_EQ(y[0], 4.0f);
  EXPECT_EQ(y[1], -3.5f);
  EXPECT_EQ(y[2], 1.0f);
}

// min -1, max 2.75: d = 3.75/15 = 0.25, q = trunc(4(x + 1) + 0.5).
TEST(LegacyQuantize, Q4_1KnownBlock) {
  float x[32] = {};
  x[0] = -1.0f;     // 0
  x[1] = 2.75f;     // 15
  x[2] = -0.875f;   // 0.5 -> 1
  x[16] = 1.0f;     // 8
  BlockQ4_1 b;
  quantize_row_q4_1(x, &b, 32, nullptr);  // the zeros give 4
  EXPECT_EQ(b.d, 0x3400);
  EXPECT_EQ(b.m, 0xbc00);
  EXPECT_EQ(b.qs[0], 0x80);
  EXPECT_EQ(b.qs[1], 0x4f);
  EXPECT_EQ(b.qs[2], 0x41);
  for (int j = 3; j < 16; ++j) EXPECT_EQ(b.qs[j], 0x44) << j;
}

// Extreme -8: d = 0.5, q = trunc(2x + 16.5), at most 31; 5th bits go to qh.
TEST(LegacyQuantize, Q5_0KnownBlock) {
  float x[32] = {};
  x[0] = -8.0f;    // 0
  x[1] = 7.75f;    // 32 -> capped at 31
  x[2] = 0.25f;    // 17
  x[3] = -0.25f;   // 16
  x[17] = -5.0f;   // 6.5 -> 6
  BlockQ5_0 b;
  quantize_row_q5_0(x, &b, 32, nullptr);  // zeros give 16
  EXPECT_EQ(b.d, 0x3800);
  EXPECT_EQ(b.qs[0], 0x00);
  EXPECT_EQ(b.qs[1], 0x6f);
  EXPECT_EQ(b.qs[2], 0x01);
  for (int j = 3; j < 16; ++j) EXPECT_EQ(b.qs[j], 0x00) << j;
  const uint8_t qh[4] = {0xfe, 0xff, 0xfd, 0xff};  // all but elements 0 and 17 are >= 16
  EXPECT_EQ(std::memcmp(b.qh, qh, 4), 0);
}

// min -1, max 6.75: d = 7.75/31 = 0.25.
TEST(LegacyQuantize, Q5_1KnownBlock) {
  float x[32] = {};
  x[0] = -1.0f;     // 0
  x[1] = 6.75f;     // 31
  x[2] = -0.875f;   // 1
  x[20] = 3.0f;     // 16
  BlockQ5_1 b;
  quantize_row_q5_1(x, &b, 32, nullptr);  // zeros give 4
  EXPECT_EQ(b.d, 0x3400);
  EXPECT_EQ(b.m, 0xbc00);
  const uint8_t qs[16] = {0x40, 0x4f, 0x41, 0x44, 0x04, 0x44, 0x44, 0x44,
                          0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44};
  EXPECT_EQ(std::memcmp(b.qs, qs, 16), 0);
  const uint8_t qh[4] = {0x02, 0x00, 0x10, 0x00};
  EXPECT_EQ(std::memcmp(b.qh, qh, 4), 0);
}

// d = amax/127, q = round half away from zero.
TEST(LegacyQuantize, Q8_0KnownBlock) {
  float x[32] = {};
  x[0] = -127.0f;  // d = 1
  x[1] = 2.5f;     // 3 (away from zero, not to even)
  x[2] = -2.5f;    // -3
  x[3] = 0.49f;    // 0
  BlockQ8_0 b;
  quantize_row_q8_0(x, &b, 32, nullptr);
  EXPECT_EQ(b.d, 0x3c00);
  EXPECT_EQ(b.qs[0], -127);
  EXPECT_EQ(b.qs[1], 3);
  EXPECT_EQ(b.qs[2], -3);
  EXPECT_EQ(b.qs[3], 0);
}

TEST(LegacyQuantize, ZeroBlocksHaveZeroScale) {
  const float x[64] = {};
  std::vector<float> ones(64, 1.0f);
  for (GgmlType t : {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1}) {
    for (const float* imp : {static_cast<const float*>(nullptr), static_cast<const float*>(ones.data())}) {
      std::vector<uint8_t> q(*row_bytes(t, 64));
      type_traits(t).quantize(x, q.data(), 64, imp);
      for (float v : dequantize(t, q.data(), 64)) EXPECT_EQ(v, 0.0f) << type_traits(t).name;
    }
  }
}

// ---- byte identity with llama.cpp ------------------------------------------------------

std::vector<float> tensor_floats(const gguf::TensorInfo& t) {
  std::vector<float> v(static_cast<size_t>(t.n_elements()));
  std::memcpy(v.data(), t.data, v.size() * sizeof(float));
  return v;
}

// Quantizes every tensor of the F32 source that llama-quantize wrote as `type` and compares
// the bytes. The synth files were made without an imatrix, so llama.cpp used its _ref path.
void expect_same_bytes_as_llama(const std::string& file_type, GgmlType type) {
  const auto dir = test::models_dir() / "synth";
  const auto src_path = dir / "synth-llama-tiny-F32.gguf";
  const auto ref_path = dir / ("synth-llama-tiny-" + file_type + ".gguf");
  HEARTH_REQUIRE_FILE(src_path);
  HEARTH_REQUIRE_FILE(ref_path);
  auto src = gguf::File::open(src_path);
  ASSERT_TRUE(src.ok()) << src.error().message;
  auto ref = gguf::File::open(ref_path);
  ASSERT_TRUE(ref.ok()) << ref.error().message;
  const TypeTraits& tt = type_traits(type);
  int compared = 0;
  for (const gguf::TensorInfo& t : ref->tensors()) {
    if (t.type != type) continue;
    const gguf::TensorInfo* s = src->find_tensor(t.name);
    ASSERT_NE(s, nullptr) << t.name;
    ASSERT_EQ(s->type, GgmlType::F32) << t.name;
    ASSERT_EQ(s->ne, t.ne) << t.name;
    const std::vector<float> x = tensor_floats(*s);
    const int64_t n0 = t.ne[0];
    const size_t rb = *row_bytes(type, n0);
    ASSERT_EQ(t.nbytes, rb * size_t(t.n_rows())) << t.name;
    std::vector<uint8_t> ours(t.nbytes);
    for (int64_t r = 0; r < t.n_rows(); ++r)
      tt.quantize(x.data() + r * n0, ours.data() + r * rb, n0, nullptr);
    size_t differing = 0, first = t.nbytes;
    for (size_t i = 0; i < t.nbytes; ++i) {
      if (ours[i] != t.data[i]) {
        if (first == t.nbytes) first = i;
        ++differing;
      }
    }
    EXPECT_EQ(differing, 0u) << t.name << ": " << differing << " of " << t.nbytes
                             << " bytes differ, first at " << first;
    ++compared;
  }
  EXPECT_GT(compared, 0) << "no " << tt.name << " tensor in " << ref_path;
}

TEST(LegacyBitIdentity, Q4_0) { expect_same_bytes_as_llama("Q4_0", GgmlType::Q4_0); }
TEST(LegacyBitIdentity, Q4_1) { expect_same_bytes_as_llama("Q4_1", GgmlType::Q4_1); }
TEST(LegacyBitIdentity, Q5_0) { expect_same_bytes_as_llama("Q5_0", GgmlType::Q5_0); }
TEST(LegacyBitIdentity, Q5_1) { expect_same_bytes_as_llama("Q5_1", GgmlType::Q5_1); }
TEST(LegacyBitIdentity, Q8_0) { expect_same_bytes_as_llama("Q8_0", GgmlType::Q8_0); }
TEST(LegacyBitIdentity, F16) { expect_same_bytes_as_llama("F16", GgmlType::F16); }
TEST(LegacyBitIdentity, BF16) { expect_same_bytes_as_llama("BF16", GgmlType::BF16); }

// ---- importance-weighted search --------------------------------------------------------

// Σ importance·(x - x̂)² over a row: the error the imatrix path is meant to lower.
double weighted_error(GgmlType t, const std::vector<float>& x, const std::vector<float>& imp,
                      const float* imp_for_quant) {
  const int64_t n = int64_t(x.size());
  std::vector<uint8_t> q(*row_bytes(t, n));
  type_traits(t).quantize(x.data(), q.data(), n, imp_for_quant);
  const auto y = dequantize(t, q.data(), n);
  double e = 0.0;
  for (size_t i = 0; i < x.size(); ++i) e += double(imp[i]) * (double(x[i]) - y[i]) * (x[i] - y[i]);
  return e;
}

TEST(LegacyImportance, SearchBeatsPlainRoundingOnWeightedError) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> spread(-3.0f, 3.0f);
  for (GgmlType t : {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1}) {
    double with = 0.0, without = 0.0;
    for (int row = 0; row < 64; ++row) {
      std::vector<float> x(512), imp(512);
      for (auto& v : x) v = normal(rng);
      for (auto& v : imp) v = std::exp(spread(rng));  // importances over ~2.5 decades
      with += weighted_error(t, x, imp, imp.data());
      without += weighted_error(t, x, imp, nullptr);
    }
    // The search includes scales close to the plain one and fits each by least squares, so on
    // the weighted error it must be clearly better in aggregate (measured: 25-40% lower).
    EXPECT_LT(with, 0.9 * without) << type_traits(t).name << " with " << with << " without "
                                   << without;
  }
}

TEST(LegacyImportance, ZeroImportanceStillQuantizes) {
  std::vector<float> x(64), imp(64, 0.0f);
  for (int i = 0; i < 64; ++i) x[i] = std::sin(float(i));
  for (GgmlType t : {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1}) {
    std::vector<uint8_t> q(*row_bytes(t, 64));
    type_traits(t).quantize(x.data(), q.data(), 64, imp.data());
    const auto y = dequantize(t, q.data(), 64);
    double e = 0.0;
    for (int i = 0; i < 64; ++i) e += (x[i] - y[i]) * (x[i] - y[i]);
    EXPECT_LT(std::sqrt(e / 64), 0.1) << type_traits(t).name;
  }
}

}  // namespace
}  // namespace hearth
