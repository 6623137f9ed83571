// `hearth plan` as a user runs it: the JSON keys, the text report, and clear errors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "../cli/cli_process.h"
#include "test_data.h"

namespace hearth {
namespace {

using test::run_hearth;

TEST(PlanCli, JsonHasTheDocumentedKeys) {
  const auto r = run_hearth({"plan", "--params", "3.8B", "--quant", "q4_k_m", "--device", "pi4", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  for (const char* key : {"fits", "ram_bytes", "max_ctx", "tg_roofline_tok_s", "tg_tok_s", "pp_tok_s",
                          "prefill_1k_s", "verdict", "wh_per_day"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_TRUE(j["fits"].is_boolean());
  EXPECT_EQ(j["ctx"], 4096);
  EXPECT_EQ(j["model"]["n_head_kv"], 32);  // Phi-3 mini's shape
}

TEST(PlanCli, CustomDeviceAndTextReport) {
  const auto r = run_hearth({"plan", "--params", "1.1B", "--quant", "q8_0", "--device", "custom", "--ram", "2G",
                             "--bandwidth", "6GB/s", "--cores", "4", "--ghz", "1.8", "--ctx", "1024"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("fits"), std::string::npos);
  EXPECT_NE(r.out.find("Wh/day"), std::string::npos);
  EXPECT_NE(r.out.find("1000-token prompt"), std::string::npos);
}

TEST(PlanCli, GgufFile) {
  const auto path = test::models_dir() / "synth" / "synth-qwen2-tiny-Q4_K_M.gguf";
  HEARTH_REQUIRE_FILE(path);
  const auto r = run_hearth({"plan", path.string(), "--json", "--device", "pi5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(nlohmann::json::parse(r.out)["fits"].get<bool>());
}

TEST(PlanCli, ErrorsAreClearAndFail) {
  struct Case {
    std::vector<std::string> args;
    const char* message;
  };
  const Case cases[] = {
      {{"plan", "--params", "3.8Q", "--quant", "q4_k_m"}, "parameter count"},
      {{"plan", "--params", "3.8B", "--quant", "q4_k_x"}, "unknown quant"},
      {{"plan", "--params", "3.8B", "--quant", "q4_k_m", "--ram", "8X"}, "size"},
      {{"plan", "--params", "3.8B", "--quant", "q4_k_m", "--bandwidth", "fast"}, "bandwidth"},
      {{"plan", "--params", "3.8B", "--quant", "q4_k_m", "--device", "pi3"}, "unknown device"},
      {{"plan", "--params", "3.8B", "--quant", "q4_k_m", "--device", "custom"}, "custom needs"},
      {{"plan", "--params", "3.8B", "--quant", "q4_k_m", "--cache-type", "q4"}, "cache type"},
      {{"plan", "/nonexistent/model.gguf"}, "no such file"},
      {{"plan"}, "MODEL.gguf or --params"},
      {{"plan", "--params", "3.8B"}, "needs --quant"},
  };
  for (const Case& c : cases) {
    const auto r = run_hearth(c.args);
    EXPECT_NE(r.exit_code, 0) << c.message;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty());
  }
}

}  // namespace
}  // namespace hearth
