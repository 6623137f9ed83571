// The scalar table: every format hearth computes, with its activation format (the contract
// every ISA table keeps; docs/kernels.md). Other levels start from this table and replace
// entries they accelerate.
#include "kernels/kernels.h"
#include "kernels/ref/ref_kernels.h"

namespace hearth {

void fill_kernels_ref(KernelTable& t) {
  using T = GgmlType;
  auto set = [&t](T type, T act, QuantizeActFn q, VecDotFn dot) { t.of(type) = {act, q, dot}; };
  set(T::F32, T::F32, ref::quantize_act_f32, ref::vec_dot_f32);
  set(T::F16, T::F32, ref::quantize_act_f32, ref::vec_dot_f16);
  set(T::BF16, T::F32, ref::quantize_act_f32, ref::vec_dot_bf16);
  set(T::Q4_0, T::Q8_0, ref::quantize_act_q8_0, ref::vec_dot_q4_0);
  set(T::Q5_0, T::Q8_0, ref::quantize_act_q8_0, ref::vec_dot_q5_0);
  set(T::Q8_0, T::Q8_0, ref::quantize_act_q8_0, ref::vec_dot_q8_0);
  set(T::IQ4_NL, T::Q8_0, ref::quantize_act_q8_0, ref::vec_dot_iq4_nl);
  set(T::Q4_1, T::Q8_1, ref::quantize_act_q8_1, ref::vec_dot_q4_1);
  set(T::Q5_1, T::Q8_1, ref::quantize_act_q8_1, ref::vec_dot_q5_1);
  set(T::Q2_K, T::Q8_K, ref::quantize_act_q8_k, ref::vec_dot_q2_k);
  set(T::Q3_K, T::Q8_K, ref::quantize_act_q8_k, ref::vec_dot_q3_k);
  set(T::Q4_K, T::Q8_K, ref::quantize_act_q8_k, ref::vec_dot_q4_k);
  set(T::Q5_K, T::Q8_K, ref::quantize_act_q8_k, ref::vec_dot_q5_k);
  set(T::Q6_K, T::Q8_K, ref::quantize_act_q8_k, ref::vec_dot_q6_k);
  set(T::IQ4_XS, T::Q8_K, ref::quantize_act_q8_k, ref::vec_dot_iq4_xs);
  // The KV cache formats also sum weighted rows (attention's value side).
  t.of(T::F32).accumulate = ref::accumulate_f32;
  t.of(T::F16).accumulate = ref::accumulate_f16;
  t.of(T::Q8_0).accumulate = ref::accumulate_q8_0;
}

}  // namespace hearth
