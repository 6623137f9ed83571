// F32, F16 and BF16 weight rows dotted with F32 activations, ARMv8.0 Advanced SIMD.
//
// These formats stay in float (their rule: no activation quantisation), so SDOT has nothing to
// add and the Pi 5 uses these too. F16 widens with FCVTL (vcvt_f32_f16, ARMv8.0, exact), BF16
// with a 16-bit left shift (USHLL), so every product is the exact float the scalar reference
// multiplies. Four float32x4 accumulators, 16 elements per iteration: the A72 issues FMLA on
// both NEON pipes with ~7-cycle latency to an unrelated accumulator, so four independent chains
// keep it near throughput without spilling; the A76 (4-cycle FMLA) is equally served. Rows of
// any length; the tail (< 4) is scalar.
#include <arm_neon.h>

#include <cstdint>

#include "core/fp16.h"
#include "kernels/arm_neon/neon_kernels.h"

namespace hearth {
namespace {

// Σ w·x where load(p, k) returns 4 weights of row p starting at element k as float32x4.
template <class Load, class Scalar>
float dot_float_row(int64_t n, const float* x, Load load, Scalar scalar) {
  float32x4_t acc0 = vdupq_n_f32(0.0f), acc1 = acc0, acc2 = acc0, acc3 = acc0;
  int64_t k = 0;
  for (; k + 16 <= n; k += 16) {
    acc0 = vfmaq_f32(acc0, load(k), vld1q_f32(x + k));
    acc1 = vfmaq_f32(acc1, load(k + 4), vld1q_f32(x + k + 4));
    acc2 = vfmaq_f32(acc2, load(k + 8), vld1q_f32(x + k + 8));
    acc3 = vfmaq_f32(acc3, load(k + 12), vld1q_f32(x + k + 12));
  }
  for (; k + 4 <= n; k += 4) acc0 = vfmaq_f32(acc0, load(k), vld1q_f32(x + k));
  float s = vaddvq_f32(vaddq_f32(vaddq_f32(acc0, acc1), vaddq_f32(acc2, acc3)));
  for (; k < n; ++k) s += scalar(k) * x[k];
  return s;
}

float vec_dot_f32(int64_t n, const void* vw, const void* va) {
  const auto* w = static_cast<const float*>(vw);
  return dot_float_row(
      n, static_cast<const float*>(va), [w](int64_t k) { return vld1q_f32(w + k); },
      [w](int64_t k) { return w[k]; });
}

float vec_dot_f16(int64_t n, const void* vw, const void* va) {
  const auto* w = static_cast<const uint16_t*>(vw);
  return dot_float_row(
      n, static_cast<const float*>(va),
      [w](int64_t k) { return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(w + k))); },
      [w](int64_t k) { return fp16_to_f32(w[k]); });
}

float vec_dot_bf16(int64_t n, const void* vw, const void* va) {
  const auto* w = static_cast<const uint16_t*>(vw);
  return dot_float_row(
      n, static_cast<const float*>(va),
      [w](int64_t k) { return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(w + k), 16)); },
      [w](int64_t k) { return bf16_to_f32(w[k]); });
}

}  // namespace

void fill_neon_float(KernelTable& t) {
  t.of(GgmlType::F32).act_type = GgmlType::F32;
  t.of(GgmlType::F32).vec_dot = &vec_dot_f32;
  t.of(GgmlType::F16).act_type = GgmlType::F32;
  t.of(GgmlType::F16).vec_dot = &vec_dot_f16;
  t.of(GgmlType::BF16).act_type = GgmlType::F32;
  t.of(GgmlType::BF16).vec_dot = &vec_dot_bf16;
}

}  // namespace hearth
