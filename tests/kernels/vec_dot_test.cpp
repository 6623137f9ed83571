// Every ISA's vec_dot and activation quantizer against the scalar reference (STYLE habit 1),
// for every weight format, on random blocks of many counts and misaligned rows; and the
// reference itself against the format definitions (dequantize both sides, dot in double).
//
// Tolerance. Integer parts are exact on every ISA, so kernels differ only in float rounding:
// the scales products (a few roundings per block term) and the order in which T block terms
// (T = elements for F32/F16/BF16) are summed. With unit roundoff u = 2^-24, a sum of T terms
// in any order is within (T - 1) u sum|term| of the exact one, and each term within ~4u of its
// exact value, so two kernels differ by at most 2 (T + 16) u M, where M is the sum of the
// absolute values of everything that is added (per element: |a_i| (|d scale q_i| + |dmin min|)).
// That bound is tight enough that a wrong nibble, scale or offset anywhere fails it.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstddef>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/fp16.h"
#include "kernels/kernels.h"
#include "kernels/ref/unpack.h"
#include "quant/blocks.h"
#include "quant/formats.h"
#include "quant/ggml_type.h"

#if defined(__x86_64__)
#include "kernels/x86_avx512/avx512_kernels.h"
#endif

namespace hearth {
namespace {

using T = GgmlType;
constexpr double kU = 1.0 / (1 << 24);

const GgmlType kFormats[] = {T::F32,  T::F16,  T::BF16,   T::Q4_0, T::Q4_1,
                             T::Q5_0, T::Q5_1, T::Q8_0,   T::IQ4_NL, T::Q2_K,
                             T::Q3_K, T::Q4_K, T::Q5_K,   T::Q6_K, T::IQ4_XS};

bool is_float(GgmlType t) { return t == T::F32 || t == T::F16 || t == T::BF16; }

// A kernel table under test: every ISA level the host runs, plus variants a level replaces
// on this CPU but another CPU would run (AVX-512 without VNNI, when this one has VNNI).
struct Level {
  std::string name;
  const KernelTable* table;
};

#if defined(__x86_64__)
KernelTable avx512_without_vnni() {
  KernelTable t;
  fill_kernels_ref(t);
  fill_kernels_avx2(t);
  fill_avx512_float(t);
  t.isa = Isa::kAvx512;
  return t;
}
#endif

std::vector<Level> isas_to_test() {
  std::vector<Level> out;
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512, Isa::kNeon, Isa::kDotprod})
    if (isa_supported(isa)) out.push_back({std::string(isa_name(isa)), &kernel_table(isa)});
#if defined(__x86_64__)
  if (isa_supported(Isa::kAvx512) && __builtin_cpu_supports("avx512vnni")) {
    static const KernelTable bw = avx512_without_vnni();
    out.push_back({"avx512-without-vnni", &bw});
  }
#endif
  return out;
}

// Byte buffer whose data() starts `misalign` bytes past a 64-byte boundary. Rows of a GGUF
// tensor start at any multiple of their element alignment (2 for half-scaled blocks, 4 for
// F32 and Q8_K), never at odd addresses, so misalignments are multiples of that.
class Buffer {
 public:
  Buffer(size_t bytes, size_t misalign) : storage_(bytes + 128) {
    auto base = reinterpret_cast<uintptr_t>(storage_.data());
    offset_ = ((base + 63) & ~uintptr_t{63}) - base + misalign;
  }
  uint8_t* data() { return storage_.data() + offset_; }

 private:
  std::vector<uint8_t> storage_;
  size_t offset_;
};

uint16_t random_scale(std::mt19937& rng) {
  // Magnitudes of real scales (1e-4..1e-1), either sign; halves stay normal and finite.
  std::uniform_real_distribution<float> mag(-4.0f, -1.0f);
  const float v = std::pow(10.0f, mag(rng)) * (rng() & 1 ? 1.0f : -1.0f);
  return f32_to_fp16(v);
}

void put16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); }

// Byte offsets, within a block, of the half-precision scale fields of a format.
std::vector<size_t> scale_fields(GgmlType type) {
  switch (type) {
    case T::Q4_0: case T::Q5_0: case T::Q8_0: case T::IQ4_NL: case T::IQ4_XS: return {0};
    case T::Q4_1: case T::Q5_1: case T::Q4_K: case T::Q5_K: return {0, 2};
    case T::Q2_K: return {offsetof(BlockQ2_K, d), offsetof(BlockQ2_K, dmin)};
    case T::Q3_K: return {offsetof(BlockQ3_K, d)};
    case T::Q6_K: return {offsetof(BlockQ6_K, d)};
    default: return {};
  }
}

