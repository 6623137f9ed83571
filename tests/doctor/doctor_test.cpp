// `hearth doctor`: each rule on fixture readings, and the command itself on fixture trees
// through --sysfs-root (JSON shape, verdicts, exit code). --load-seconds 0 everywhere: no test
// runs a load, and none asserts a time.
#include "doctor/doctor.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "../cli/cli_process.h"
#include "system/fixtures.h"
#include "test_data.h"

namespace hearth::doctor {
namespace {

using test::FixtureTree;

system::MemInfo mem(uint64_t total_gib, uint64_t avail_gib, uint64_t swap_mib = 0, uint64_t swap_used_mib = 0) {
  return {total_gib << 30, avail_gib << 30, swap_mib << 20, (swap_mib - swap_used_mib) << 20};
}

TEST(DoctorRules, Storage) {
  system::BlockDevice sd{"mmcblk0", "mmcblk0p2", system::StorageKind::kMicroSd, false, false, ""};
  Check c = judge_storage("m.gguf", sd);
  EXPECT_EQ(c.status, Verdict::kWarn);
  EXPECT_NE(c.detail.find("mmcblk0p2 (microSD/eMMC"), std::string::npos) << c.detail;
  EXPECT_NE(c.fix.find("SSD"), std::string::npos);
  system::BlockDevice ssd{"sda", "sda1", system::StorageKind::kUsb, false, false, ""};
  EXPECT_EQ(judge_storage("m.gguf", ssd).status, Verdict::kOk);
  system::BlockDevice hdd{"sda", "", system::StorageKind::kUsb, false, true, ""};
  EXPECT_EQ(judge_storage("m.gguf", hdd).status, Verdict::kWarn);
  EXPECT_EQ(judge_storage("m.gguf", Error{"no /sys"}).status, Verdict::kWarn);
}

TEST(DoctorRules, ReadSpeed) {
  Check c = judge_read_speed("m.gguf", 4000000000ull, system::ReadSpeed{256ull << 20, 6.7, true});
  EXPECT_EQ(c.status, Verdict::kWarn);  // 40 MB/s: a microSD
  EXPECT_NE(c.detail.find("40 MB/s"), std::string::npos) << c.detail;
  EXPECT_NE(c.detail.find("about 100 s"), std::string::npos) << c.detail;
  EXPECT_EQ(judge_read_speed("m.gguf", 0, system::ReadSpeed{256ull << 20, 0.8, true}).status, Verdict::kOk);
  EXPECT_EQ(judge_read_speed("m.gguf", 0, Error{"m.gguf: Permission denied"}).status, Verdict::kWarn);
}

TEST(DoctorRules, MemoryAndSwap) {
  plan::Plan fits;
  fits.weight_bytes = 2ull << 30, fits.kv_bytes = 512ull << 20, fits.compute_bytes = 100ull << 20;
  fits.fits = true, fits.ctx = 4096;
  Check c = judge_memory(mem(8, 7), {{"a.gguf", fits}}, 4096);
  EXPECT_EQ(c.status, Verdict::kOk) << c.detail;
  EXPECT_NE(c.detail.find("a.gguf needs 2.6 GiB at a 4096-token context"), std::string::npos) << c.detail;
  EXPECT_EQ(judge_memory(mem(8, 2), {{"a.gguf", fits}}, 4096).status, Verdict::kWarn);  // not free now
  plan::Plan too_big = fits;
  too_big.fits = false, too_big.max_ctx = 512;
  c = judge_memory(mem(4, 3), {{"b.gguf", too_big}}, 4096);
  EXPECT_EQ(c.status, Verdict::kFail);
  EXPECT_NE(c.detail.find("largest context that fits: 512"), std::string::npos) << c.detail;
  EXPECT_NE(c.fix.find("hearth plan"), std::string::npos);
  EXPECT_EQ(judge_memory(mem(8, 7), {{"bad.gguf", Error{"not a GGUF file"}}}, 4096).status, Verdict::kWarn);
  EXPECT_EQ(judge_memory(Error{"/proc/meminfo is not readable"}, {}, 4096).status, Verdict::kWarn);

  EXPECT_EQ(judge_swap(mem(8, 7)).status, Verdict::kOk);
  EXPECT_EQ(judge_swap(mem(8, 7, 512, 20)).status, Verdict::kOk);
  EXPECT_EQ(judge_swap(mem(8, 7, 512, 400)).status, Verdict::kWarn);
}

TEST(DoctorRules, ThreadsAndGovernor) {
  EXPECT_EQ(judge_threads(std::nullopt, 4).status, Verdict::kOk);
  EXPECT_EQ(judge_threads(4, 4).status, Verdict::kOk);
  EXPECT_EQ(judge_threads(2, 4).status, Verdict::kOk);
  const Check over = judge_threads(8, 4);
  EXPECT_EQ(over.status, Verdict::kWarn);
  EXPECT_EQ(over.fix, "use -t 4 (or leave it out)");

  system::Clocks clocks;
  clocks.cores.push_back({0, 600.0, 600.0, 1800.0, "powersave"});
  Check g = judge_governor(clocks, true);
  EXPECT_EQ(g.status, Verdict::kWarn);
  EXPECT_NE(g.fix.find("echo performance | sudo tee"), std::string::npos);
  EXPECT_NE(g.detail.find("clock now 600-600 MHz, max 1800 MHz"), std::string::npos) << g.detail;
  clocks.cores[0].governor = "ondemand";
  EXPECT_EQ(judge_governor(clocks, true).status, Verdict::kWarn);
  clocks.cores[0].governor = "schedutil";
  EXPECT_EQ(judge_governor(clocks, true).status, Verdict::kOk);
  EXPECT_EQ(judge_governor({}, false).status, Verdict::kOk);  // a VM: nothing to set
  EXPECT_EQ(judge_governor({}, true).status, Verdict::kWarn);
}

TEST(DoctorRules, TemperatureUnderLoad) {
  LoadReadings r;
  r.idle.celsius = 48;
  r.load_max_c = 66;
  r.seconds = 5, r.threads = 4;
  Check c = judge_temperature(r);
  EXPECT_EQ(c.status, Verdict::kOk);
  EXPECT_NE(c.detail.find("48.0 °C idle -> 66.0 °C after 5.0 s on 4 threads"), std::string::npos) << c.detail;
  r.load_max_c = 74;
  EXPECT_EQ(judge_temperature(r).status, Verdict::kWarn);
  r.load_max_c = 84;
  r.load_clock_min_mhz = 1000, r.clock_max_mhz = 1800;
  c = judge_temperature(r);
  EXPECT_EQ(c.status, Verdict::kFail);
  EXPECT_NE(c.detail.find("clock 1000 of 1800 MHz under load"), std::string::npos) << c.detail;
  EXPECT_NE(c.fix.find("fan"), std::string::npos);
  LoadReadings none;
  none.idle.problem = "no thermal zones under /x/sys/class/thermal";
  c = judge_temperature(none);
  EXPECT_EQ(c.status, Verdict::kWarn);
  EXPECT_EQ(c.detail, "no thermal zones under /x/sys/class/thermal");
}

TEST(DoctorRules, PowerFlags) {
  system::Throttle t{0x50005u, "get_throttled", ""};
  Check c = judge_power(t, "Raspberry Pi 5 Model B Rev 1.0");
  EXPECT_EQ(c.status, Verdict::kFail);
  EXPECT_NE(c.fix.find("official 27 W"), std::string::npos) << c.fix;
  c = judge_power(t, "Raspberry Pi 4 Model B Rev 1.4");
  EXPECT_NE(c.fix.find("official 15.3 W"), std::string::npos) << c.fix;
  EXPECT_NE(c.detail.find("0x50005 (under-voltage now"), std::string::npos) << c.detail;
  EXPECT_EQ(judge_power({0x4u, "x", ""}, "Raspberry Pi 4").status, Verdict::kFail);       // throttled now
  EXPECT_EQ(judge_power({0x40000u, "x", ""}, "Raspberry Pi 4").status, Verdict::kWarn);   // since boot
  EXPECT_EQ(judge_power({0u, "x", ""}, "Raspberry Pi 4").status, Verdict::kOk);
  EXPECT_EQ(judge_power({std::nullopt, "", "no flags"}, "").status, Verdict::kOk);          // not a Pi
  EXPECT_EQ(judge_power({std::nullopt, "", "no flags"}, "Raspberry Pi 4").status, Verdict::kWarn);
}

TEST(DoctorRules, SimdLevel) {
  EXPECT_EQ(judge_simd(Isa::kDotprod, Isa::kDotprod, "Raspberry Pi 5 Model B").status, Verdict::kOk);
  const Check pi5 = judge_simd(Isa::kNeon, Isa::kNeon, "Raspberry Pi 5 Model B");
  EXPECT_EQ(pi5.status, Verdict::kWarn);  // an A76 that does not report dotprod
  EXPECT_NE(pi5.fix.find("64-bit"), std::string::npos);
  EXPECT_EQ(judge_simd(Isa::kNeon, Isa::kNeon, "Raspberry Pi 4 Model B").status, Verdict::kOk);
  EXPECT_EQ(judge_simd(Isa::kNeon, Isa::kDotprod, "Raspberry Pi 5 Model B").status, Verdict::kWarn);  // forced
  EXPECT_EQ(judge_simd(Isa::kAvx2, Isa::kAvx2, "Raspberry Pi 5 Model B").status, Verdict::kOk);  // an x86 host
  EXPECT_EQ(judge_simd(Isa::kScalar, Isa::kScalar, "").status, Verdict::kWarn);
}

TEST(DoctorRules, ExitCodeAndJson) {
  std::vector<Check> checks = {{"a", Verdict::kOk, "d", ""}, {"b", Verdict::kWarn, "d", "f"}};
  EXPECT_EQ(exit_code(checks), 0);
  checks.push_back({"c", Verdict::kFail, "d", "f"});
  EXPECT_EQ(exit_code(checks), 1);
  const nlohmann::json j = to_json(checks);
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[1]["status"], "warn");
  EXPECT_EQ(j[2]["status"], "fail");
  const std::string text = format_text(checks, "Raspberry Pi 5");
  EXPECT_NE(text.find("[WARN] b"), std::string::npos) << text;
  EXPECT_NE(text.find("fix: f"), std::string::npos) << text;
}

// ---- the command on fixture trees -----------------------------------------------------------

struct Parsed {
  int exit_code;
  nlohmann::json checks;
  std::string err;
};

Parsed doctor_json(const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"doctor", "--json", "--load-seconds", "0", "--read-mib", "1"};
  args.insert(args.end(), extra.begin(), extra.end());
  const test::CliResult r = test::run_hearth(args);
  Parsed p{r.exit_code, nlohmann::json::parse(r.out, nullptr, false), r.err};
  return p;
}

