// The weighted row sums of the KV cache formats (KernelTable accumulate: y += Σ_r w_r · row_r)
// on every ISA level the host runs against the scalar reference, and the reference against the
// definition computed in double: many element counts (tails), row counts, row strides and
// misaligned rows.
//
// Tolerance. Per element both sides add the same products in the same order; a kernel may fuse
// the multiply-add, and the reference rounds each product first. With u = 2^-24, each partial
// sum differs by at most a few u times the running magnitude, so two kernels differ by at most
// 2 (n_rows + 2) u M, M = |y_i| + Σ_r |w_r x_ri| — tight enough that a wrong element, scale or
// row fails it.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/fp16.h"
#include "kernels/kernels.h"
#include "quant/blocks.h"
#include "quant/ggml_type.h"

namespace hearth {
namespace {

using T = GgmlType;
constexpr double kU = 1.0 / (1 << 24);

struct Level {
  std::string name;
  const KernelTable* table;
};

std::vector<Level> isas_to_test() {
  std::vector<Level> out;
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512, Isa::kNeon, Isa::kDotprod})
    if (isa_supported(isa)) out.push_back({std::string(isa_name(isa)), &kernel_table(isa)});
  return out;
}

// n_rows rows of n elements, row r at data() + r * stride bytes, starting `misalign` bytes past a
// 64-byte boundary (rows in the cache start at even addresses; Q8_0 blocks at any even one).
struct Rows {
  std::vector<uint8_t> storage;
  size_t offset = 0;
  int64_t stride = 0;
  std::vector<std::vector<double>> values;  // the exact elements, for the double oracle

  const uint8_t* data() const { return storage.data() + offset; }
};

Rows make_rows(GgmlType type, int64_t n_rows, int64_t n, int64_t extra_stride, size_t misalign,
               std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  Rows r;
  const int64_t bytes = static_cast<int64_t>(*row_bytes(type, n));
  r.stride = bytes + extra_stride;
  r.storage.assign(static_cast<size_t>(r.stride * n_rows + 128), 0xA5);
  const auto base = reinterpret_cast<uintptr_t>(r.storage.data());
  r.offset = ((base + 63) & ~uintptr_t{63}) - base + misalign;
  for (int64_t k = 0; k < n_rows; ++k) {
    uint8_t* row = r.storage.data() + r.offset + k * r.stride;
    std::vector<double> vals(static_cast<size_t>(n));
    if (type == T::F32) {
      for (int64_t i = 0; i < n; ++i) {
        const float v = normal(rng);
        std::memcpy(row + 4 * i, &v, 4);
        vals[static_cast<size_t>(i)] = v;
      }
    } else if (type == T::F16) {
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = f32_to_fp16(normal(rng));
        std::memcpy(row + 2 * i, &h, 2);
        vals[static_cast<size_t>(i)] = fp16_to_f32(h);
      }
    } else {  // Q8_0
      for (int64_t b = 0; b < n / 32; ++b) {
        BlockQ8_0 blk;
        blk.d = f32_to_fp16(std::ldexp(normal(rng), -6));
        for (int j = 0; j < 32; ++j) blk.qs[j] = static_cast<int8_t>(rng() % 255 - 127);
        std::memcpy(row + b * 34, &blk, sizeof blk);
        for (int j = 0; j < 32; ++j)
          vals[static_cast<size_t>(b * 32 + j)] =
              static_cast<double>(fp16_to_f32(blk.d) * static_cast<float>(blk.qs[j]));
      }
    }
    r.values.push_back(std::move(vals));
  }
  return r;
}

struct Case {
  GgmlType type;
  int64_t n_rows, n, extra_stride;
  size_t misalign;
};

