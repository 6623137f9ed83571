#include "plan/device.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <thread>

#include "bench/memory_bandwidth.h"
#include "runtime/thread_pool.h"
#include "system/machine.h"

namespace hearth::plan {
namespace {

constexpr uint64_t kGiB = 1024ull * 1024 * 1024;
constexpr uint64_t kMiB = 1024ull * 1024;

// Cortex-A72 (Armv8.0, no sdot): int8 dots widen with smull/smlal, 8 lanes × 2 ops on the one
// pipe that multiplies integers → 16; FMLA .4s on both FP pipes → 16 f32; f16 weights are
// converted and run as f32.
Device pi4() {
  Device d;
  d.name = "pi4";
  d.description = "Raspberry Pi 4 (Cortex-A72 4 × 1.8 GHz, LPDDR4-3200 32-bit)";
  d.ram_bytes = 8 * kGiB;
  d.os_reserve_bytes = 400 * kMiB;
  d.bandwidth_bytes_per_s = 4.5e9;  // STREAM triad measures 4–6 GB/s
  d.cores = 4;
  d.ghz = 1.8;
  d.ops_per_cycle_int8 = 16;
  d.ops_per_cycle_f16 = 16;
  d.ops_per_cycle_f32 = 16;
  d.tg_efficiency = 0.75;
  d.pp_efficiency = 0.18;
  d.idle_watts = 2.7;
  d.load_watts = 6.4;
  return d;
}

// Cortex-A76 (Armv8.2 + dotprod): sdot does 16 int8 multiply-adds per instruction on each of
// the two SIMD pipes → 64 ops/cycle; FMLA .8h (f16) → 32; .4s (f32) → 16.
Device pi5() {
  Device d;
  d.name = "pi5";
  d.description = "Raspberry Pi 5 (Cortex-A76 4 × 2.4 GHz, LPDDR4X-4267 32-bit)";
  d.ram_bytes = 8 * kGiB;
  d.os_reserve_bytes = 400 * kMiB;
  d.bandwidth_bytes_per_s = 12e9;  // STREAM triad measures 10–17 GB/s
  d.cores = 4;
  d.ghz = 2.4;
  d.ops_per_cycle_int8 = 64;
  d.ops_per_cycle_f16 = 32;
  d.ops_per_cycle_f32 = 16;
  d.tg_efficiency = 0.80;
  d.pp_efficiency = 0.15;
  d.idle_watts = 3.0;
  d.load_watts = 8.5;
  return d;
}

std::string read_file(const char* path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

double Device::ops_per_cycle(DotKind dot) const {
  switch (dot) {
    case DotKind::kInt8: return ops_per_cycle_int8;
    case DotKind::kF16: return ops_per_cycle_f16;
    case DotKind::kF32: return ops_per_cycle_f32;
  }
  return ops_per_cycle_f32;
}

Result<Device> device_profile(std::string_view name) {
  if (name == "pi4") return pi4();
  if (name == "pi400") {
    Device d = pi4();
    d.name = "pi400";
    d.description = "Raspberry Pi 400 (Cortex-A72 4 × 1.8 GHz, LPDDR4-3200 32-bit)";
    d.ram_bytes = 4 * kGiB;
    return d;
  }
  if (name == "pi5") return pi5();
  if (name == "custom") {
    Device d = pi4();
    d.name = "custom";
    d.description = "custom board";
    d.ram_bytes = 0;
    d.bandwidth_bytes_per_s = 0;
    d.cores = 0;
    d.ghz = 0;
    d.tg_efficiency = 0.75;
    d.pp_efficiency = 0.15;
    d.idle_watts = 3.0;
    d.load_watts = 8.0;
    return d;
  }
  return Error{"unknown device '" + std::string(name) + "' (known: pi4, pi400, pi5, this, custom)"};
}

Result<MemInfo> parse_meminfo(std::string_view text) {
  // The one /proc/meminfo parser is src/system's; the planner keeps its two fields.
  Result<system::MemInfo> m = system::parse_meminfo(text);
  if (!m) return m.error();
  return MemInfo{m->total, m->available};
}

Result<Device> measure_this_machine() {
  const system::SystemRoot live;
  const std::string model = system::read_board_model(live);
  Device d = model.find("Raspberry Pi 5") != std::string::npos ? pi5() : pi4();
  const bool is_pi = model.find("Raspberry Pi") != std::string::npos;
  d.name = "this";
  d.description = is_pi ? model : std::string("this machine");
  if (!is_pi) {
    // Unknown machine: generic efficiencies and a guess at power the user should override.
    d.tg_efficiency = 0.7;
    d.pp_efficiency = 0.15;
    d.idle_watts = 10;
    d.load_watts = 35;
  }
  Result<system::MemInfo> mem = system::read_meminfo(live);
  if (!mem) return mem.error();
  d.ram_bytes = mem->total;
  // What is in use now stays in use: the reserve is at least what the machine already holds.
  d.os_reserve_bytes = std::max<uint64_t>(d.os_reserve_bytes, mem->total - mem->available);
  d.cores = std::max(1u, std::thread::hardware_concurrency());
  if (const auto mhz = system::read_clocks(live).max_mhz()) d.ghz = *mhz / 1000;
  const std::string cpuinfo = read_file("/proc/cpuinfo");
  if (!(d.ghz > 0)) {
    const size_t at = cpuinfo.find("cpu MHz");
    if (at != std::string::npos) d.ghz = std::strtod(cpuinfo.c_str() + cpuinfo.find(':', at) + 1, nullptr) / 1000;
  }
  if (!(d.ghz > 0)) d.ghz = 2.0;
#if defined(__aarch64__)
  const bool dotprod = cpuinfo.find("asimddp") != std::string::npos;
  d.ops_per_cycle_int8 = dotprod ? 64 : 16;
  d.ops_per_cycle_f16 = cpuinfo.find("fphp") != std::string::npos ? 32 : 16;
  d.ops_per_cycle_f32 = 16;
#else
  // x86-64: AVX2 int8 (vpmaddubsw + vpmaddwd, 2 ports × 32 pairs) and FMA (2 ports × 8 × 2).
  const bool avx512 = cpuinfo.find("avx512f") != std::string::npos;
  const bool avx2 = cpuinfo.find(" avx2") != std::string::npos;
  d.ops_per_cycle_int8 = avx512 ? 256 : avx2 ? 128 : 32;
  d.ops_per_cycle_f32 = avx512 ? 64 : avx2 ? 32 : 8;
  d.ops_per_cycle_f16 = d.ops_per_cycle_f32;
#endif
  ThreadPool pool(d.cores);
  Result<bench::BandwidthResult> bw = bench::measure_bandwidth(pool, {.array_bytes = 0, .passes = 3});
  if (!bw) return bw.error();
  d.bandwidth_bytes_per_s = bw->best_gb_per_s * 1e9;
  return d;
}

}  // namespace hearth::plan
