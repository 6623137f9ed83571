// Tile kernels (kernels/tile.h) against the same ISA's vec_dot, which they must match bit for
// bit (prefill and token-by-token decoding give the same logits), and against the scalar
// reference within a loose relative bound (vec_dot_test holds the tight one). Random blocks,
// 1..4 activation rows, strided outputs and misaligned rows; on every ISA the host runs.
// Levels without tile kernels (arm64 today) check the matmul fallback instead, in matmul_test.
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/fp16.h"
#include "kernels/kernels.h"
#include "kernels/tile.h"
#include "quant/blocks.h"
#include "quant/ggml_type.h"

namespace hearth {
namespace {

using T = GgmlType;

const GgmlType kTileFormats[] = {T::F32, T::F16, T::BF16, T::Q4_0, T::Q5_0, T::Q8_0, T::IQ4_NL, T::Q4_K, T::Q5_K, T::Q6_K};

// Byte offsets of a block's half-precision scale fields.
std::vector<size_t> scale_fields(GgmlType type) {
  switch (type) {
    case T::Q4_K: case T::Q5_K: return {0, 2};
    case T::Q6_K: return {offsetof(BlockQ6_K, d)};
    default: return {0};
  }
}

// Float weights: normal values. Quant formats: random quant bytes with every scale a sane half
// (1e-4..1e-1, either sign).
void fill_weights(GgmlType type, uint8_t* w, int64_t n, std::mt19937& rng) {
  if (type == T::F32 || type == T::F16 || type == T::BF16) {
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (int64_t i = 0; i < n; ++i) {
      const float v = normal(rng);
      if (type == T::F32) {
        std::memcpy(w + 4 * i, &v, 4);
      } else {
        uint32_t bits;
        std::memcpy(&bits, &v, 4);
        const uint16_t h = type == T::F16 ? f32_to_fp16(v) : static_cast<uint16_t>(bits >> 16);
        std::memcpy(w + 2 * i, &h, 2);
      }
    }
    return;
  }
  const TypeTraits& tt = type_traits(type);
  const size_t bytes = *row_bytes(type, n);
  for (size_t i = 0; i < bytes; ++i) w[i] = static_cast<uint8_t>(rng());
  std::uniform_real_distribution<float> mag(-4.0f, -1.0f);
  for (int64_t b = 0; b < n / tt.block_size; ++b)
    for (size_t f : scale_fields(type)) {
      const float v = std::pow(10.0f, mag(rng)) * (rng() & 1 ? 1.0f : -1.0f);
      const uint16_t h = f32_to_fp16(v);
      std::memcpy(w + b * tt.block_bytes + f, &h, 2);
    }
}

struct Case {
  Isa isa;
  GgmlType type;
};

std::vector<Case> cases() {
  std::vector<Case> out;
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512, Isa::kNeon, Isa::kDotprod})
    if (isa_supported(isa))
      for (GgmlType t : kTileFormats)
        if (tile_kernels(isa).of(t) != nullptr) out.push_back({isa, t});
  return out;
}

TEST(TileDot, ScalarLevelHasNoTiles) {
  for (GgmlType t : kTileFormats) EXPECT_EQ(tile_kernels(Isa::kScalar).of(t), nullptr);
}

TEST(TileDot, MatchesVecDotBitForBitAndReferenceClosely) {
  const std::vector<Case> all = cases();
  if (all.empty()) GTEST_SKIP() << "no ISA level on this CPU has tile kernels";
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const KernelTable& ref = kernel_table(Isa::kScalar);
  for (const Case& c : all) {
    const KernelTable& kt = kernel_table(c.isa);
    const FormatKernels& k = kt.of(c.type);
    const TileDotFn tile = tile_kernels(c.isa).of(c.type);
    const int64_t block = std::max<int64_t>(type_traits(c.type).block_size,
                                            type_traits(k.act_type).block_size);
    // Float formats have 1-element blocks: lengths around the 8/16/64-lane loops and their tails.
    const std::vector<int64_t> counts = block == 1 ? std::vector<int64_t>{1, 7, 16, 17, 33, 64, 100, 200}
                                                   : std::vector<int64_t>{1, 2, 3, 5, 8};
    for (int64_t nblocks : counts) {
      const int64_t n = block * nblocks;
      for (size_t misalign : {0, 2, 6}) {
        const size_t wbytes = *row_bytes(c.type, n);
        const size_t abytes = *row_bytes(k.act_type, n) + misalign;  // rows start misaligned too
        std::vector<uint8_t> wbuf(wbytes + 64), abuf(abytes * kTileActs + 64);
        uint8_t* w = wbuf.data() + misalign;
        uint8_t* act = abuf.data() + misalign;
        fill_weights(c.type, w, n, rng);
        std::vector<float> x(static_cast<size_t>(n));
        std::vector<uint8_t> act_ref(*row_bytes(k.act_type, n) * kTileActs);
        for (int a = 0; a < kTileActs; ++a) {
          for (float& v : x) v = normal(rng) * (rng() % 16 == 0 ? 8.0f : 1.0f);
          k.quantize_act(x.data(), act + a * abytes, n);
          ref.of(c.type).quantize_act(x.data(), act_ref.data() + a * *row_bytes(k.act_type, n), n);
        }
        for (int n_act = 1; n_act <= kTileActs; ++n_act) {
          constexpr size_t kStride = 3;  // outputs of one weight row sit a column apart
          std::vector<float> y(kStride * kTileActs, -1.0f);
          tile(n, w, act, abytes, n_act, y.data(), kStride);
          for (int a = 0; a < n_act; ++a) {
            const std::string where = std::string(isa_name(c.isa)) + " " +
                                      std::string(type_traits(c.type).name) + " n=" +
                                      std::to_string(n) + " n_act=" + std::to_string(n_act) +
                                      " a=" + std::to_string(a);
            const float want = k.vec_dot(n, w, act + a * abytes);
            EXPECT_EQ(std::memcmp(&y[a * kStride], &want, 4), 0)
                << where << ": " << y[a * kStride] << " vs vec_dot " << want;
            const float oracle = ref.of(c.type).vec_dot(
                n, w, act_ref.data() + a * *row_bytes(k.act_type, n));
            EXPECT_NEAR(y[a * kStride], oracle, 1e-3 * (1.0 + std::fabs(oracle))) << where;
          }
          for (int a = n_act; a < kTileActs; ++a) EXPECT_EQ(y[a * kStride], -1.0f) << "wrote past n_act";
        }
      }
    }
  }
}

}  // namespace
}  // namespace hearth