void randomize_scales(GgmlType type, uint8_t* w, int64_t n, std::mt19937& rng) {
  const TypeTraits& tt = type_traits(type);
  for (int64_t b = 0; b < n / tt.block_size; ++b)
    for (size_t f : scale_fields(type)) put16(w + b * tt.block_bytes + f, random_scale(rng));
}

// n elements of `type`: random values for F32/F16/BF16; for block formats random bytes with
// every scale field replaced by a sane half.
void fill_weights(GgmlType type, uint8_t* w, int64_t n, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  if (type == T::F32) {
    for (int64_t i = 0; i < n; ++i) {
      const float v = normal(rng);
      std::memcpy(w + 4 * i, &v, 4);
    }
  } else if (type == T::F16 || type == T::BF16) {
    for (int64_t i = 0; i < n; ++i)
      put16(w + 2 * i, type == T::F16 ? f32_to_fp16(normal(rng)) : f32_to_bf16(normal(rng)));
  } else {
    const size_t bytes = *row_bytes(type, n);
    for (size_t i = 0; i < bytes; ++i) w[i] = static_cast<uint8_t>(rng());
    randomize_scales(type, w, n, rng);
  }
}

// Activations as a layer would produce them: roughly normal with a few large outliers.
std::vector<float> random_activations(int64_t n, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n));
  for (float& v : x) v = normal(rng) * (rng() % 64 == 0 ? 20.0f : 1.0f);
  return x;
}

size_t act_bytes(GgmlType act, int64_t n) {
  return act == T::F32 ? static_cast<size_t>(n) * 4 : *row_bytes(act, n);
}

// ---- M of the tolerance (see top), in double ---------------------------------------------

template <class Block, class ActBlock>
double magnitude_blocks(const void* w, const void* act, int64_t n) {
  const auto* wb = static_cast<const Block*>(w);
  const auto* ab = static_cast<const ActBlock*>(act);
  ref::UnpackedBlock u;
  double m = 0.0;
  for (int64_t b = 0; b * static_cast<int64_t>(sizeof(ab[0].qs)) < n; ++b) {
    ref::unpack(wb[b], u);
    double da;
    if constexpr (std::is_same_v<ActBlock, BlockQ8_K>) da = ab[b].d;
    else da = fp16_to_f32(ab[b].d);
    for (int i = 0; i < u.n; ++i) {
      const int g = i / u.group;
      m += std::fabs(da * ab[b].qs[i]) *
           (std::fabs(double{u.d} * u.scale[g] * u.q[i]) + std::fabs(double{u.dmin} * u.min[g]));
    }
  }
  return m;
}

double magnitude(GgmlType type, const void* w, const void* act, int64_t n) {
  switch (type) {
    case T::F32: case T::F16: case T::BF16: {
      std::vector<float> wf(static_cast<size_t>(n));
      type_traits(type).dequantize(w, wf.data(), n);
      const auto* x = static_cast<const float*>(act);
      double m = 0.0;
      for (int64_t i = 0; i < n; ++i) m += std::fabs(double{wf[i]} * x[i]);
      return m;
    }
    case T::Q4_0: return magnitude_blocks<BlockQ4_0, BlockQ8_0>(w, act, n);
    case T::Q5_0: return magnitude_blocks<BlockQ5_0, BlockQ8_0>(w, act, n);
    case T::Q8_0: return magnitude_blocks<BlockQ8_0, BlockQ8_0>(w, act, n);
    case T::IQ4_NL: return magnitude_blocks<BlockIQ4_NL, BlockQ8_0>(w, act, n);
    case T::Q4_1: return magnitude_blocks<BlockQ4_1, BlockQ8_1>(w, act, n);
    case T::Q5_1: return magnitude_blocks<BlockQ5_1, BlockQ8_1>(w, act, n);
    case T::Q2_K: return magnitude_blocks<BlockQ2_K, BlockQ8_K>(w, act, n);
    case T::Q3_K: return magnitude_blocks<BlockQ3_K, BlockQ8_K>(w, act, n);
    case T::Q4_K: return magnitude_blocks<BlockQ4_K, BlockQ8_K>(w, act, n);
    case T::Q5_K: return magnitude_blocks<BlockQ5_K, BlockQ8_K>(w, act, n);
    case T::Q6_K: return magnitude_blocks<BlockQ6_K, BlockQ8_K>(w, act, n);
    case T::IQ4_XS: return magnitude_blocks<BlockIQ4_XS, BlockQ8_K>(w, act, n);
    default: return 0.0;
  }
}

