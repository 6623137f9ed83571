// The /sys and /proc readers against fixture trees: a throttled, under-volted Pi 4, a healthy
// Pi 5, a machine with no thermal zones, and files full of garbage (clear messages naming the
// file, never a crash).
#include "system/machine.h"

#include <gtest/gtest.h>

#include "system/fixtures.h"

namespace hearth::system {
namespace {

using test::FixtureTree;

TEST(SystemThrottle, DecodesTheDocumentedBits) {
  // 0x50005 = bits 0, 2, 16, 18 (Raspberry Pi documentation, vcgencmd get_throttled).
  EXPECT_EQ(describe_throttle_bits(0x50005),
            "under-voltage now, currently throttled, under-voltage since boot, throttled since boot");
  EXPECT_EQ(describe_throttle_bits(0x80008), "soft temperature limit active, soft temperature limit since boot");
  EXPECT_EQ(describe_throttle_bits(0x20002), "ARM frequency capped now, ARM frequency capped since boot");
  EXPECT_EQ(describe_throttle_bits(0), "none");
  EXPECT_EQ(throttle_flag_table().size(), 8u);
}

TEST(SystemThrottle, ParsesSysfsAndVcgencmdForms) {
  EXPECT_EQ(*parse_throttled_hex("50005\n"), 0x50005u);
  EXPECT_EQ(*parse_throttled_hex("0x0"), 0u);
  EXPECT_EQ(*parse_vcgencmd_throttled("throttled=0x50005\n"), 0x50005u);
  EXPECT_EQ(*parse_vcgencmd_throttled("throttled=0x0"), 0u);
  const auto bad = parse_throttled_hex("zzz");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("'zzz'"), std::string::npos) << bad.error().message;
  EXPECT_FALSE(parse_vcgencmd_throttled("error=1 error_msg=\"Command not registered\"").ok());
  EXPECT_FALSE(parse_vcgencmd_throttled("throttled=").ok());
  EXPECT_FALSE(parse_throttled_hex("123456789").ok());  // more than 32 bits
}

TEST(SystemFixtures, ThrottledPi4) {
  FixtureTree t("pi4");
  test::make_pi4_throttled(t);
  const Health h = read_health(t.root());
  ASSERT_TRUE(h.temperature.celsius.has_value());
  EXPECT_DOUBLE_EQ(*h.temperature.celsius, 82.3);
  EXPECT_EQ(h.temperature.zone, "thermal_zone0 (cpu-thermal)");
  ASSERT_EQ(h.clocks.cores.size(), 4u);
  EXPECT_DOUBLE_EQ(*h.clocks.cur_max_mhz(), 1000.0);
  EXPECT_DOUBLE_EQ(*h.clocks.max_mhz(), 1800.0);
  EXPECT_DOUBLE_EQ(*h.clocks.cores[3].min_mhz, 600.0);
  EXPECT_EQ(h.clocks.governors(), std::vector<std::string>{"ondemand"});
  ASSERT_TRUE(h.throttle.bits.has_value()) << h.throttle.problem;
  EXPECT_EQ(*h.throttle.bits, 0x50005u);
  EXPECT_NE(h.throttle.source.find("soc:firmware/get_throttled"), std::string::npos);
  EXPECT_EQ(count_online_cpus(t.root()), 4);
  EXPECT_EQ(read_board_model(t.root()), "Raspberry Pi 4 Model B Rev 1.4");
  const Result<MemInfo> m = read_meminfo(t.root());
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->total, 3884000ull * 1024);
  EXPECT_EQ(m->available, 1200000ull * 1024);
  EXPECT_EQ(m->swap_used(), 100000ull * 1024);
  const ProcessMemory p = read_process_memory(t.root());
  EXPECT_EQ(*p.rss_bytes, 102400ull * 1024);
  EXPECT_EQ(*p.peak_bytes, 204800ull * 1024);
}

TEST(SystemFixtures, HealthyPi5) {
  FixtureTree t("pi5");
  test::make_pi5_healthy(t);
  const Health h = read_health(t.root());
  EXPECT_DOUBLE_EQ(*h.temperature.celsius, 45.25);
  EXPECT_EQ(*h.throttle.bits, 0u);
  EXPECT_DOUBLE_EQ(*h.clocks.cur_min_mhz(), 2400.0);
  EXPECT_EQ(h.clocks.governors(), std::vector<std::string>{"performance"});
  EXPECT_TRUE(h.temperature.problem.empty());
  EXPECT_EQ(read_meminfo(t.root())->swap_total, 0u);
}

TEST(SystemFixtures, MachineWithoutThermalZones) {
  FixtureTree t("vm");
  test::make_no_thermal(t);
  const Health h = read_health(t.root());
  EXPECT_FALSE(h.temperature.celsius.has_value());
  EXPECT_NE(h.temperature.problem.find("no thermal zones under"), std::string::npos) << h.temperature.problem;
  EXPECT_TRUE(h.clocks.cores.empty());
  EXPECT_FALSE(h.clocks.max_mhz().has_value());
  EXPECT_FALSE(h.throttle.bits.has_value());
  EXPECT_NE(h.throttle.problem.find("no Raspberry Pi firmware flags"), std::string::npos) << h.throttle.problem;
  EXPECT_EQ(count_online_cpus(t.root()), 2);
  EXPECT_EQ(read_board_model(t.root()), "");
}

