// `--sysfs-root DIR` on the commands that sample the machine besides doctor: `hearth bench`
// reports the fixture's throttled word (and keeps measuring this process's own RSS), and both
// bench and serve refuse a folder that does not exist, naming the flag.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "../cli/cli_process.h"
#include "system/fixtures.h"
#include "test_data.h"

namespace hearth {
namespace {

TEST(SysfsRootCli, BenchSamplesTheFixtureTree) {
  const auto model = test::models_dir() / "synth" / "synth-llama-tiny-Q4_0.gguf";
  HEARTH_REQUIRE_FILE(model);
  test::FixtureTree t("bench_sysfs_pi4");
  test::make_pi4_throttled(t);
  const test::CliResult r = test::run_hearth({"bench", "-m", model.string(), "-p", "8", "-n", "4", "-r", "1",
                                              "-t", "1", "-o", "json", "-q", "--no-store",
                                              "--sysfs-root", t.path().string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_array() && !j.empty()) << r.out;
  EXPECT_EQ(j[0]["throttled_bits"], 0x50005) << j[0].dump();
}

TEST(SysfsRootCli, AMissingFolderIsRefused) {
  const test::CliResult bench = test::run_hearth({"bench", "-m", "x.gguf", "--sysfs-root", "/nonexistent/root"});
  EXPECT_EQ(bench.exit_code, 1);
  EXPECT_NE(bench.err.find("--sysfs-root /nonexistent/root: no such folder"), std::string::npos) << bench.err;
  const test::CliResult serve = test::run_hearth({"serve", "-m", "x.gguf", "--sysfs-root", "/nonexistent/root"});
  EXPECT_EQ(serve.exit_code, 1);
  EXPECT_NE(serve.err.find("--sysfs-root /nonexistent/root: no such folder"), std::string::npos) << serve.err;
}

}  // namespace
}  // namespace hearth
