// Output of `hearth bench`: llama-bench's markdown columns (model, size, params, backend,
// threads, test, t/s), its JSON keys (one object per test, so scripts written for llama-bench
// read hearth's output) and CSV, each followed or extended by what hearth adds (load time, RSS,
// time to first token, roofline, temperature and clock); and the quantization matrix.
#pragma once

#include <string>

#include "bench/runner.h"

namespace hearth::bench {

std::string format_markdown(const BenchReport& report);
std::string format_json(const BenchReport& report);
std::string format_csv(const BenchReport& report);
std::string format_report(const BenchReport& report, OutputFormat format);

// One row per model: RAM used (peak RSS), tg t/s, prefill time of the 1000-token prompt (or
// the longest --ttft prompt), verdict.
std::string format_matrix(const BenchReport& report, OutputFormat format);

// "real-time" (>= 20 tok/s), "live chat" (>= 6), "live but patient" (>= 3), "batch only".
std::string_view verdict(double tg_tokens_per_s);

// llama-bench's size and params columns: "636.18 MiB", "1.10 B".
std::string format_size(uint64_t bytes);
std::string format_params(uint64_t n);

// tg's roofline: bandwidth / bytes per token; 0 without a bandwidth measurement.
double roofline_ts(const BenchReport& report, const RunResult& run);

}  // namespace hearth::bench
