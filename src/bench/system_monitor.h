// What the machine does while a benchmark runs: the process's resident memory and the CPU
// temperature, clock and (on a Raspberry Pi) the firmware's throttled / under-voltage flags, so a
// throttled run shows in the table instead of passing for a slow engine. The readings come from
// src/system/ (the one /sys and /proc reader); this file keeps only what a benchmark adds: the
// extremes over a run, and a background sampler.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "system/machine.h"

namespace hearth::bench {

using MemoryUsage = system::ProcessMemory;

// One reading: the hottest CPU thermal zone, the slowest and fastest current core clock, and
// the firmware's get_throttled word where the board has one.
struct ThermalSample {
  std::optional<double> temp_c;
  std::optional<double> freq_min_mhz;
  std::optional<double> freq_max_mhz;
  std::optional<uint32_t> throttle_bits;
};

ThermalSample read_thermal_sample(const system::SystemRoot& root = {});

// Extremes over a run.
struct ThermalRange {
  std::optional<double> temp_min_c, temp_max_c;
  std::optional<double> freq_min_mhz, freq_max_mhz;
  // Every get_throttled bit seen set in any reading (OR); nullopt where the board has none.
  std::optional<uint32_t> throttle_bits;
  int n_samples = 0;

  void add(const ThermalSample& s);
};

// "45.0" or "n/a".
std::string format_optional(const std::optional<double>& v, int decimals = 1);

// Samples in a background thread from construction to destruction (or stop()), one reading
// every `interval_ms`, and at start and stop, so even a short run has two readings.
class ThermalSampler {
 public:
  explicit ThermalSampler(system::SystemRoot root = {}, int interval_ms = 200);
  ~ThermalSampler();
  ThermalSampler(const ThermalSampler&) = delete;
  ThermalSampler& operator=(const ThermalSampler&) = delete;

  // Stops the thread (idempotent) and returns the extremes.
  ThermalRange stop();
  // The extremes so far; the thread keeps running.
  ThermalRange range() const;

 private:
  void loop();

  const system::SystemRoot root_;
  const int interval_ms_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  ThermalRange range_;
  std::thread thread_;
};

}  // namespace hearth::bench
