// Reference dot products. Integer parts are exact (int32 cannot overflow: the largest, Q6_K,
// is at most 256 * 128 * 32 * 127 < 2^31); scales are applied in float once per block and the
// block results summed in order, which is the only place SIMD kernels may differ (summation
// order, FMA contraction).
#include <cstring>

#include "core/fp16.h"
#include "kernels/ref/ref_kernels.h"
#include "kernels/ref/unpack.h"
#include "quant/formats.h"

namespace hearth::ref {

void quantize_act_f32(const float* x, void* y, int64_t n) {
  std::memcpy(y, x, static_cast<size_t>(n) * sizeof(float));
}
void quantize_act_q8_0(const float* x, void* y, int64_t n) { quantize_row_q8_0(x, y, n, nullptr); }
void quantize_act_q8_1(const float* x, void* y, int64_t n) { quantize_row_q8_1(x, y, n, nullptr); }
void quantize_act_q8_k(const float* x, void* y, int64_t n) { quantize_row_q8_k(x, y, n, nullptr); }

// ---- F32 activations: a plain float dot, summed in element order --------------------------

float vec_dot_f32(int64_t n, const void* w, const void* act) {
  const auto* a = static_cast<const float*>(w);
  const auto* x = static_cast<const float*>(act);
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum += a[i] * x[i];
  return sum;
}

namespace {

template <float (*Convert)(uint16_t)>
float dot_16bit(int64_t n, const void* w, const void* act) {
  const auto* bytes = static_cast<const uint8_t*>(w);
  const auto* x = static_cast<const float*>(act);
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    uint16_t bits;
    std::memcpy(&bits, bytes + 2 * i, 2);
    sum += Convert(bits) * x[i];
  }
  return sum;
}

int32_t int_dot(const int8_t* a, const int8_t* b, int count) {
  int32_t s = 0;
  for (int i = 0; i < count; ++i) s += int32_t{a[i]} * int32_t{b[i]};
  return s;
}

// ---- Q8_0 activations: sum_b d_w * d_a * sum(q_w * q_a) -----------------------------------
template <class Block>
float dot_act_q8_0(int64_t n, const void* w, const void* act) {
  const auto* wb = static_cast<const Block*>(w);
  const auto* ab = static_cast<const BlockQ8_0*>(act);
  UnpackedBlock u;
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    unpack(wb[b], u);
    const int32_t isum = int_dot(u.q, ab[b].qs, kQK8_0);
    sum += u.d * fp16_to_f32(ab[b].d) * static_cast<float>(isum);
  }
  return sum;
}

// ---- Q8_1 activations: as Q8_0, plus the weight offset m times s = d_a * sum(q_a), which the
// activation block stores (as a half) precisely so the offset costs one multiply per block.
template <class Block>
float dot_act_q8_1(int64_t n, const void* w, const void* act) {
  const auto* wb = static_cast<const Block*>(w);
  const auto* ab = static_cast<const BlockQ8_1*>(act);
  UnpackedBlock u;
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK8_1; ++b) {
    unpack(wb[b], u);
    const int32_t isum = int_dot(u.q, ab[b].qs, kQK8_1);
    const float m = -u.dmin * u.min[0];
    sum += u.d * fp16_to_f32(ab[b].d) * static_cast<float>(isum) + m * fp16_to_f32(ab[b].s);
  }
  return sum;
}

// ---- Q8_K activations: d_a * (d * sum_g scale_g * sum_g(q_w * q_a) - dmin * sum_g min_g *
// sum_g(q_a)); the activation sums per 16 come precomputed in bsums.
template <class Block>
float dot_act_q8_k(int64_t n, const void* w, const void* act) {
  const auto* wb = static_cast<const Block*>(w);
  const auto* ab = static_cast<const BlockQ8_K*>(act);
  UnpackedBlock u;
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    unpack(wb[b], u);
    const BlockQ8_K& a = ab[b];
    int32_t scaled = 0;
    int32_t mins = 0;
    for (int g = 0; g < kQK_K / u.group; ++g) {
      scaled += u.scale[g] * int_dot(u.q + g * u.group, a.qs + g * u.group, u.group);
      int32_t qa_sum = 0;
      for (int k = g * u.group / 16; k < (g + 1) * u.group / 16; ++k) qa_sum += a.bsums[k];
      mins += u.min[g] * qa_sum;
    }
    sum += a.d * (u.d * static_cast<float>(scaled) - u.dmin * static_cast<float>(mins));
  }
  return sum;
}

}  // namespace

float vec_dot_f16(int64_t n, const void* w, const void* act) {
  return dot_16bit<fp16_to_f32>(n, w, act);
}
float vec_dot_bf16(int64_t n, const void* w, const void* act) {
  return dot_16bit<bf16_to_f32>(n, w, act);
}
float vec_dot_q4_0(int64_t n, const void* w, const void* a) { return dot_act_q8_0<BlockQ4_0>(n, w, a); }
float vec_dot_q5_0(int64_t n, const void* w, const void* a) { return dot_act_q8_0<BlockQ5_0>(n, w, a); }
float vec_dot_q8_0(int64_t n, const void* w, const void* a) { return dot_act_q8_0<BlockQ8_0>(n, w, a); }
float vec_dot_iq4_nl(int64_t n, const void* w, const void* a) {
  return dot_act_q8_0<BlockIQ4_NL>(n, w, a);
}
float vec_dot_q4_1(int64_t n, const void* w, const void* a) { return dot_act_q8_1<BlockQ4_1>(n, w, a); }
float vec_dot_q5_1(int64_t n, const void* w, const void* a) { return dot_act_q8_1<BlockQ5_1>(n, w, a); }
float vec_dot_q2_k(int64_t n, const void* w, const void* a) { return dot_act_q8_k<BlockQ2_K>(n, w, a); }
float vec_dot_q3_k(int64_t n, const void* w, const void* a) { return dot_act_q8_k<BlockQ3_K>(n, w, a); }
float vec_dot_q4_k(int64_t n, const void* w, const void* a) { return dot_act_q8_k<BlockQ4_K>(n, w, a); }
float vec_dot_q5_k(int64_t n, const void* w, const void* a) { return dot_act_q8_k<BlockQ5_K>(n, w, a); }
float vec_dot_q6_k(int64_t n, const void* w, const void* a) { return dot_act_q8_k<BlockQ6_K>(n, w, a); }
float vec_dot_iq4_xs(int64_t n, const void* w, const void* a) {
  return dot_act_q8_k<BlockIQ4_XS>(n, w, a);
}

}  // namespace hearth::ref