std::vector<Case> cases() {
  std::vector<Case> out;
  for (T type : {T::F32, T::F16, T::Q8_0}) {
    const bool q8 = type == T::Q8_0;
    const std::vector<int64_t> ns =
        q8 ? std::vector<int64_t>{32, 64, 96, 128, 256, 512}
           : std::vector<int64_t>{1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 80, 96, 127, 128, 256, 1023};
    for (int64_t n : ns)
      for (int64_t n_rows : {1, 2, 3, 7, 64, 257})
        out.push_back({type, n_rows, n, (n_rows % 2) * 2, static_cast<size_t>(2 * (n % 3))});
  }
  return out;
}

std::vector<float> random_weights(int64_t n_rows, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<float> w(static_cast<size_t>(n_rows));
  for (float& x : w) x = u(rng) * (rng() % 8 == 0 ? -1.0f : 1.0f);
  return w;
}

// Runs one kernel on y = y0 and checks it against `want` (exact sums) within the tolerance.
void check(const char* who, AccumulateFn fn, const Case& c, const Rows& rows,
           const std::vector<float>& w, const std::vector<float>& y0,
           const std::vector<double>& want, const std::vector<double>& magnitude) {
  std::vector<float> y = y0;
  fn(c.n_rows, w.data(), rows.data(), rows.stride, c.n, y.data());
  for (int64_t i = 0; i < c.n; ++i) {
    const size_t k = static_cast<size_t>(i);
    const double tol = 2.0 * static_cast<double>(c.n_rows + 2) * kU * magnitude[k] + 1e-30;
    ASSERT_NEAR(y[k], want[k], tol) << who << " " << type_traits(c.type).name << " n=" << c.n
                                    << " rows=" << c.n_rows << " element " << i;
  }
}

TEST(Accumulate, EveryIsaMatchesTheReferenceAndTheReferenceTheDefinition) {
  std::mt19937 rng(1234);
  const KernelTable& scalar = kernel_table(Isa::kScalar);
  const std::vector<Level> levels = isas_to_test();
  for (const Case& c : cases()) {
    const Rows rows = make_rows(c.type, c.n_rows, c.n, c.extra_stride, c.misalign, rng);
    const std::vector<float> w = random_weights(c.n_rows, rng);
    std::vector<float> y0(static_cast<size_t>(c.n));
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (float& v : y0) v = normal(rng);

    std::vector<double> exact(static_cast<size_t>(c.n)), magnitude(static_cast<size_t>(c.n));
    for (int64_t i = 0; i < c.n; ++i) {
      const size_t k = static_cast<size_t>(i);
      exact[k] = y0[k];
      magnitude[k] = std::fabs(y0[k]);
      for (int64_t r = 0; r < c.n_rows; ++r) {
        const double term = double{w[static_cast<size_t>(r)]} * rows.values[static_cast<size_t>(r)][k];
        exact[k] += term;
        magnitude[k] += std::fabs(term);
      }
    }
    const AccumulateFn ref = scalar.of(c.type).accumulate;
    ASSERT_NE(ref, nullptr);
    check("scalar", ref, c, rows, w, y0, exact, magnitude);

    std::vector<float> y_ref = y0;
    ref(c.n_rows, w.data(), rows.data(), rows.stride, c.n, y_ref.data());
    const std::vector<double> want_ref(y_ref.begin(), y_ref.end());
    for (const Level& l : levels) {
      const AccumulateFn fn = l.table->of(c.type).accumulate;
      ASSERT_NE(fn, nullptr) << l.name;
      check(l.name.c_str(), fn, c, rows, w, y0, want_ref, magnitude);
    }
  }
}

TEST(Accumulate, ZeroRowsLeaveYUnchanged) {
  const std::vector<float> w;
  std::vector<float> y = {1.0f, -2.0f, 3.0f};
  for (const KernelTable* t : {&kernel_table(Isa::kScalar), &kernel_table(best_isa())}) {
    t->of(T::F16).accumulate(0, w.data(), nullptr, 0, 3, y.data());
    EXPECT_EQ(y, (std::vector<float>{1.0f, -2.0f, 3.0f}));
  }
}

}  // namespace
}  // namespace hearth
