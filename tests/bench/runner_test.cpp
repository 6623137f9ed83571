// Argument checks, model description (bytes read per token), and a tiny real run on a synth
// model, in process and through the binary. Nothing here is timed: only that every figure is
// there and sane.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "bench/report.h"
#include "bench/runner.h"
#include "cli/cli_process.h"
#include "gguf/reader.h"
#include "test_data.h"

namespace hearth::bench {
namespace {

using ::testing::HasSubstr;

std::filesystem::path tiny_model(const char* name = "synth-llama-tiny-Q4_0.gguf") {
  return test::models_dir() / "synth" / name;
}

TEST(BenchArgs, IntLists) {
  auto ok = parse_int_list("1,2,16", 1, 1024, "-t");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, (std::vector<int64_t>{1, 2, 16}));
  for (const char* bad : {"", ",", "1,", ",2", "1,,2", "a", "1.5", "2x", "0", "-1", "99999", " 1"}) {
    auto r = parse_int_list(bad, 1, 1024, "-t");
    EXPECT_FALSE(r.ok()) << "'" << bad << "'";
    if (!r.ok()) EXPECT_THAT(r.error().message, HasSubstr("-t"));
  }
}

TEST(BenchArgs, ModelListsAndFormats) {
  EXPECT_EQ(split_model_list("a.gguf,b.gguf"), (std::vector<std::string>{"a.gguf", "b.gguf"}));
  EXPECT_EQ(split_model_list("a.gguf"), (std::vector<std::string>{"a.gguf"}));
  EXPECT_TRUE(split_model_list("").empty());
  EXPECT_EQ(*parse_output_format("md"), OutputFormat::kMarkdown);
  EXPECT_EQ(*parse_output_format("json"), OutputFormat::kJson);
  EXPECT_EQ(*parse_output_format("csv"), OutputFormat::kCsv);
  EXPECT_FALSE(parse_output_format("sql").ok());
}

TEST(BenchArgs, ValidateNamesTheBadValue) {
  const auto model = tiny_model();
  HEARTH_REQUIRE_FILE(model);
  BenchParams p;
  p.models = {model.string()};
  p.threads = {1};
  EXPECT_TRUE(validate(p).ok());
  auto expect_error = [](BenchParams q, const char* what) {
    const Status s = validate(q);
    ASSERT_FALSE(s.ok()) << what;
    EXPECT_THAT(s.error().message, HasSubstr(what));
  };
  BenchParams q = p;
  q.n_prompt = 0;
  expect_error(q, "-p");
  q = p;
  q.n_gen = -1;
  expect_error(q, "-n");
  q = p;
  q.reps = 0;
  expect_error(q, "-r");
  q = p;
  q.threads = {};
  expect_error(q, "-t");
  q = p;
  q.models = {model.string(), "/nonexistent/x.gguf"};
  expect_error(q, "/nonexistent/x.gguf");
  q = p;
  q.models = {};
  expect_error(q, "-m");
}

TEST(BenchModel, BytesPerTokenSkipAllButOneEmbeddingRow) {
  const auto path = tiny_model();
  HEARTH_REQUIRE_FILE(path);
  auto file = gguf::File::open(path);
  ASSERT_TRUE(file.ok()) << file.error().message;
  auto info = describe_model(*file, path.string());
  ASSERT_TRUE(info.ok()) << info.error().message;
  const gguf::TensorInfo* embd = file->find_tensor("token_embd.weight");
  ASSERT_NE(embd, nullptr);
  ASSERT_NE(file->find_tensor("output.weight"), nullptr);
  EXPECT_EQ(info->weight_bytes_per_token,
            info->size_bytes - embd->nbytes + embd->nbytes / static_cast<uint64_t>(embd->n_rows()));
  EXPECT_EQ(info->kv_bytes_per_position, 2u * 2 * 256 * 2);  // K+V, 2 layers, 256 wide, F16
  EXPECT_EQ(info->ftype, "Q4_0");
  EXPECT_THAT(info->type, HasSubstr("llama"));
  EXPECT_THAT(info->type, HasSubstr("Q4_0"));
  EXPECT_GT(info->n_params, 0u);
  EXPECT_LE(info->size_bytes, info->file_bytes);
}

TEST(BenchModel, TiedEmbeddingIsReadWhole) {
  const auto path = tiny_model("synth-qwen2-tiny-Q4_K_M.gguf");
  HEARTH_REQUIRE_FILE(path);
  auto file = gguf::File::open(path);
  ASSERT_TRUE(file.ok());
  auto info = describe_model(*file, path.string());
  ASSERT_TRUE(info.ok());
  ASSERT_EQ(file->find_tensor("output.weight"), nullptr);
  EXPECT_EQ(info->weight_bytes_per_token, info->size_bytes);
}

TEST(BenchRun, TinyRealRunInProcess) {
  const auto path = tiny_model();
  HEARTH_REQUIRE_FILE(path);
  BenchParams p;
  p.models = {path.string()};
  p.n_prompt = 8;
  p.n_gen = 4;
  p.reps = 1;
  p.threads = {1, 2};
  p.ttft_prompts = {8, 16};
  std::vector<std::string> progress;
  auto report = run_bench(p, [&](std::string_view line) { progress.emplace_back(line); });
  ASSERT_TRUE(report.ok()) << report.error().message;
  ASSERT_EQ(report->runs.size(), 2u);
  for (const RunResult& r : report->runs) {
    ASSERT_TRUE(r.pp.has_value());
    ASSERT_TRUE(r.tg.has_value());
    EXPECT_EQ(r.pp->ns.size(), 1u);
    EXPECT_EQ(r.pp->n_tokens, 8);
    EXPECT_EQ(r.tg->n_tokens, 4);
    EXPECT_GT(r.pp->avg_ts(), 0.0);
    EXPECT_GT(r.tg->avg_ts(), 0.0);
    ASSERT_EQ(r.ttft_ms.size(), 2u);
    EXPECT_EQ(r.ttft_ms[1].first, 16);
    EXPECT_GT(r.ttft_ms[1].second, 0.0);
    EXPECT_GT(r.load_ms, 0.0);
  }
  EXPECT_EQ(report->runs[0].n_threads, 1);
  EXPECT_EQ(report->runs[1].n_threads, 2);
  EXPECT_FALSE(progress.empty());
  EXPECT_GE(report->thermal.n_samples, 2);
  const auto j = nlohmann::json::parse(format_json(*report));
  EXPECT_EQ(j.size(), 4u);
}

TEST(BenchRun, ContextTooSmallForTheTestIsAnError) {
  const auto path = tiny_model();
  HEARTH_REQUIRE_FILE(path);
  BenchParams p;
  p.models = {path.string()};
  p.n_prompt = 8;
  p.n_gen = 4;
  p.reps = 1;
  p.threads = {1};
  p.ttft_prompts = {1 << 20};  // past any context
  auto report = run_bench(p);
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(report.error().message, HasSubstr("context"));
}

// The binary: clean JSON on stdout, progress on stderr, errors as exit codes.
TEST(BenchCli, JsonOnStdout) {
  const auto path = tiny_model();
  HEARTH_REQUIRE_FILE(path);
  const auto r = test::run_hearth({"bench", "-m", path.string(), "-p", "8", "-n", "4", "-r", "1", "-t", "1",
                                   "--ttft", "8", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);  // nothing but JSON on stdout
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["model_filename"], path.string());
  EXPECT_EQ(j[0]["n_prompt"], 8);
  EXPECT_EQ(j[1]["n_gen"], 4);
  EXPECT_THAT(r.err, HasSubstr("pp8"));  // the progress line
}

TEST(BenchCli, MarkdownAndMatrix) {
  const auto path = tiny_model();
  HEARTH_REQUIRE_FILE(path);
  auto r = test::run_hearth({"bench", "-m", path.string(), "-p", "8", "-n", "4", "-r", "1", "-t", "1", "--ttft",
                             "none", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(" pp8 |"));
  EXPECT_THAT(r.out, HasSubstr(" tg4 |"));
  EXPECT_TRUE(r.err.empty()) << r.err;
  r = test::run_hearth({"bench", "-n", "4", "-r", "1", "-t", "1", "--ttft", "16", "-q", "--matrix", path.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("| synth-llama-tiny-Q4_0.gguf | Q4_0 | 1 |"));
}

TEST(BenchCli, BadInputFailsClearly) {
  const auto path = tiny_model();
  HEARTH_REQUIRE_FILE(path);
  const std::string m = path.string();
  struct Case {
    std::vector<std::string> args;
    const char* message;
  } cases[] = {
      {{"bench", "-m", "/nonexistent/model.gguf"}, "/nonexistent/model.gguf"},
      {{"bench", "-m", m, "-t", "1,x"}, "-t"},
      {{"bench", "-m", m, "-t", "0"}, "-t"},
      {{"bench", "-m", m, "-p", "0"}, "-p"},
      {{"bench", "-m", m, "-n", "0"}, "-n"},
      {{"bench", "-m", m, "-r", "0"}, "-r"},
      {{"bench", "-m", m, "-o", "xml"}, "xml"},
      {{"bench"}, "-m"},
  };
  for (const Case& c : cases) {
    const auto r = test::run_hearth(c.args);
    EXPECT_NE(r.exit_code, 0) << c.args.back();
    EXPECT_THAT(r.err, HasSubstr(c.message)) << c.args.back();
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
}

}  // namespace
}  // namespace hearth::bench
