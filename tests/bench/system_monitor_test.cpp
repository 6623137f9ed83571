// The benchmark's view of the machine on fake trees: extremes over a run, the firmware flags
// ORed over the readings, absent files ("n/a"), and the background sampler's lifetime. The
// readers themselves are tested in tests/system/.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "bench/system_monitor.h"

namespace hearth::bench {
namespace {

namespace fs = std::filesystem;

class FakeSys : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(testing::TempDir()) /
            ("hearth_fake_sys_" + std::string(testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  // `rel` under the fixture's sys/ folder.
  void write(const fs::path& rel, const std::string& text) {
    fs::create_directories((root_ / "sys" / rel).parent_path());
    std::ofstream(root_ / "sys" / rel) << text;
  }
  system::SystemRoot root() const { return {root_}; }
  fs::path root_;
};

TEST(BenchProcStatus, ThisProcessHasAResidentSet) {
  const MemoryUsage m = system::read_process_memory({});
  if (!m.rss_bytes) GTEST_SKIP() << "no /proc/self/status here";
  EXPECT_GT(*m.rss_bytes, 0u);
}

TEST_F(FakeSys, HottestZoneAndClockRange) {
  write("class/thermal/thermal_zone0/temp", "45123\n");
  write("class/thermal/thermal_zone1/temp", "61000\n");
  write("class/thermal/thermal_zone2/temp", "-273000\n");  // a broken sensor is ignored
  write("class/thermal/cooling_device0/cur_state", "1\n");
  write("devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", "1500000\n");
  write("devices/system/cpu/cpu1/cpufreq/scaling_cur_freq", "600000\n");
  write("devices/system/cpu/cpu2/online", "1\n");  // no cpufreq: skipped
  write("devices/system/cpu/cpufreq/policy0/scaling_cur_freq", "42\n");  // not a cpuN folder
  const ThermalSample s = read_thermal_sample(root());
  ASSERT_TRUE(s.temp_c.has_value());
  EXPECT_DOUBLE_EQ(*s.temp_c, 61.0);
  ASSERT_TRUE(s.freq_min_mhz.has_value());
  EXPECT_DOUBLE_EQ(*s.freq_min_mhz, 600.0);
  EXPECT_DOUBLE_EQ(*s.freq_max_mhz, 1500.0);
  EXPECT_FALSE(s.throttle_bits.has_value());  // not a Pi
}

TEST_F(FakeSys, AbsentFilesGiveNotAvailable) {
  const ThermalSample s = read_thermal_sample({root_ / "nothing-here"});
  EXPECT_FALSE(s.temp_c.has_value());
  EXPECT_FALSE(s.freq_min_mhz.has_value());
  ThermalRange r;
  r.add(s);
  EXPECT_EQ(format_optional(r.temp_max_c), "n/a");
  EXPECT_EQ(format_optional(r.freq_min_mhz, 0), "n/a");
  EXPECT_EQ(format_optional(45.25, 1), "45.2");
  EXPECT_FALSE(r.throttle_bits.has_value());
}

TEST_F(FakeSys, RangeKeepsExtremesAndEveryFlagSeen) {
  ThermalRange r;
  r.add({50.0, 1000.0, 1500.0, 0x0u});
  r.add({70.0, 600.0, 1200.0, 0x50005u});  // under-voltage and throttled for a moment
  r.add({});  // a reading where nothing was there
  r.add({60.0, 900.0, 1300.0, 0x50000u});
  EXPECT_EQ(r.n_samples, 4);
  EXPECT_DOUBLE_EQ(*r.temp_min_c, 50.0);
  EXPECT_DOUBLE_EQ(*r.temp_max_c, 70.0);
  EXPECT_DOUBLE_EQ(*r.freq_min_mhz, 600.0);
  EXPECT_DOUBLE_EQ(*r.freq_max_mhz, 1500.0);
  EXPECT_EQ(*r.throttle_bits, 0x50005u);
}

TEST_F(FakeSys, SamplerReadsAtStartAndStopAndStopsOnce) {
  write("class/thermal/thermal_zone0/temp", "40000\n");
  write("devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", "1800000\n");
  write("devices/platform/soc/soc:firmware/get_throttled", "0\n");
  ThermalSampler sampler(root(), 10000);  // the interval never elapses: start and stop readings only
  write("class/thermal/thermal_zone0/temp", "80000\n");
  write("devices/platform/soc/soc:firmware/get_throttled", "20002\n");  // capped while we ran
  const ThermalRange r = sampler.stop();
  EXPECT_GE(r.n_samples, 2);
  EXPECT_DOUBLE_EQ(*r.temp_min_c, 40.0);
  EXPECT_DOUBLE_EQ(*r.temp_max_c, 80.0);
  EXPECT_DOUBLE_EQ(*r.freq_max_mhz, 1800.0);
  EXPECT_EQ(*r.throttle_bits, 0x20002u);
  EXPECT_EQ(sampler.stop().n_samples, r.n_samples);  // idempotent; the destructor stops nothing twice
}

}  // namespace
}  // namespace hearth::bench