const nlohmann::json& find_check(const nlohmann::json& list, const std::string& name) {
  for (const auto& c : list)
    if (c["check"] == name) return c;
  static const nlohmann::json none;
  ADD_FAILURE() << "no check " << name << " in " << list.dump(1);
  return none;
}

void expect_shape(const nlohmann::json& list) {
  ASSERT_TRUE(list.is_array()) << list.dump();
  ASSERT_FALSE(list.empty());
  for (const auto& c : list) {
    ASSERT_TRUE(c.is_object());
    EXPECT_EQ(c.size(), 4u) << c.dump();
    EXPECT_TRUE(c["check"].is_string());
    EXPECT_TRUE(c["detail"].is_string());
    EXPECT_TRUE(c["fix"].is_string());
    const std::string s = c["status"].get<std::string>();
    EXPECT_TRUE(s == "ok" || s == "warn" || s == "fail") << s;
    if (s != "ok") EXPECT_FALSE(c["fix"].get<std::string>().empty()) << c.dump();  // every problem has a fix
  }
}

TEST(DoctorCli, ThrottledPi4Fails) {
  FixtureTree t("doctor_pi4");
  test::make_pi4_throttled(t);
  const Parsed p = doctor_json({"--sysfs-root", t.path().string(), "--threads", "8"});
  ASSERT_FALSE(p.checks.is_discarded()) << p.err;
  expect_shape(p.checks);
  EXPECT_EQ(p.exit_code, 1) << p.err;
  EXPECT_EQ(find_check(p.checks, "power")["status"], "fail");
  EXPECT_NE(find_check(p.checks, "power")["fix"].get<std::string>().find("15.3 W"), std::string::npos);
  EXPECT_EQ(find_check(p.checks, "temperature")["status"], "fail");
  EXPECT_EQ(find_check(p.checks, "governor")["status"], "warn");
  EXPECT_EQ(find_check(p.checks, "threads")["status"], "warn");
  EXPECT_EQ(find_check(p.checks, "swap")["status"], "ok");  // 98 MiB of 100: under the 256 MiB floor
}

