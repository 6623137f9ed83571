// What the Linux kernel tells us about the machine we run on, read from /sys and /proc: CPU
// temperature, per-core clocks and cpufreq governor, the Raspberry Pi firmware's throttled /
// under-voltage flags, RAM and swap, and this process's resident memory.
//
// This is the one place hearth reads those files: `hearth bench` samples them, `hearth serve`
// exports them in /metrics and logs their changes, `hearth doctor` judges them. It sits in its own
// folder (src/system/) because it is about the host, not the engine: core/ holds what every layer
// of the engine needs (status, mmap), and bench/ and server/ are its users, not its owners.
//
// Every reader takes a SystemRoot: "/" reads the live machine; a fixture folder DIR makes it read
// DIR/sys/... and DIR/proc/... instead (`--sysfs-root DIR`), so tests build a fake Pi in a temp
// folder. A file that is absent (containers, VMs, boards without cpufreq) gives "no value" with
// the reason; a file with garbage in it gives "no value" with a message naming the file and what
// was in it. Nothing here throws or aborts.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace hearth::system {

// The root the /sys and /proc paths hang off.
struct SystemRoot {
  std::filesystem::path root = "/";
  bool live() const { return root.empty() || root == "/"; }
  std::filesystem::path sys() const { return root / "sys"; }
  std::filesystem::path proc() const { return root / "proc"; }
};

// The root a `--sysfs-root DIR` flag names; an error naming the flag when DIR is no folder.
Result<SystemRoot> system_root_at(const std::string& dir);

// The value of a "Key:   123 kB" line of /proc/meminfo or /proc/<pid>/status, in bytes; nullopt
// when the key is absent or its value is not a whole number.
std::optional<uint64_t> kib_field(std::string_view text, std::string_view key);

// A file's text; nullopt when it cannot be opened (absent, or not readable by us).
std::optional<std::string> read_text(const std::filesystem::path& path);
// The file's first line, trimmed; nullopt as read_text.
std::optional<std::string> read_line(const std::filesystem::path& path);

// ---- temperature ---------------------------------------------------------------------
struct Temperature {
  std::optional<double> celsius;  // the hottest CPU/SoC zone (any zone when none names a CPU)
  std::string zone;               // "thermal_zone0 (cpu-thermal)"
  std::string problem;            // why there is no value, or which zone held garbage
};
// <sys>/class/thermal/thermal_zone*/temp (millidegrees). Zones whose type names a CPU or SoC
// (cpu-thermal on a Pi, x86_pkg_temp, coretemp, k10temp, soc...) are preferred over board
// sensors (acpitz, battery). Readings outside -40..150 °C are a broken sensor and skipped.
Temperature read_cpu_temperature(const SystemRoot& root);

// ---- clocks --------------------------------------------------------------------------
struct CoreClock {
  int cpu = 0;
  std::optional<double> cur_mhz, min_mhz, max_mhz;  // scaling_cur_freq, cpuinfo_min/max_freq
  std::string governor;                             // scaling_governor; empty when absent
};
struct Clocks {
  std::vector<CoreClock> cores;   // cpu0, cpu1, ... in order; only cores with a cpufreq folder
  std::vector<std::string> problems;  // garbage in a cpufreq file, naming it
  // The slowest and fastest current clock, and the highest maximum, over the cores.
  std::optional<double> cur_min_mhz() const;
  std::optional<double> cur_max_mhz() const;
  std::optional<double> max_mhz() const;
  // The governors in use, de-duplicated in core order ("ondemand", or "ondemand, performance").
  std::vector<std::string> governors() const;
};
// <sys>/devices/system/cpu/cpu<N>/cpufreq/{scaling_cur_freq,cpuinfo_min_freq,cpuinfo_max_freq,
// scaling_governor} (kHz).
Clocks read_clocks(const SystemRoot& root);

// CPUs online: <sys>/devices/system/cpu/online ("0-3", "0,2-3"); else the cpuN folders; 0 when
// neither is there (the caller falls back to std::thread::hardware_concurrency()).
int count_online_cpus(const SystemRoot& root);

