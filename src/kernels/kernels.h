// The kernel table: for each weight format, the dot product of one weight row with one
// activation row, and the format the activations are quantised to first. One table per ISA
// level, chosen once at start-up (or forced by HEARTH_ISA); nothing else in the engine knows
// which ISA it runs on. Design notes in docs/kernels.md.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "quant/ggml_type.h"

namespace hearth {

enum class Isa {
  kScalar,   // the reference: plain C++, any CPU
  kAvx2,     // x86-64 Haswell and later: AVX2 + FMA + F16C
  kAvx512,   // x86-64 Skylake-X / Ice Lake / Zen 4 and later: AVX-512 F/BW/VL (+VNNI where present)
  kNeon,     // ARMv8.0 Advanced SIMD: Raspberry Pi 4 (Cortex-A72), no dot-product instructions
  kDotprod,  // ARMv8.2 + SDOT/UDOT: Raspberry Pi 5 (Cortex-A76)
};

std::string_view isa_name(Isa isa);
std::optional<Isa> isa_from_name(std::string_view name);

// Quantises one activation row of n floats into the activation format (n % block == 0).
using QuantizeActFn = void (*)(const float* x, void* y, int64_t n);
// Dot product of one weight row (n elements, weight format) with one activation row
// (n elements, already in the activation format).
using VecDotFn = float (*)(int64_t n, const void* w, const void* act);
// y[0..n) += Σ_r weights[r] · row r, for n_rows rows of n elements in the format, row r at
// rows + r * row_stride bytes (the weighted sum of value rows in attention). Per element the
// rows are added in order r = 0, 1, ...
using AccumulateFn = void (*)(int64_t n_rows, const float* weights, const void* rows,
                              int64_t row_stride, int64_t n, float* y);

struct FormatKernels {
  GgmlType act_type = GgmlType::F32;  // F32, Q8_0, Q8_1 or Q8_K
  QuantizeActFn quantize_act = nullptr;
  VecDotFn vec_dot = nullptr;         // null: the format has no kernel
  AccumulateFn accumulate = nullptr;  // F32, F16, Q8_0 (n % 32 == 0); null elsewhere
};

struct KernelTable {
  Isa isa = Isa::kScalar;
  std::array<FormatKernels, kGgmlTypeIdLimit> formats{};

  const FormatKernels& of(GgmlType t) const { return formats[static_cast<uint32_t>(t)]; }
  FormatKernels& of(GgmlType t) { return formats[static_cast<uint32_t>(t)]; }
};

// What this CPU (and OS) can run, best first.
bool isa_supported(Isa isa);
Isa best_isa();

// The table of an ISA level this machine supports; levels fill in what they speed up and
// inherit the rest from the level below (scalar at the bottom).
const KernelTable& kernel_table(Isa isa);

// The table to use: HEARTH_ISA if set (an unsupported or unknown value is an error printed
// by the caller through the returned message), else the best level.
struct KernelChoice {
  const KernelTable* table;
  std::string_view warning;  // non-empty when HEARTH_ISA could not be honoured
};
KernelChoice choose_kernels();

// ISA folders: each overrides the entries it accelerates. Defined only where compiled.
void fill_kernels_ref(KernelTable& t);
void fill_kernels_avx2(KernelTable& t);
void fill_kernels_avx512(KernelTable& t);
void fill_kernels_neon(KernelTable& t);
void fill_kernels_dotprod(KernelTable& t);

}  // namespace hearth