double tolerance(GgmlType type, int64_t n, double m) {
  const int64_t terms = n / type_traits(type).block_size;
  return 2.0 * static_cast<double>(terms + 16) * kU * m + 1e-30;
}

std::vector<int64_t> block_counts(GgmlType type) {
  const int64_t bs = type_traits(type).block_size;
  if (bs == 256) return {1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 33};
  if (bs == 32)
    return {1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 257,
            511, 1023};
  return {1,  2,  3,  5,   7,   8,   9,   15,  16,  17,  31,  32,  33, 63,
          64, 65, 127, 128, 129, 255, 256, 257, 511, 1023, 4096, 4099};  // elements
}

struct Case {
  int64_t n;
  Buffer w;
  Buffer act;
};

// One random (weights, activations) pair, activations quantised by the scalar quantizer.
Case make_case(GgmlType type, int64_t blocks, int variant, std::mt19937& rng) {
  const int64_t n = blocks * type_traits(type).block_size;
  const FormatKernels& ref = kernel_table(Isa::kScalar).of(type);
  const size_t w_align = type == T::F32 ? 4 : 2;
  const size_t a_align = (ref.act_type == T::F32 || ref.act_type == T::Q8_K) ? 4 : 2;
  Case c{n, Buffer(*row_bytes(type, n), w_align * (variant % 16)),
         Buffer(act_bytes(ref.act_type, n), a_align * ((variant * 7) % 16))};
  fill_weights(type, c.w.data(), n, rng);
  const std::vector<float> x = random_activations(n, rng);
  ref.quantize_act(x.data(), c.act.data(), n);
  return c;
}

class VecDot : public ::testing::TestWithParam<GgmlType> {};

TEST_P(VecDot, ContractSameOnEveryIsa) {
  const FormatKernels& ref = kernel_table(Isa::kScalar).of(GetParam());
  ASSERT_NE(ref.vec_dot, nullptr);
  ASSERT_NE(ref.quantize_act, nullptr);
  for (const Level& level : isas_to_test()) {
    const FormatKernels& k = level.table->of(GetParam());
    EXPECT_EQ(k.act_type, ref.act_type) << level.name;
    EXPECT_NE(k.vec_dot, nullptr) << level.name;
    EXPECT_NE(k.quantize_act, nullptr) << level.name;
  }
}

TEST_P(VecDot, IsaMatchesScalar) {
  const GgmlType type = GetParam();
  const auto isas = isas_to_test();
  if (isas.empty()) GTEST_SKIP() << "this CPU runs only the scalar level";
  std::mt19937 rng(1234 + static_cast<unsigned>(type));
  int variant = 0;
  for (int64_t blocks : block_counts(type)) {
    for (int rep = 0; rep < 2; ++rep, ++variant) {
      Case c = make_case(type, blocks, variant, rng);
      const float want = kernel_table(Isa::kScalar).of(type).vec_dot(c.n, c.w.data(), c.act.data());
      const double tol = tolerance(type, c.n, magnitude(type, c.w.data(), c.act.data(), c.n));
      for (const Level& level : isas) {
        const float got = level.table->of(type).vec_dot(c.n, c.w.data(), c.act.data());
        ASSERT_NEAR(got, want, tol) << level.name << " n=" << c.n << " variant=" << variant;
      }
    }
  }
}

// Saturation corners: all-ones / all-zeros / sign-bit bytes in every field except the scales,
// and activations at full scale of one sign or alternating, where 16-bit pair sums (maddubs)
// would overflow if a kernel let them.
TEST_P(VecDot, IsaMatchesScalarOnExtremes) {
  const GgmlType type = GetParam();
  const auto isas = isas_to_test();
  if (isas.empty()) GTEST_SKIP() << "this CPU runs only the scalar level";
  const FormatKernels& ref = kernel_table(Isa::kScalar).of(type);
  std::mt19937 rng(99);
  const int64_t n = 8 * type_traits(type).block_size;
  for (uint8_t pattern : {0x00, 0xFF, 0x80, 0x7F, 0x55}) {
    for (int act_kind = 0; act_kind < 3; ++act_kind) {
      Buffer w(*row_bytes(type, n), 0), act(act_bytes(ref.act_type, n), 0);
      if (is_float(type)) {
        fill_weights(type, w.data(), n, rng);
      } else {
        std::memset(w.data(), pattern, *row_bytes(type, n));
        randomize_scales(type, w.data(), n, rng);
      }
      std::vector<float> x(static_cast<size_t>(n));
      for (size_t i = 0; i < x.size(); ++i)
        x[i] = act_kind == 0 ? 1.0f : act_kind == 1 ? -1.0f : (i % 2 ? 1.0f : -1.0f);
      ref.quantize_act(x.data(), act.data(), n);
      const float want = ref.vec_dot(n, w.data(), act.data());
      const double tol = tolerance(type, n, magnitude(type, w.data(), act.data(), n));
      for (const Level& level : isas) {
        const float got = level.table->of(type).vec_dot(n, w.data(), act.data());
        ASSERT_NEAR(got, want, tol) << level.name << " pattern=" << int{pattern}
                                    << " act_kind=" << act_kind;
      }
    }
  }
}

