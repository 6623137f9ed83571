// The AVX-512 kernel families (F/BW/VL/DQ; VNNI in *_vnni.cpp). fill_kernels_avx512 runs after
// fill_kernels_avx2 and replaces the rows that gain from 512 bits or from vpdpbusd.
#pragma once

#include "kernels/kernels.h"

namespace hearth {

void fill_avx512_float(KernelTable& t);        // F32, F16, BF16: 16-lane FMAs
void fill_avx512_legacy_vnni(KernelTable& t);  // 32-element blocks with vpdpbusd (AVX512-VNNI)

}  // namespace hearth
