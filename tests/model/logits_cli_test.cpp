// `hearth logits` end to end: -p tokenizes like the reference, --batch-size 1 and the default
// batch give the reference logits, bad arguments fail with a message.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "test_data.h"

namespace hearth {
namespace {

struct CliRun {
  int status;
  std::string out;
};

CliRun run(const std::string& args) {
  const std::string cmd = std::string(HEARTH_BINARY) + " logits " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  std::array<char, 65536> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  return {pclose(p), out};
}

TEST(LogitsCli, PromptTextMatchesReference) {
  const auto model = test::models_dir() / "synth" / "synth-stablelm-tiny-F16.gguf";
  const auto ref_path = test::reference_dir() / "logits" / "synth-stablelm-tiny-F16.json";
  HEARTH_REQUIRE_FILE(model);
  HEARTH_REQUIRE_FILE(ref_path);
  std::ifstream in(ref_path);
  const auto ref = nlohmann::json::parse(in);
  for (const char* batch : {"", " --batch-size 1", " --batch-size 10"}) {
    const CliRun r = run("-m " + model.string() + " -t 2 -p '" + ref["prompt"].get<std::string>() + "'" + batch);
    ASSERT_EQ(r.status, 0) << r.out;
    const auto got = nlohmann::json::parse(r.out);
    EXPECT_EQ(got["tokens"], ref["prompt_tokens"]);
    ASSERT_EQ(got["logits"].size(), ref["prompt_logits"].size());
    for (size_t p = 0; p < got["logits"].size(); ++p) {
      const auto a = got["logits"][p].get<std::vector<double>>();
      const auto b = ref["prompt_logits"][p].get<std::vector<double>>();
      double m = 0, sd = 0, sq = 0;
      for (double x : b) m += x;
      m /= double(b.size());
      for (size_t i = 0; i < b.size(); ++i) {
        sd += (b[i] - m) * (b[i] - m);
        sq += (a[i] - b[i]) * (a[i] - b[i]);
      }
      EXPECT_LE(std::sqrt(sq / double(b.size())), 0.01 * std::sqrt(sd / double(b.size())))
          << "position " << p << batch;
    }
  }
}

TEST(LogitsCli, BadArgumentsFailWithAMessage) {
  const auto model = test::models_dir() / "synth" / "synth-llama-tiny-F16.gguf";
  HEARTH_REQUIRE_FILE(model);
  CliRun r = run("-m " + model.string() + " --tokens 1,x,3");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("'x'"), std::string::npos) << r.out;
  r = run("-m " + model.string() + " --tokens 1,99999");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("99999"), std::string::npos) << r.out;
  r = run("-m /nonexistent.gguf --tokens 1");
  EXPECT_NE(r.status, 0);
  r = run("-m " + model.string());
  EXPECT_NE(r.status, 0);
}

}  // namespace
}  // namespace hearth
