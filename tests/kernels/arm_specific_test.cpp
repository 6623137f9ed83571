// arm64-only kernel checks that the generic vec_dot test (random blocks, every ISA) does not make:
//  1. Worst-case operands. NeonDot (the Cortex-A72 path) chains int8 products in int16 lanes as
//     far as each format's weight range allows (kernels/arm_neon/neon_dot.h); random blocks
//     rarely hit the corners where a wrong bound would overflow. Here every weight byte takes
//     patterns that put all weights and scales at the ends of their ranges (0x00, 0xFF, 0x80, ...)
//     against activations of all -128, all 127 or alternating.
//  2. The NEON activation quantizers are bit-identical with the scalar ones (ties, zeros, tiny
//     values), so a NEON run quantises activations exactly as the reference does.
//  3. Under qemu-aarch64 with QEMU_CPU set (scripts/test.sh does), the dispatcher's dot-product
//     detection matches the emulated CPU: none on cortex-a72 (Pi 4), present on max.
#if defined(__aarch64__)

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/fp16.h"
#include "kernels/arm_neon/neon_kernels.h"
#include "kernels/kernels.h"
#include "quant/blocks.h"
#include "quant/formats.h"

namespace hearth {
namespace {

constexpr float kWeightScale = 0.5f;  // powers of two: the float scaling adds no rounding noise
constexpr float kActScale = 0.25f;

struct Format {
  GgmlType type;
  int64_t block;  // elements per weight block
  size_t bytes;   // bytes per weight block
  // Writes the float scales of block b (the pattern bytes stay everywhere else).
  void (*set_scales)(void* b);
};

template <class B>
void set_d(void* p) {
  static_cast<B*>(p)->d = f32_to_fp16(kWeightScale);
}
template <class B>
void set_d_m(void* p) {
  static_cast<B*>(p)->d = f32_to_fp16(kWeightScale);
  static_cast<B*>(p)->m = f32_to_fp16(kWeightScale);
}
template <class B>
void set_d_dmin(void* p) {
  static_cast<B*>(p)->d = f32_to_fp16(kWeightScale);
  static_cast<B*>(p)->dmin = f32_to_fp16(kWeightScale / 2);
}

const Format kFormats[] = {
    {GgmlType::Q4_0, kQK4_0, sizeof(BlockQ4_0), &set_d<BlockQ4_0>},
    {GgmlType::Q4_1, kQK4_1, sizeof(BlockQ4_1), &set_d_m<BlockQ4_1>},
    {GgmlType::Q5_0, kQK5_0, sizeof(BlockQ5_0), &set_d<BlockQ5_0>},
    {GgmlType::Q5_1, kQK5_1, sizeof(BlockQ5_1), &set_d_m<BlockQ5_1>},
    {GgmlType::Q8_0, kQK8_0, sizeof(BlockQ8_0), &set_d<BlockQ8_0>},
    {GgmlType::IQ4_NL, kQK4_NL, sizeof(BlockIQ4_NL), &set_d<BlockIQ4_NL>},
    {GgmlType::Q2_K, kQK_K, sizeof(BlockQ2_K), &set_d_dmin<BlockQ2_K>},
    {GgmlType::Q3_K, kQK_K, sizeof(BlockQ3_K), &set_d<BlockQ3_K>},
    {GgmlType::Q4_K, kQK_K, sizeof(BlockQ4_K), &set_d_dmin<BlockQ4_K>},
    {GgmlType::Q5_K, kQK_K, sizeof(BlockQ5_K), &set_d_dmin<BlockQ5_K>},
    {GgmlType::Q6_K, kQK_K, sizeof(BlockQ6_K), &set_d<BlockQ6_K>},
    {GgmlType::IQ4_XS, kQK_K, sizeof(BlockIQ4_XS), &set_d<BlockIQ4_XS>},
};

// Activation row of n elements in format act, every quant from pick(j).
template <class Pick>
std::vector<uint8_t> make_act(GgmlType act, int64_t n, Pick pick) {
  std::vector<uint8_t> buf;
  if (act == GgmlType::Q8_K) {
    buf.resize(n / kQK_K * sizeof(BlockQ8_K));
    auto* b = reinterpret_cast<BlockQ8_K*>(buf.data());
    for (int64_t i = 0; i < n / kQK_K; ++i) {
      b[i].d = kActScale;
      for (int g = 0; g < kQK_K / 16; ++g) {
        int sum = 0;
        for (int j = 0; j < 16; ++j) sum += b[i].qs[16 * g + j] = pick(16 * g + j);
        b[i].bsums[g] = static_cast<int16_t>(sum);
      }
    }
  } else if (act == GgmlType::Q8_1) {
    buf.resize(n / kQK8_1 * sizeof(BlockQ8_1));
    auto* b = reinterpret_cast<BlockQ8_1*>(buf.data());
    for (int64_t i = 0; i < n / kQK8_1; ++i) {
      int sum = 0;
      for (int j = 0; j < kQK8_1; ++j) sum += b[i].qs[j] = pick(j);
      b[i].d = f32_to_fp16(kActScale);
      b[i].s = f32_to_fp16(kActScale * static_cast<float>(sum));
    }
  } else {
    buf.resize(n / kQK8_0 * sizeof(BlockQ8_0));
    auto* b = reinterpret_cast<BlockQ8_0*>(buf.data());
    for (int64_t i = 0; i < n / kQK8_0; ++i) {
      b[i].d = f32_to_fp16(kActScale);
      for (int j = 0; j < kQK8_0; ++j) b[i].qs[j] = pick(j);
    }
  }
  return buf;
}

std::vector<Isa> arm_isas() {
  std::vector<Isa> isas = {Isa::kNeon};
  if (isa_supported(Isa::kDotprod)) isas.push_back(Isa::kDotprod);
  return isas;
}

TEST(ArmKernels, ExtremeOperandsMatchScalar) {
  const KernelTable& ref = kernel_table(Isa::kScalar);
  const int8_t kAlt[2] = {-128, 127};
  std::mt19937 rng(7);
  int checked = 0;
  for (const Format& f : kFormats) {
    const FormatKernels& r = ref.of(f.type);
    if (r.vec_dot == nullptr) continue;  // no scalar reference yet for this format
    for (int blocks : {1, 2}) {
      const int64_t n = blocks * f.block;
      for (int wp : {0x00, 0xFF, 0x80, 0x7F, 0x88, 0x77, 0xAA, 0x55, -1}) {
        std::vector<uint8_t> w(blocks * f.bytes);
        for (auto& byte : w) byte = static_cast<uint8_t>(wp >= 0 ? wp : rng());
        for (int b = 0; b < blocks; ++b) f.set_scales(w.data() + b * f.bytes);
        for (int ap = 0; ap < 4; ++ap) {
          const auto pick = [&](int j) -> int8_t {
            switch (ap) {
              case 0:
                return -128;
              case 1:
                return 127;
              case 2:
                return kAlt[j & 1];
              default:
                return static_cast<int8_t>(rng());
            }
          };
          const std::vector<uint8_t> a = make_act(r.act_type, n, pick);
          const float want = r.vec_dot(n, w.data(), a.data());
          // Every format's |scale·q| per element is at most 127·64 (Q6_K 32·128, IQ4_XS 127·32,
          // Q4_K/Q5_K scale and min 63·31), so n·128·127·64·d_w·d_a bounds every partial sum;
          // both sides compute the integer part exactly, so they may differ only by float
          // rounding (~1e-6 of the bound). An int16 overflow in a product chain would be off
          // by at least 65536·d_w·d_a, which is more than 1e-4 of the bound for n <= 512.
          const double bound = double(n) * 128 * 127 * 64 * kWeightScale * kActScale;
          for (Isa isa : arm_isas()) {
            const FormatKernels& k = kernel_table(isa).of(f.type);
            ASSERT_NE(k.vec_dot, nullptr) << isa_name(isa);
            EXPECT_EQ(k.act_type, r.act_type);
            const float got = k.vec_dot(n, w.data(), a.data());
            EXPECT_NEAR(got, want, 1e-4 * bound)
                << type_traits(f.type).name << " on " << isa_name(isa) << ", " << blocks
                << " block(s), weight byte pattern " << wp << ", activation pattern " << ap;
            ++checked;
          }
        }
      }
    }
  }
  if (checked == 0) GTEST_SKIP() << "the scalar table has no integer-dot kernels yet";
}

TEST(ArmKernels, NeonActivationQuantizersAreBitIdentical) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> uni(-3.0f, 3.0f);
  for (int trial = 0; trial < 40; ++trial) {
    const int64_t n = kQK_K * (1 + trial % 3);
    std::vector<float> x(n);
    const float range = trial % 5 == 0 ? 1e-6f : 1.0f;
    for (float& v : x) v = uni(rng) * range;
    if (trial % 4 == 0) std::fill(x.begin(), x.begin() + kQK_K, 0.0f);  // all-zero blocks
    if (trial % 3 == 0)  // exact .5 ties after scaling (amax 127·0.5 -> d = 0.5)
      for (int j = 0; j < kQK_K; ++j) x[j] = (j % 2 ? 63.5f : -0.25f * float(j % 255 - 127));
    std::vector<uint8_t> want(n / kQK_K * sizeof(BlockQ8_K)), got(want.size());
    quantize_row_q8_0(x.data(), want.data(), n, nullptr);
    quantize_act_q8_0_neon(x.data(), got.data(), n);
    EXPECT_EQ(0, std::memcmp(want.data(), got.data(), n / kQK8_0 * sizeof(BlockQ8_0))) << trial;
    quantize_row_q8_1(x.data(), want.data(), n, nullptr);
    quantize_act_q8_1_neon(x.data(), got.data(), n);
    EXPECT_EQ(0, std::memcmp(want.data(), got.data(), n / kQK8_1 * sizeof(BlockQ8_1))) << trial;
    quantize_row_q8_k(x.data(), want.data(), n, nullptr);
    quantize_act_q8_k_neon(x.data(), got.data(), n);
    EXPECT_EQ(0, std::memcmp(want.data(), got.data(), n / kQK_K * sizeof(BlockQ8_K))) << trial;
  }
}

TEST(ArmKernels, DotprodDetectionMatchesEmulatedCpu) {
  EXPECT_TRUE(isa_supported(Isa::kNeon));
  const char* cpu = std::getenv("QEMU_CPU");
  if (cpu == nullptr) GTEST_SKIP() << "QEMU_CPU not set: the CPU model is unknown to the test";
  const std::string model = cpu;
  if (model == "cortex-a72" || model == "cortex-a53" || model == "cortex-a57")
    EXPECT_FALSE(isa_supported(Isa::kDotprod)) << model << " has no dot-product instructions";
  else if (model == "max" || model == "cortex-a76" || model == "neoverse-n1")
    EXPECT_TRUE(isa_supported(Isa::kDotprod)) << model << " has SDOT";
  else
    GTEST_SKIP() << "no expectation for QEMU_CPU=" << model;
  EXPECT_EQ(best_isa(), isa_supported(Isa::kDotprod) ? Isa::kDotprod : Isa::kNeon);
}

}  // namespace
}  // namespace hearth

#endif  // __aarch64__
