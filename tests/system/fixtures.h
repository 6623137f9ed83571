// Fake machines for the /sys and /proc readers, `hearth doctor` and the server's health
// sampler: a folder laid out as the kernel lays out /sys and /proc, read with
// SystemRoot{folder} (`--sysfs-root folder`). The file contents are what those kernels print.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "system/machine.h"

namespace hearth::test {

class FixtureTree {
 public:
  explicit FixtureTree(const std::string& name) {
    root_ = std::filesystem::path(testing::TempDir()) /
            ("hearth_fixture_" + name + "_" + std::to_string(::getpid()) + "_" +
             testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_);
  }
  ~FixtureTree() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  FixtureTree(const FixtureTree&) = delete;
  FixtureTree& operator=(const FixtureTree&) = delete;

  const std::filesystem::path& path() const { return root_; }
  system::SystemRoot root() const { return {root_}; }
  void write(const std::filesystem::path& rel, const std::string& text) const {
    std::filesystem::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel, std::ios::binary) << text;
  }
  // A relative symlink, as /sys/dev/block/MAJ:MIN -> ../../devices/....
  void link(const std::filesystem::path& rel, const std::filesystem::path& target) const {
    std::filesystem::create_directories((root_ / rel).parent_path());
    std::filesystem::create_directory_symlink(target, root_ / rel);
  }

  void cpus(int n, long cur_khz, long max_khz, const std::string& governor) const {
    write("sys/devices/system/cpu/online", n == 1 ? "0\n" : "0-" + std::to_string(n - 1) + "\n");
    for (int i = 0; i < n; ++i) {
      const std::string f = "sys/devices/system/cpu/cpu" + std::to_string(i) + "/cpufreq/";
      write(f + "scaling_cur_freq", std::to_string(cur_khz) + "\n");
      write(f + "cpuinfo_max_freq", std::to_string(max_khz) + "\n");
      write(f + "cpuinfo_min_freq", "600000\n");
      write(f + "scaling_governor", governor + "\n");
    }
  }
  void meminfo(long total_kb, long available_kb, long swap_total_kb, long swap_free_kb) const {
    write("proc/meminfo", "MemTotal:       " + std::to_string(total_kb) + " kB\nMemFree:          123456 kB\n" +
                              "MemAvailable:   " + std::to_string(available_kb) + " kB\nCached:  100 kB\n" +
                              "SwapTotal:      " + std::to_string(swap_total_kb) + " kB\nSwapFree:       " +
                              std::to_string(swap_free_kb) + " kB\n");
  }

 private:
  std::filesystem::path root_;
};

// A Pi 4 on a phone charger in a closed case: 82 °C, clock held at 1 GHz, get_throttled 0x50005
// (under-voltage now, throttled now, both since boot), ondemand governor, swap in use.
inline void make_pi4_throttled(const FixtureTree& t) {
  t.write("proc/device-tree/model", std::string("Raspberry Pi 4 Model B Rev 1.4") + '\0');
  t.write("sys/class/thermal/thermal_zone0/type", "cpu-thermal\n");
  t.write("sys/class/thermal/thermal_zone0/temp", "82300\n");
  t.cpus(4, 1000000, 1800000, "ondemand");
  t.write("sys/devices/platform/soc/soc:firmware/get_throttled", "50005\n");
  t.meminfo(3884000, 1200000, 102396, 2396);
  t.write("proc/self/status", "Name:\thearth\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n");
}

// A Pi 5 with the Active Cooler and the 27 W supply: 45 °C, 2.4 GHz, no flags, 8 GB.
inline void make_pi5_healthy(const FixtureTree& t) {
  t.write("proc/device-tree/model", std::string("Raspberry Pi 5 Model B Rev 1.0") + '\0');
  t.write("sys/class/thermal/thermal_zone0/type", "cpu-thermal\n");
  t.write("sys/class/thermal/thermal_zone0/temp", "45250\n");
  t.cpus(4, 2400000, 2400000, "performance");
  t.write("sys/devices/platform/soc/soc:firmware/get_throttled", "0\n");
  t.meminfo(8245000, 7600000, 0, 0);
  t.write("proc/self/status", "VmRSS:\t  2048 kB\n");
}

// A VM or container: memory and CPUs, but no thermal zones, no cpufreq, no firmware.
inline void make_no_thermal(const FixtureTree& t) {
  t.write("sys/devices/system/cpu/online", "0-1\n");
  t.meminfo(2000000, 1500000, 0, 0);
}

// Every file there, every value garbage.
inline void make_garbage(const FixtureTree& t) {
  t.write("proc/device-tree/model", std::string("Raspberry Pi 4 Model B Rev 1.1") + '\0');
  t.write("sys/class/thermal/thermal_zone0/type", "cpu-thermal\n");
  t.write("sys/class/thermal/thermal_zone0/temp", "hot\n");
  t.write("sys/devices/system/cpu/online", "zero-three\n");
  t.write("sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", "<unsupported>\n");
  t.write("sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", "-5\n");
  t.write("sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", "\n");
  t.write("sys/devices/platform/soc/soc:firmware/get_throttled", "zzz\n");
  t.write("proc/meminfo", "MemTotal: lots kB\nSwapTotal: 0 kB\n");
  t.write("proc/self/status", "VmRSS: many kB\n");
}

}  // namespace hearth::test