// ---- Raspberry Pi firmware throttling ------------------------------------------------
// The bits of the firmware's get_throttled word, as the Raspberry Pi documentation lists them
// (https://www.raspberrypi.com/documentation/computers/os.html#get_throttled, "vcgencmd"):
// bits 0-3 are the state now, bits 16-19 the same conditions "has occurred" since boot.
enum ThrottleBit : uint32_t {
  kUnderVoltageNow = 1u << 0,      // under-voltage detected
  kFreqCappedNow = 1u << 1,        // ARM frequency capped
  kThrottledNow = 1u << 2,         // currently throttled
  kSoftTempLimitNow = 1u << 3,     // soft temperature limit active
  kUnderVoltageOccurred = 1u << 16,
  kFreqCappedOccurred = 1u << 17,
  kThrottledOccurred = 1u << 18,
  kSoftTempLimitOccurred = 1u << 19,
};
struct ThrottleFlagInfo {
  ThrottleBit bit;
  std::string_view key;          // "under_voltage_now": JSON and /metrics label
  std::string_view description;  // "under-voltage now"
};
// The eight documented bits in bit order.
const std::vector<ThrottleFlagInfo>& throttle_flag_table();
// "under-voltage now, currently throttled, under-voltage since boot" or "none".
std::string describe_throttle_bits(uint32_t bits);

struct Throttle {
  std::optional<uint32_t> bits;  // the firmware word; nullopt where nothing exposes it
  std::string source;            // the file or command it came from
  std::string problem;           // why there is no value
};
// The sysfs file of Raspberry Pi OS kernels prints the word as bare hex ("50005\n").
Result<uint32_t> parse_throttled_hex(std::string_view text);
// `vcgencmd get_throttled` prints "throttled=0x50005".
Result<uint32_t> parse_vcgencmd_throttled(std::string_view text);
// In order: <sys>/devices/platform/soc/soc:firmware/get_throttled (Raspberry Pi OS kernels;
// the Pi 5's firmware node is found the same way under <sys>/devices/platform/*firmware*);
// then, only on the live machine and when `allow_vcgencmd`, `vcgencmd get_throttled`; then the
// mainline kernel's rpi_volt hwmon (<sys>/class/hwmon/*/in0_lcrit_alarm), which only knows
// under-voltage (it re-reads the firmware every 2 s and clears the sticky bits, so it means
// "under-voltage now or within the last poll" and maps to kUnderVoltageNow).
Throttle read_throttle(const SystemRoot& root, bool allow_vcgencmd = true);

// ---- memory --------------------------------------------------------------------------
struct MemInfo {
  uint64_t total = 0, available = 0;     // MemTotal, MemAvailable (bytes)
  uint64_t swap_total = 0, swap_free = 0;
  uint64_t swap_used() const { return swap_total > swap_free ? swap_total - swap_free : 0; }
};
// /proc/meminfo's text; an Error naming the field when MemTotal is missing or a value is not a
// number. A kernel without MemAvailable (before 3.14) gets MemFree + Cached.
Result<MemInfo> parse_meminfo(std::string_view text, std::string_view file = "/proc/meminfo");
Result<MemInfo> read_meminfo(const SystemRoot& root);

struct ProcessMemory {
  std::optional<uint64_t> rss_bytes;   // VmRSS: resident now
  std::optional<uint64_t> peak_bytes;  // VmHWM: the most resident since start (or the last reset)
};
// The text of /proc/<pid>/status ("VmRSS:   1234 kB").
ProcessMemory parse_proc_status(std::string_view text);
// <proc>/self/status.
ProcessMemory read_process_memory(const SystemRoot& root);
// Starts a new VmHWM period (writes "5" to <proc>/self/clear_refs); false where the kernel
// does not allow it, and the peak then covers the whole process.
bool reset_peak_rss(const SystemRoot& root);

// ---- board ---------------------------------------------------------------------------
// <proc>/device-tree/model without its trailing NUL ("Raspberry Pi 5 Model B Rev 1.0"); empty
// on machines without a device tree.
std::string read_board_model(const SystemRoot& root);

// ---- one health reading: what bench samples, serve watches and exports ---------------
struct Health {
  Temperature temperature;
  Clocks clocks;
  Throttle throttle;
};
Health read_health(const SystemRoot& root, bool allow_vcgencmd = true);

}  // namespace hearth::system
