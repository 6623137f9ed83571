// matmul/matvec against (1) the same table's vec_dot row by row — bit-identical, since the
// op must only schedule, never change arithmetic — and (2) a double-precision product of the
// dequantized weights with the unquantised activations, within a bound on what activation
// quantization can change (see act_quant_bound).
#include "ops/matmul.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/fp16.h"
#include "quant/formats.h"

namespace hearth {
namespace {

using T = GgmlType;

const GgmlType kFormats[] = {T::F32,  T::F16,  T::BF16, T::Q4_0, T::Q4_1,   T::Q5_0, T::Q5_1, T::Q8_0,
                             T::IQ4_NL, T::Q2_K, T::Q3_K, T::Q4_K, T::Q5_K, T::Q6_K, T::IQ4_XS};

std::vector<Isa> isas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512, Isa::kNeon, Isa::kDotprod})
    if (isa_supported(isa)) out.push_back(isa);
  return out;
}

// Weights through the format's own quantizer from random floats: realistic blocks.
struct Matrix {
  WeightMatrix view;
  std::vector<uint8_t> bytes;
};

Matrix make_weights(GgmlType type, int64_t ne0, int64_t nrows, size_t pad, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 0.05f);
  const size_t rb = *row_bytes(type, ne0);
  Matrix m;
  m.bytes.resize((rb + pad) * static_cast<size_t>(nrows));
  std::vector<float> row(static_cast<size_t>(ne0));
  for (int64_t r = 0; r < nrows; ++r) {
    for (float& v : row) v = normal(rng);
    type_traits(type).quantize(row.data(), m.bytes.data() + static_cast<size_t>(r) * (rb + pad), ne0,
                               nullptr);
  }
  m.view = {type, ne0, nrows, m.bytes.data(), rb + pad};
  return m;
}

// Bound on |sum w_i a_i - sum w_i q(a_i)| where q is the activation quantizer: each element
// moves by at most half a step (amax / 254 of its block) plus the half rounding of the block
// scale (2^-11 relative, twice over for safety); F32 activations move by nothing. The float
// evaluation itself adds 2 (n + 16) 2^-24 sum|w a| as in vec_dot_test.
double act_quant_bound(GgmlType act, const float* w, const float* a, int64_t n) {
  double sum_abs = 0.0;
  for (int64_t i = 0; i < n; ++i) sum_abs += std::fabs(double{w[i]} * a[i]);
  double bound = 2.0 * static_cast<double>(n + 16) * std::ldexp(1.0, -24) * sum_abs;
  if (act == T::F32) return bound;
  const int64_t block = act == T::Q8_K ? 256 : 32;
  for (int64_t b = 0; b < n; b += block) {
    double amax = 0.0;
    for (int64_t i = b; i < b + block; ++i) amax = std::max(amax, std::fabs(double{a[i]}));
    for (int64_t i = b; i < b + block; ++i)
      bound += std::fabs(double{w[i]}) * (amax / 254.0 * 1.001) + std::fabs(double{w[i]} * a[i]) * 0x1p-10;
  }
  return bound;
}

TEST(Matmul, MatchesRowDotsAndDequantizedReference) {
  std::mt19937 rng(5);
  for (GgmlType type : kFormats) {
    const int64_t bs = type_traits(type).block_size == 1 ? 32 : type_traits(type).block_size;
    const int64_t ne0 = bs * (bs == 256 ? 3 : 7);
    for (int64_t nrows : {1, 5, 13, 37}) {
      Matrix w = make_weights(type, ne0, nrows, nrows % 2 ? 6 : 0, rng);
      const int64_t n_batch = nrows == 13 ? 5 : 1 + nrows % 3;
      std::normal_distribution<float> normal(0.0f, 1.0f);
      std::vector<float> x(static_cast<size_t>(ne0 * n_batch));
      for (float& v : x) v = normal(rng);
      // Double reference from dequantized weights.
      std::vector<float> wf(static_cast<size_t>(ne0));
      std::vector<double> exact(static_cast<size_t>(n_batch * nrows));
      std::vector<double> bound(exact.size());
      const GgmlType act_type = kernel_table(Isa::kScalar).of(type).act_type;
      for (int64_t r = 0; r < nrows; ++r) {
        type_traits(type).dequantize(w.bytes.data() + static_cast<size_t>(r) * w.view.row_stride,
                                     wf.data(), ne0);
        for (int64_t b = 0; b < n_batch; ++b) {
          double s = 0.0;
          for (int64_t i = 0; i < ne0; ++i) s += double{wf[i]} * x[b * ne0 + i];
          exact[b * nrows + r] = s;
          bound[b * nrows + r] = act_quant_bound(act_type, wf.data(), x.data() + b * ne0, ne0);
        }
      }
      for (Isa isa : isas()) {
        const KernelTable& kt = kernel_table(isa);
        const FormatKernels& k = kt.of(type);
        std::vector<uint8_t> act(std::max<size_t>(1, type_traits(k.act_type).block_bytes) *
                                 static_cast<size_t>(ne0) * 2);
        for (int threads = 1; threads <= 4; ++threads) {
          ThreadPool pool(threads, 0);
          std::vector<float> y(static_cast<size_t>(n_batch * nrows), NAN);
          ASSERT_TRUE(matmul(kt, pool, w.view, x.data(), n_batch, y.data()).ok());
          for (int64_t b = 0; b < n_batch; ++b) {
            k.quantize_act(x.data() + b * ne0, act.data(), ne0);
            for (int64_t r = 0; r < nrows; ++r) {
              const float row_dot = k.vec_dot(
                  ne0, w.bytes.data() + static_cast<size_t>(r) * w.view.row_stride, act.data());
              const size_t o = static_cast<size_t>(b * nrows + r);
              ASSERT_EQ(y[o], row_dot) << type_traits(type).name << " " << isa_name(isa)
                                       << " threads=" << threads << " r=" << r << " b=" << b;
              ASSERT_NEAR(y[o], exact[o], bound[o]) << type_traits(type).name << " " << isa_name(isa);
            }
          }
          if (n_batch == 1) {
            std::vector<float> yv(static_cast<size_t>(nrows), NAN);
            ASSERT_TRUE(matvec(kt, pool, w.view, x.data(), yv.data()).ok());
            for (int64_t r = 0; r < nrows; ++r) EXPECT_EQ(yv[r], y[r]);
          }
        }
      }
    }
  }
}

TEST(Matmul, ClearErrors) {
  ThreadPool pool(1);
  const KernelTable& kt = kernel_table(Isa::kScalar);
  std::vector<uint8_t> bytes(4096);
  float x[512] = {}, y[4] = {};
  Status s = matvec(kt, pool, {T::IQ2_XXS, 256, 1, bytes.data(), 66}, x, y);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("no kernel for IQ2_XXS"), std::string::npos) << s.error().message;
  s = matvec(kt, pool, {T::Q4_0, 48, 1, bytes.data(), 36}, x, y);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("not a whole number"), std::string::npos) << s.error().message;
  s = matvec(kt, pool, {T::Q4_K, 512, 2, bytes.data(), 100}, x, y);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("stride"), std::string::npos) << s.error().message;
}

}  // namespace
}  // namespace hearth