TEST(SystemFixtures, GarbageGivesMessagesNamingTheFile) {
  FixtureTree t("garbage");
  test::make_garbage(t);
  const Health h = read_health(t.root());
  EXPECT_FALSE(h.temperature.celsius.has_value());
  EXPECT_NE(h.temperature.problem.find("thermal_zone0/temp: 'hot' is not millidegrees"), std::string::npos)
      << h.temperature.problem;
  ASSERT_EQ(h.clocks.cores.size(), 1u);
  EXPECT_FALSE(h.clocks.cores[0].cur_mhz.has_value());
  EXPECT_FALSE(h.clocks.cores[0].max_mhz.has_value());
  ASSERT_GE(h.clocks.problems.size(), 2u);
  EXPECT_NE(h.clocks.problems[0].find("scaling_cur_freq: '<unsupported>' is not a clock in kHz"), std::string::npos)
      << h.clocks.problems[0];
  EXPECT_FALSE(h.throttle.bits.has_value());
  EXPECT_NE(h.throttle.problem.find("get_throttled: 'zzz' is not a hexadecimal throttled word"), std::string::npos)
      << h.throttle.problem;
  const Result<MemInfo> m = read_meminfo(t.root());
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("meminfo: MemTotal is not a size in kB"), std::string::npos) << m.error().message;
  EXPECT_FALSE(read_process_memory(t.root()).rss_bytes.has_value());
  // "zero-three" is no CPU list: the cpuN folders are counted instead.
  EXPECT_EQ(count_online_cpus(t.root()), 1);
}

TEST(SystemReaders, MeminfoEdgeCases) {
  EXPECT_FALSE(parse_meminfo("MemFree: 1 kB\n").ok());
  const auto no_total = parse_meminfo("MemFree: 1 kB\n", "/x/meminfo");
  EXPECT_NE(no_total.error().message.find("/x/meminfo has no MemTotal line"), std::string::npos);
  // Before Linux 3.14 there is no MemAvailable: free + cache stands in.
  const auto old = parse_meminfo("MemTotal: 1000 kB\nMemFree: 100 kB\nCached: 200 kB\n");
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->available, 300u * 1024);
  EXPECT_FALSE(parse_meminfo("MemTotal: 1000 kB\nSwapFree: x kB\n").ok());
  EXPECT_FALSE(read_meminfo({"/nonexistent"}).ok());
}

TEST(SystemReaders, HwmonUnderVoltageAlarmAndOtherFirmwareNodes) {
  FixtureTree t("hwmon");
  t.write("sys/class/hwmon/hwmon0/name", "cpu_thermal\n");
  t.write("sys/class/hwmon/hwmon1/name", "rpi_volt\n");
  t.write("sys/class/hwmon/hwmon1/in0_lcrit_alarm", "1\n");
  Throttle th = read_throttle(t.root());
  ASSERT_TRUE(th.bits.has_value()) << th.problem;
  EXPECT_EQ(*th.bits, uint32_t(kUnderVoltageNow));
  // A firmware node under another soc name (as on newer device trees) is found too, first.
  t.write("sys/devices/platform/soc@107c000000/soc@107c000000:firmware/get_throttled", "80008\n");
  th = read_throttle(t.root());
  EXPECT_EQ(*th.bits, 0x80008u);
}

TEST(SystemReaders, PrefersCpuZonesAndSkipsBrokenSensors) {
  FixtureTree t("zones");
  t.write("sys/class/thermal/thermal_zone0/type", "acpitz\n");
  t.write("sys/class/thermal/thermal_zone0/temp", "71000\n");
  t.write("sys/class/thermal/thermal_zone1/type", "x86_pkg_temp\n");
  t.write("sys/class/thermal/thermal_zone1/temp", "48312\n");
  t.write("sys/class/thermal/thermal_zone2/type", "cpu-broken\n");
  t.write("sys/class/thermal/thermal_zone2/temp", "-273000\n");
  t.write("sys/class/thermal/cooling_device0/temp", "99000\n");
  const Temperature temp = read_cpu_temperature(t.root());
  EXPECT_DOUBLE_EQ(*temp.celsius, 48.312);
  EXPECT_EQ(temp.zone, "thermal_zone1 (x86_pkg_temp)");
}

TEST(SystemReaders, ThisMachineNeverCrashes) {
  // Whatever the live machine has: values or reasons, no crash, no throw.
  const Health h = read_health({}, /*allow_vcgencmd=*/false);
  EXPECT_TRUE(h.temperature.celsius.has_value() || !h.temperature.problem.empty());
  EXPECT_GT(read_process_memory({}).rss_bytes.value_or(1), 0u);
}

}  // namespace
}  // namespace hearth::system