TEST(DoctorCli, HealthyPi5WithAModelOnNvme) {
  FixtureTree t("doctor_pi5");
  test::make_pi5_healthy(t);
  // A model file whose real device the fixture maps to an NVMe drive.
  t.write("models/tiny.gguf", std::string(1 << 20, 'x'));
  const Result<system::DeviceNumber> dev = system::device_of(t.path() / "models" / "tiny.gguf");
  ASSERT_TRUE(dev.ok());
  const std::string nvme = "devices/platform/axi/1000110000.pcie/nvme/nvme0/nvme0n1";
  t.write("sys/" + nvme + "/nvme0n1p2/partition", "2\n");
  t.write("sys/" + nvme + "/queue/rotational", "0\n");
  t.link("sys/dev/block/" + std::to_string(dev->major) + ":" + std::to_string(dev->minor), "../../" + nvme + "/nvme0n1p2");
  const Parsed p = doctor_json({"--sysfs-root", t.path().string(), "-m", (t.path() / "models" / "tiny.gguf").string()});
  ASSERT_FALSE(p.checks.is_discarded()) << p.err;
  expect_shape(p.checks);
  const auto& storage = find_check(p.checks, "storage");
  if (dev->major != 0) {  // a tmpfs TempDir has no block device to map
    EXPECT_EQ(storage["status"], "ok") << storage.dump();
    EXPECT_NE(storage["detail"].get<std::string>().find("nvme0n1p2 (NVMe"), std::string::npos) << storage.dump();
  }
  EXPECT_NE(find_check(p.checks, "read_speed")["detail"].get<std::string>().find("read 1 MiB of tiny.gguf"),
            std::string::npos);
  // Not a GGUF: the memory check says so instead of guessing.
  EXPECT_EQ(find_check(p.checks, "memory")["status"], "warn");
  EXPECT_EQ(find_check(p.checks, "power")["status"], "ok");
  EXPECT_EQ(find_check(p.checks, "temperature")["status"], "ok");
  EXPECT_EQ(find_check(p.checks, "governor")["status"], "ok");
  EXPECT_EQ(p.exit_code, 0) << p.checks.dump(1);
}

