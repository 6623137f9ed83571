// What the machine does while a benchmark runs: the process's resident memory (from
// /proc/self/status) and the CPU temperature and clock (from /sys), so a throttled run shows in
// the table instead of passing for a slow engine. Every reader takes the root of the tree it
// reads, so tests point them at a fake /proc or /sys; a file that is absent (containers, VMs,
// boards without cpufreq) gives "no value", never an error.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace hearth::bench {

struct MemoryUsage {
  std::optional<uint64_t> rss_bytes;   // VmRSS: resident now
  std::optional<uint64_t> peak_bytes;  // VmHWM: the most resident since start (or the last reset)
};

// Parses the text of /proc/<pid>/status ("VmRSS:   1234 kB").
MemoryUsage parse_proc_status(std::string_view text);
MemoryUsage read_memory_usage(const std::filesystem::path& status = "/proc/self/status");
// Starts a new VmHWM period (writes "5" to /proc/self/clear_refs); false where the kernel
// does not allow it, and the peak then covers the whole process.
bool reset_peak_rss(const std::filesystem::path& clear_refs = "/proc/self/clear_refs");

// One reading: the hottest thermal zone, and the slowest and fastest current core clock.
struct ThermalSample {
  std::optional<double> temp_c;
  std::optional<double> freq_min_mhz;
  std::optional<double> freq_max_mhz;
};

// Reads <sys_root>/class/thermal/thermal_zone*/temp (millidegrees) and
// <sys_root>/devices/system/cpu/cpu*/cpufreq/scaling_cur_freq (kHz).
ThermalSample read_thermal_sample(const std::filesystem::path& sys_root = "/sys");

// Extremes over a run.
struct ThermalRange {
  std::optional<double> temp_min_c, temp_max_c;
  std::optional<double> freq_min_mhz, freq_max_mhz;
  int n_samples = 0;

  void add(const ThermalSample& s);
};

// "45.0" or "n/a".
std::string format_optional(const std::optional<double>& v, int decimals = 1);

// Samples in a background thread from construction to destruction (or stop()), one reading
// every `interval_ms`, and at start and stop, so even a short run has two readings.
class ThermalSampler {
 public:
  explicit ThermalSampler(std::filesystem::path sys_root = "/sys", int interval_ms = 200);
  ~ThermalSampler();
  ThermalSampler(const ThermalSampler&) = delete;
  ThermalSampler& operator=(const ThermalSampler&) = delete;

  // Stops the thread (idempotent) and returns the extremes.
  ThermalRange stop();
  // The extremes so far; the thread keeps running.
  ThermalRange range() const;

 private:
  void loop();

  const std::filesystem::path sys_root_;
  const int interval_ms_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  ThermalRange range_;
  std::thread thread_;
};

}  // namespace hearth::bench
