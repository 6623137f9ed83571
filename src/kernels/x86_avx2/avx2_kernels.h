// The AVX2 kernel families (Haswell and later: AVX2 + FMA + F16C), each filling its rows of a
// KernelTable. fill_kernels_avx2 calls them all; the AVX-512 level starts from the same rows.
#pragma once

#include <cstdint>

#include "kernels/kernels.h"

namespace hearth {

void fill_avx2_float(KernelTable& t);    // F32, F16, BF16
void fill_avx2_legacy(KernelTable& t);   // Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL
void fill_avx2_kquants(KernelTable& t);  // Q4_K, Q5_K, Q6_K
void fill_avx2_kquants_low(KernelTable& t);  // Q2_K, Q3_K
void fill_avx2_iq4_xs(KernelTable& t);   // IQ4_XS
void fill_avx2_quantize_act(KernelTable& t);  // Q8_0, Q8_1, Q8_K activation quantizers
void fill_avx2_accumulate(KernelTable& t);    // F16, Q8_0 weighted row sums (KV cache)

}  // namespace hearth
