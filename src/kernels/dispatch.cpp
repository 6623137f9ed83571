// Runtime ISA selection. The only place that knows which ISA folders were compiled in:
// x86 builds carry scalar+AVX2+AVX-512, arm64 builds scalar+NEON+dotprod.
#include <cstdlib>
#include <string>

#include "kernels/kernels.h"

#if defined(__aarch64__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
#endif

namespace hearth {

std::string_view isa_name(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return "scalar";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
    case Isa::kNeon: return "neon";
    case Isa::kDotprod: return "dotprod";
  }
  return "?";
}

std::optional<Isa> isa_from_name(std::string_view name) {
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512, Isa::kNeon, Isa::kDotprod})
    if (isa_name(isa) == name) return isa;
  return std::nullopt;
}

bool isa_supported(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return true;
#if defined(__x86_64__)
    // __builtin_cpu_supports also checks that the OS saves the wide registers (XGETBV).
    case Isa::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
             __builtin_cpu_supports("f16c");
    case Isa::kAvx512:
      return isa_supported(Isa::kAvx2) && __builtin_cpu_supports("avx512f") &&
             __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
#elif defined(__aarch64__)
    case Isa::kNeon: return true;  // Advanced SIMD is part of every ARMv8-A Linux target
    case Isa::kDotprod: return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#endif
    default: return false;
  }
}

Isa best_isa() {
  for (Isa isa : {Isa::kAvx512, Isa::kAvx2, Isa::kDotprod, Isa::kNeon})
    if (isa_supported(isa)) return isa;
  return Isa::kScalar;
}

namespace {

KernelTable build_table(Isa isa) {
  KernelTable t;
  fill_kernels_ref(t);
#if defined(__x86_64__)
  if (isa == Isa::kAvx2 || isa == Isa::kAvx512) fill_kernels_avx2(t);
  if (isa == Isa::kAvx512) fill_kernels_avx512(t);
#elif defined(__aarch64__)
  if (isa == Isa::kNeon || isa == Isa::kDotprod) fill_kernels_neon(t);
  if (isa == Isa::kDotprod) fill_kernels_dotprod(t);
#endif
  t.isa = isa;
  return t;
}

}  // namespace

const KernelTable& kernel_table(Isa isa) {
  // Immutable after construction (function-local statics are initialised once, thread-safely).
  static const KernelTable tables[] = {build_table(Isa::kScalar), build_table(Isa::kAvx2),
                                       build_table(Isa::kAvx512), build_table(Isa::kNeon),
                                       build_table(Isa::kDotprod)};
  return tables[static_cast<int>(isa)];
}

KernelChoice choose_kernels() {
  const char* env = std::getenv("HEARTH_ISA");
  if (env == nullptr || *env == 0) return {&kernel_table(best_isa()), {}};
  const auto forced = isa_from_name(env);
  if (!forced)
    return {&kernel_table(best_isa()),
            "HEARTH_ISA names no ISA level (scalar|avx2|avx512|neon|dotprod); using the best"};
  if (!isa_supported(*forced))
    return {&kernel_table(best_isa()),
            "HEARTH_ISA names an ISA level this CPU cannot run; using the best"};
  return {&kernel_table(*forced), {}};
}

}  // namespace hearth
