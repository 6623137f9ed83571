// Formatters on a hand-made report: llama-bench's markdown columns and JSON keys, CSV shape,
// hearth's extra columns, the roofline and the matrix verdicts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "bench/report.h"

namespace hearth::bench {
namespace {

using ::testing::HasSubstr;

BenchReport sample_report(bool with_bandwidth) {
  RunResult r;
  r.model.filename = "/models/tiny-Q4_0.gguf";
  r.model.arch = "llama";
  r.model.type = "llama 1.1B Q4_0";
  r.model.ftype = "Q4_0";
  r.model.size_bytes = 636ull << 20;
  r.model.file_bytes = (636ull << 20) + 4096;
  r.model.n_params = 1'100'048'384;
  r.model.weight_bytes_per_token = 600'000'000;
  r.model.kv_bytes_per_position = 1000;
  r.n_threads = 2;
  r.n_prompt = 512;
  r.n_gen = 128;
  r.pp = Samples{{1'000'000'000, 1'000'000'000}, 512};
  r.tg = Samples{{4'000'000'000, 4'000'000'000}, 128};
  r.pp_time = "2026-11-27T22:00:00Z";
  r.tg_time = "2026-11-27T22:00:05Z";
  r.load_ms = 123.4;
  r.memory = {700ull << 20, 800ull << 20};
  r.ttft_ms = {{100, 250.0}, {1000, 2600.0}};
  BenchReport report;
  report.runs.push_back(r);
  report.cpu_info = "Test CPU";
  report.thermal.add({55.0, std::nullopt, std::nullopt});
  if (with_bandwidth) report.bandwidth = BandwidthResult{6.0, 5.5, 256ull << 20, 2};
  return report;
}

TEST(BenchReport, MarkdownHasLlamaBenchColumns) {
  const std::string md = format_markdown(sample_report(false));
  EXPECT_THAT(md, HasSubstr("| model"));
  EXPECT_THAT(md, HasSubstr(" size |"));
  EXPECT_THAT(md, HasSubstr("params"));
  EXPECT_THAT(md, HasSubstr("backend"));
  EXPECT_THAT(md, HasSubstr("threads"));
  EXPECT_THAT(md, HasSubstr("t/s"));
  EXPECT_THAT(md, HasSubstr("pp512"));
  EXPECT_THAT(md, HasSubstr("tg128"));
  EXPECT_THAT(md, HasSubstr("512.00 ± 0.00"));
  EXPECT_THAT(md, HasSubstr("32.00 ± 0.00"));
  EXPECT_THAT(md, HasSubstr("636.00 MiB"));
  EXPECT_THAT(md, HasSubstr("1.10 B"));
  EXPECT_THAT(md, HasSubstr("llama 1.1B Q4_0"));
  // hearth's own table: load, RSS, time to first token; thermal line with n/a clock.
  EXPECT_THAT(md, HasSubstr("first token (1000 tok)"));
  EXPECT_THAT(md, HasSubstr("2600 ms"));
  EXPECT_THAT(md, HasSubstr("800.0 MiB"));
  EXPECT_THAT(md, HasSubstr("55.0–55.0 °C"));
  EXPECT_THAT(md, HasSubstr("clock n/a–n/a MHz"));
  EXPECT_THAT(md, ::testing::Not(HasSubstr("roofline")));
}

TEST(BenchReport, JsonUsesLlamaBenchKeys) {
  const auto j = nlohmann::json::parse(format_json(sample_report(false)));
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 2u);  // one object per test: pp then tg
  for (const char* key : {"build_commit", "cpu_info", "backends", "model_filename", "model_type", "model_size",
                          "model_n_params", "n_batch", "n_threads", "type_k", "n_prompt", "n_gen", "test_time",
                          "avg_ns", "stddev_ns", "avg_ts", "stddev_ts", "samples_ns", "samples_ts"})
    EXPECT_TRUE(j[0].contains(key)) << key;
  EXPECT_EQ(j[0]["n_prompt"], 512);
  EXPECT_EQ(j[0]["n_gen"], 0);
  EXPECT_EQ(j[1]["n_prompt"], 0);
  EXPECT_EQ(j[1]["n_gen"], 128);
  EXPECT_EQ(j[0]["model_size"], 636ull << 20);
  EXPECT_EQ(j[0]["n_threads"], 2);
  EXPECT_DOUBLE_EQ(j[1]["avg_ts"].get<double>(), 32.0);
  EXPECT_EQ(j[1]["samples_ns"].size(), 2u);
  EXPECT_EQ(j[1]["samples_ts"].size(), 2u);
  EXPECT_EQ(j[0]["ttft_ms"]["1000"], 2600.0);
  EXPECT_EQ(j[0]["rss_peak_bytes"], 800ull << 20);
  EXPECT_TRUE(j[0]["freq_max_mhz"].is_null());
  EXPECT_FALSE(j[1].contains("roofline_ts"));
}

TEST(BenchReport, RooflineIsBandwidthOverBytesPerToken) {
  const BenchReport report = sample_report(true);
  // (128 + 1) / 2 positions of KV on average.
  const double bytes = 600'000'000.0 + 64.5 * 1000.0;
  EXPECT_NEAR(roofline_ts(report, report.runs[0]), 6e9 / bytes, 1e-9);
  const auto j = nlohmann::json::parse(format_json(report));
  EXPECT_FALSE(j[0].contains("roofline_ts"));  // pp is not bandwidth-bound
  EXPECT_NEAR(j[1]["roofline_pct"].get<double>(), 100.0 * 32.0 / (6e9 / bytes), 1e-9);
  EXPECT_THAT(format_markdown(report), HasSubstr("% of roofline"));
}

TEST(BenchReport, CsvHasAHeaderAndOneRowPerTest) {
  const std::string csv = format_csv(sample_report(false));
  std::istringstream in(csv);
  std::string header, row1, row2, extra;
  std::getline(in, header);
  std::getline(in, row1);
  std::getline(in, row2);
  EXPECT_FALSE(std::getline(in, extra));
  EXPECT_EQ(header.rfind("build_commit,", 0), 0u);
  EXPECT_THAT(header, HasSubstr(",avg_ts,stddev_ts,"));
  EXPECT_THAT(row1, HasSubstr("\"/models/tiny-Q4_0.gguf\""));
  // No cell of this report holds a comma, so every line has as many as the header (the pp row
  // leaves the tg-only bytes_per_token cell empty).
  EXPECT_THAT(header, HasSubstr(",bytes_per_token"));
  EXPECT_EQ(std::count(header.begin(), header.end(), ','), std::count(row1.begin(), row1.end(), ','));
  EXPECT_EQ(std::count(header.begin(), header.end(), ','), std::count(row2.begin(), row2.end(), ','));
}

TEST(BenchReport, Verdicts) {
  EXPECT_EQ(verdict(25), "real-time");
  EXPECT_EQ(verdict(20), "real-time");
  EXPECT_EQ(verdict(19.9), "live chat");
  EXPECT_EQ(verdict(6), "live chat");
  EXPECT_EQ(verdict(5.9), "live but patient");
  EXPECT_EQ(verdict(3), "live but patient");
  EXPECT_EQ(verdict(2.99), "batch only");
  EXPECT_EQ(verdict(0), "batch only");
}

TEST(BenchReport, MatrixRowPerModel) {
  const std::string md = format_matrix(sample_report(false), OutputFormat::kMarkdown);
  EXPECT_THAT(md, HasSubstr("| tiny-Q4_0.gguf | Q4_0 | 2 | 800.0 MiB | 32.00 ± 0.00 | 2.6 s | real-time |"));
  const auto j = nlohmann::json::parse(format_matrix(sample_report(false), OutputFormat::kJson));
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["verdict"], "real-time");
  EXPECT_EQ(j[0]["prefill_tokens"], 1000);
}

TEST(BenchReport, SizesAsLlamaBenchPrintsThem) {
  EXPECT_EQ(format_size(636ull << 20), "636.00 MiB");
  EXPECT_EQ(format_size(3ull << 30), "3.00 GiB");
  EXPECT_EQ(format_params(494'032'768), "494.03 M");
  EXPECT_EQ(format_params(1'100'048'384), "1.10 B");
}

}  // namespace
}  // namespace hearth::bench
