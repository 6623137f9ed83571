// Packed Q4_0 / Q5_0 / Q8_0 / Q4_K / Q5_K / Q6_K GEMM (kernels/repack.h, kernels/tile.h): the
// repacked layout read by the scalar packed reference must give the reference vec_dot's
// results (layout test, every host), and every SIMD packed kernel the host runs must match
// the packed reference within float rounding, for 1..4 activation rows, several row groups
// and group sub-ranges.
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/fp16.h"
#include "kernels/kernels.h"
#include "kernels/repack.h"
#include "kernels/repack_kquants.h"
#include "kernels/tile.h"
#include "quant/blocks.h"
#include "quant/ggml_type.h"

namespace hearth {
namespace {

using T = GgmlType;

struct Problem {
  GgmlType type;
  int64_t ne0, nrows;
  std::vector<uint8_t> w;       // plain rows
  std::vector<uint8_t> packed;  // repacked
  std::vector<uint8_t> act;     // kTileActs Q8_0 rows (Q8_K for the K-quants)
  std::vector<int32_t> sums;    // their block sums (K-quants: kpack::pair_sums)
  size_t act_bytes;
  size_t sums_stride;
};

bool is_k(GgmlType t) { return kpack::has_layout(t); }

// Byte offsets of a block's f16 scales (d, and dmin where the format has one).
std::vector<size_t> half_offsets(GgmlType t) {
  if (t == T::Q6_K) return {offsetof(BlockQ6_K, d)};
  if (is_k(t)) return {0, 2};
  return {0};
}

Problem make(GgmlType type, int64_t ne0, int64_t nrows, std::mt19937& rng) {
  Problem p{type, ne0, nrows, {}, {}, {}, {}, 0, 0};
  const size_t row = *row_bytes(type, ne0);
  p.w.resize(row * nrows);
  for (auto& b : p.w) b = static_cast<uint8_t>(rng());
  std::uniform_real_distribution<float> mag(-4.0f, -1.0f);
  const size_t block = type_traits(type).block_bytes;
  for (size_t off = 0; off < p.w.size(); off += block)
    for (size_t at : half_offsets(type)) {
      const uint16_t h = f32_to_fp16(std::pow(10.0f, mag(rng)) * (rng() & 1 ? 1.0f : -1.0f));
      std::memcpy(&p.w[off + at], &h, 2);
    }
  p.packed.resize(*packed_bytes(type, ne0, nrows));
  repack_rows(type, p.w.data(), row, ne0, nrows, p.packed.data());
  const GgmlType act_type = is_k(type) ? T::Q8_K : T::Q8_0;
  p.act_bytes = *row_bytes(act_type, ne0);
  p.act.resize(p.act_bytes * kTileActs);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(ne0));
  const int64_t nb = ne0 / 32;
  p.sums_stride = static_cast<size_t>(is_k(type) ? 4 * (ne0 / kQK_K) : nb);
  for (int a = 0; a < kTileActs; ++a) {
    for (float& v : x) v = normal(rng);
    uint8_t* act = &p.act[a * p.act_bytes];
    kernel_table(Isa::kScalar).of(type).quantize_act(x.data(), act, ne0);
    if (is_k(type)) {
      const size_t at = p.sums.size();
      p.sums.resize(at + p.sums_stride);
      kpack::pair_sums(act, ne0 / kQK_K, &p.sums[at]);
      continue;
    }
    const auto* blocks = reinterpret_cast<const BlockQ8_0*>(act);
    for (int64_t j = 0; j < nb; ++j) {
      int32_t s = 0;
      for (int8_t q : blocks[j].qs) s += q;
      p.sums.push_back(s);
    }
  }
  return p;
}

std::vector<int64_t> lengths(GgmlType type, bool big) {
  if (is_k(type)) return big ? std::vector<int64_t>{256, 512, 2048} : std::vector<int64_t>{256, 768};
  return big ? std::vector<int64_t>{32, 64, 160, 2048} : std::vector<int64_t>{32, 96, 256};
}

constexpr GgmlType kPackedTypes[] = {T::Q4_0, T::Q5_0, T::Q8_0, T::Q4_K, T::Q5_K, T::Q6_K};

TEST(PackedGemm, SizesAndRefusals) {
  EXPECT_EQ(packed_bytes(T::Q4_0, 64, 32), 2u * 2u * 18u * 16u);
  EXPECT_EQ(packed_bytes(T::Q5_0, 96, 16), 3u * 22u * 16u);
  EXPECT_EQ(packed_bytes(T::Q8_0, 32, 16), 34u * 16u);
  EXPECT_FALSE(packed_bytes(T::Q4_0, 64, 24).has_value());  // not a whole number of groups
  EXPECT_EQ(packed_bytes(T::Q4_K, 512, 32), 2u * 2u * (144u * 16u + 64u));
  EXPECT_EQ(packed_bytes(T::Q5_K, 256, 16), 176u * 16u + 64u);
  EXPECT_EQ(packed_bytes(T::Q6_K, 256, 16), 210u * 16u + 32u);
  EXPECT_FALSE(packed_bytes(T::Q4_K, 128, 16).has_value());  // not a whole superblock
  EXPECT_FALSE(packed_bytes(T::Q2_K, 256, 16).has_value());  // no packed layout
}

TEST(PackedGemm, ReferenceReadsTheLayoutLikeVecDot) {
  std::mt19937 rng(11);
  const KernelTable& ref = kernel_table(Isa::kScalar);
  for (GgmlType type : kPackedTypes)
    for (int64_t ne0 : lengths(type, false)) {
      const Problem p = make(type, ne0, 32, rng);
      std::vector<float> y(kTileActs * 32);
      packed_gemm_ref(type, ne0, p.packed.data(), 0, 2, p.act.data(), p.act_bytes, kTileActs,
                      y.data(), 32);
      const size_t row = *row_bytes(type, ne0);
      for (int a = 0; a < kTileActs; ++a)
        for (int r = 0; r < 32; ++r) {
          const float want = ref.of(type).vec_dot(ne0, &p.w[r * row], &p.act[a * p.act_bytes]);
          EXPECT_NEAR(y[a * 32 + r], want, 1e-5 * (1.0 + std::fabs(want)))
              << type_traits(type).name << " ne0=" << ne0 << " a=" << a << " r=" << r;
        }
    }
}

// The tied token embedding is read back from the packed copy: every row must come out exactly
// as the format's dequantizer gives it from the original.
TEST(PackedGemm, PackedRowsDequantizeLikeTheOriginal) {
  std::mt19937 rng(13);
  for (GgmlType type : kPackedTypes)
    for (int64_t ne0 : lengths(type, false)) {
      const Problem p = make(type, ne0, 32, rng);
      const size_t row = *row_bytes(type, ne0);
      std::vector<float> want(static_cast<size_t>(ne0)), got(static_cast<size_t>(ne0));
      for (int64_t r = 0; r < 32; ++r) {
        type_traits(type).dequantize(&p.w[r * row], want.data(), ne0);
        dequantize_packed_row(type, ne0, p.packed.data(), r, got.data());
        for (int64_t i = 0; i < ne0; ++i)
          ASSERT_EQ(got[i], want[i]) << type_traits(type).name << " ne0=" << ne0 << " row " << r
                                     << " element " << i;
      }
    }
}

TEST(PackedGemm, SimdMatchesReference) {
  bool any = false;
  std::mt19937 rng(12);
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512, Isa::kNeon, Isa::kDotprod}) {
    if (!isa_supported(isa)) continue;
    for (GgmlType type : kPackedTypes) {
      const PackedGemmFn fn = tile_kernels(isa).packed_of(type);
      if (fn == nullptr) continue;
      any = true;
      for (int64_t ne0 : lengths(type, true)) {
        const Problem p = make(type, ne0, 48, rng);
        for (int n_act = 1; n_act <= kTileActs; ++n_act) {
          std::vector<float> want(kTileActs * 48, 0.0f), got(kTileActs * 48, -7.0f);
          packed_gemm_ref(type, ne0, p.packed.data(), 1, 3, p.act.data(), p.act_bytes, n_act,
                          want.data(), 48);
          PackedActs acts;
          acts.q = p.act.data();
          acts.q_stride = p.act_bytes;
          acts.sums = p.sums.data();
          acts.sums_stride = p.sums_stride;
          acts.n = n_act;
          fn(ne0, p.packed.data(), 1, 3, acts, got.data(), 48);
          for (int a = 0; a < kTileActs; ++a)
            for (int r = 0; r < 48; ++r) {
              const std::string where = std::string(isa_name(isa)) + " " +
                                        std::string(type_traits(type).name) +
                                        " ne0=" + std::to_string(ne0) + " n_act=" +
                                        std::to_string(n_act) + " a=" + std::to_string(a) +
                                        " r=" + std::to_string(r);
              if (a >= n_act || r < 16) {  // outside the rows and groups asked for: untouched
                EXPECT_EQ(got[a * 48 + r], -7.0f) << where;
                continue;
              }
              const float w = want[a * 48 + r];
              EXPECT_NEAR(got[a * 48 + r], w, 1e-5 * (1.0 + std::fabs(w)) * std::sqrt(ne0 / 32.0))
                  << where;
            }
        }
      }
    }
  }
  if (!any) GTEST_SKIP() << "no packed kernel on this CPU";
}

}  // namespace
}  // namespace hearth