// SIMD activation quantizers must write the very bytes the scalar ones do, so that the ISA
// level never changes which integers get multiplied.
TEST_P(VecDot, QuantizeActBitIdentical) {
  const GgmlType type = GetParam();
  const FormatKernels& ref = kernel_table(Isa::kScalar).of(type);
  std::mt19937 rng(42);
  for (int64_t blocks : {1, 2, 3, 7, 16, 33}) {
    const int64_t n = blocks * (ref.act_type == T::Q8_K ? kQK_K : kQK8_0);
    std::vector<float> x = random_activations(n, rng);
    x[static_cast<size_t>(n / 2)] = 0.0f;
    if (blocks == 2) std::fill(x.begin(), x.begin() + n / 2, 0.0f);  // an all-zero block
    const size_t bytes = act_bytes(ref.act_type, n);
    std::vector<uint8_t> want(bytes), got(bytes);
    ref.quantize_act(x.data(), want.data(), n);
    for (const Level& level : isas_to_test()) {
      std::fill(got.begin(), got.end(), 0xCD);
      level.table->of(type).quantize_act(x.data(), got.data(), n);
      ASSERT_EQ(std::memcmp(got.data(), want.data(), bytes), 0) << level.name << " n=" << n;
    }
  }
}

std::string format_name(const ::testing::TestParamInfo<GgmlType>& info) {
  return std::string(type_traits(info.param).name);
}

INSTANTIATE_TEST_SUITE_P(AllFormats, VecDot, ::testing::ValuesIn(kFormats), format_name);

// ---- The oracle against the format definitions ---------------------------------------------
// Dequantize weights and activations with quant/ (the bit-exact definitions) and dot in double.
// The reference may differ by its own float rounding (half the ISA bound above) plus, for
// Q4_1/Q5_1, the Q8_1 block sum s, which the format stores as a half computed from the
// unrounded scale: two half roundings, < 2^-10 relative, of |m s| <= M.

// While other helpers' dequantizer stubs abort, run each in a child first and skip if it dies.
bool dequantizer_ready(GgmlType type) {
  const pid_t pid = fork();
  if (pid == 0) {
    std::vector<uint8_t> block(type_traits(type).block_bytes, 0);
    std::vector<float> out(static_cast<size_t>(type_traits(type).block_size));
    type_traits(type).dequantize(block.data(), out.data(), type_traits(type).block_size);
    _exit(0);
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return false;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

class VecDotOracle : public ::testing::TestWithParam<GgmlType> {};

TEST_P(VecDotOracle, ScalarMatchesDequantizedDot) {
  const GgmlType type = GetParam();
  if (!dequantizer_ready(type))
    GTEST_SKIP() << "dequantize_row for " << type_traits(type).name << " is not implemented yet";
  const FormatKernels& ref = kernel_table(Isa::kScalar).of(type);
  std::mt19937 rng(777 + static_cast<unsigned>(type));
  int variant = 0;
  for (int64_t blocks : block_counts(type)) {
    Case c = make_case(type, blocks, variant++, rng);
    std::vector<float> wf(static_cast<size_t>(c.n)), af(static_cast<size_t>(c.n));
    type_traits(type).dequantize(c.w.data(), wf.data(), c.n);
    if (ref.act_type == T::F32) std::memcpy(af.data(), c.act.data(), af.size() * 4);
    else type_traits(ref.act_type).dequantize(c.act.data(), af.data(), c.n);
    double exact = 0.0;
    for (int64_t i = 0; i < c.n; ++i) exact += double{wf[i]} * af[i];
    const double m = magnitude(type, c.w.data(), c.act.data(), c.n);
    const double tol = tolerance(type, c.n, m) + (ref.act_type == T::Q8_1 ? m / 1024.0 : 0.0);
    EXPECT_NEAR(ref.vec_dot(c.n, c.w.data(), c.act.data()), exact, tol) << "n=" << c.n;
  }
}

INSTANTIATE_TEST_SUITE_P(AllFormats, VecDotOracle, ::testing::ValuesIn(kFormats), format_name);

}  // namespace
}  // namespace hearth
