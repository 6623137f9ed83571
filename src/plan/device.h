// The boards the planner knows, as numbers: RAM, sustained memory bandwidth, cores and clock,
// the arithmetic width of the dot kernels, how close llama.cpp-class engines get to those two
// ceilings, and idle/load power. Every default is sourced in docs/raspberry-pi.md and held to
// published measurements in tests/plan/published_figures_test.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "plan/model_shape.h"

namespace hearth::plan {

struct Device {
  std::string name;             // "pi4", "pi5", "this", "custom"
  std::string description;      // "Raspberry Pi 4 (Cortex-A72 1.8 GHz, LPDDR4-3200 32-bit)"
  uint64_t ram_bytes = 0;
  uint64_t os_reserve_bytes = 0;  // the OS, services and page-cache headroom
  double bandwidth_bytes_per_s = 0;  // sustained (STREAM triad), not the bus's peak
  int cores = 0;
  double ghz = 0;
  // Multiply-add ops (×2: one multiply, one add) per cycle per core of the dot kernel:
  // int8 (Q4/Q5/Q8/K-quants after the activations are quantized to 8 bits), f16, f32.
  double ops_per_cycle_int8 = 0, ops_per_cycle_f16 = 0, ops_per_cycle_f32 = 0;
  double tg_efficiency = 0;  // achieved ÷ roofline for generation
  double pp_efficiency = 0;  // achieved ÷ peak arithmetic for prefill
  double idle_watts = 0, load_watts = 0;

  double ops_per_cycle(DotKind dot) const;
  double peak_ops_per_s(DotKind dot) const { return cores * ghz * 1e9 * ops_per_cycle(dot); }
};

// pi4, pi5 (and pi400, a Pi 4 in a keyboard) with their documented defaults; custom starts
// from Pi 4-like arithmetic and needs RAM, bandwidth, cores and clock from the user.
Result<Device> device_profile(std::string_view name);

// What /proc/meminfo says, in bytes (MemTotal, MemAvailable); an Error if MemTotal is missing.
struct MemInfo {
  uint64_t total = 0, available = 0;
};
Result<MemInfo> parse_meminfo(std::string_view text);

// `--device this`: RAM from /proc/meminfo, cores, clock from cpufreq, dot-product support from
// /proc/cpuinfo, bandwidth from a STREAM triad. A Raspberry Pi (from the device-tree model)
// keeps that board's efficiency and power defaults.
Result<Device> measure_this_machine();

}  // namespace hearth::plan
