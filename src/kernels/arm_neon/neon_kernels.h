// The arm64 kernel families, each filling its rows of a KernelTable. fill_kernels_neon
// (neon_table.cpp) and fill_kernels_dotprod (arm_dotprod/dotprod_table.cpp) call these; the
// dotprod fillers run after the NEON ones and replace only the integer-dot formats.
#pragma once

#include <cstdint>

#include "kernels/kernels.h"

namespace hearth {

// arm_neon/ (ARMv8.0)
void fill_neon_float(KernelTable& t);    // F32, F16, BF16 (F32 activations)
void fill_neon_legacy(KernelTable& t);   // Q4_0, Q4_1, Q5_0, Q5_1, Q8_0
void fill_neon_kquants(KernelTable& t);  // Q2_K, Q3_K, Q4_K, Q5_K, Q6_K
void fill_neon_iq4(KernelTable& t);      // IQ4_NL, IQ4_XS
void fill_neon_accumulate(KernelTable& t);  // F16, Q8_0 weighted row sums (KV cache)
void quantize_act_q8_0_neon(const float* x, void* y, int64_t n);
void quantize_act_q8_1_neon(const float* x, void* y, int64_t n);
void quantize_act_q8_k_neon(const float* x, void* y, int64_t n);

// arm_dotprod/ (ARMv8.2 + dotprod)
void fill_dotprod_legacy(KernelTable& t);
void fill_dotprod_kquants(KernelTable& t);
void fill_dotprod_iq4(KernelTable& t);

}  // namespace hearth