TEST(DoctorCli, RealModelFitsThePi5) {
  const auto model = test::models_dir() / "synth" / "synth-qwen2-tiny-Q4_K_M.gguf";
  HEARTH_REQUIRE_FILE(model);
  FixtureTree t("doctor_model");
  test::make_pi5_healthy(t);
  const Parsed p = doctor_json({"--sysfs-root", t.path().string(), "-m", model.string()});
  ASSERT_FALSE(p.checks.is_discarded()) << p.err;
  const auto& memory = find_check(p.checks, "memory");
  EXPECT_EQ(memory["status"], "ok") << memory.dump();
  EXPECT_NE(memory["detail"].get<std::string>().find("synth-qwen2-tiny-Q4_K_M.gguf needs"), std::string::npos);
}

TEST(DoctorCli, NoThermalZonesAndGarbageNeverCrash) {
  FixtureTree vm("doctor_vm");
  test::make_no_thermal(vm);
  Parsed p = doctor_json({"--sysfs-root", vm.path().string()});
  ASSERT_FALSE(p.checks.is_discarded()) << p.err;
  expect_shape(p.checks);
  EXPECT_EQ(p.exit_code, 0);
  EXPECT_NE(find_check(p.checks, "temperature")["detail"].get<std::string>().find("no thermal zones"), std::string::npos);
  EXPECT_EQ(find_check(p.checks, "power")["status"], "ok");  // not a Pi: nothing to check

  FixtureTree junk("doctor_garbage");
  test::make_garbage(junk);
  p = doctor_json({"--sysfs-root", junk.path().string()});
  ASSERT_FALSE(p.checks.is_discarded()) << p.err;
  expect_shape(p.checks);
  EXPECT_NE(find_check(p.checks, "memory")["detail"].get<std::string>().find("MemTotal is not a size in kB"),
            std::string::npos);
  EXPECT_NE(find_check(p.checks, "power")["detail"].get<std::string>().find("'zzz'"), std::string::npos);
  EXPECT_NE(find_check(p.checks, "temperature")["detail"].get<std::string>().find("'hot'"), std::string::npos);
}

TEST(DoctorCli, TextReportAndUsageErrors) {
  FixtureTree t("doctor_text");
  test::make_pi4_throttled(t);
  const test::CliResult r = test::run_hearth({"doctor", "--sysfs-root", t.path().string(), "--load-seconds", "0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("hearth doctor: Raspberry Pi 4 Model B Rev 1.4"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[FAIL] power"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fix: use the official 15.3 W USB-C supply"), std::string::npos) << r.out;

  EXPECT_EQ(test::run_hearth({"doctor", "-m", "/nonexistent/m.gguf"}).exit_code, 2);
  EXPECT_EQ(test::run_hearth({"doctor", "--sysfs-root", "/nonexistent"}).exit_code, 2);
  EXPECT_EQ(test::run_hearth({"doctor", "--threads", "0"}).exit_code, 2);
  const test::CliResult both = test::run_hearth({"doctor", "-m", "a", "--models-dir", "b"});
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_NE(both.err.find("not both"), std::string::npos) << both.err;
}

}  // namespace
}  // namespace hearth::doctor
