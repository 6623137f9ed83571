// The benchmark `hearth bench` runs, test for test as llama-bench runs it, so the two engines'
// figures compare: per model and thread count
//   - a warm-up (one full prompt batch and one generated token), untimed;
//   - pp<N>: N random tokens (BOS first when the vocab adds one) decoded as prompt batches,
//     from an empty cache, once per repetition;
//   - tg<N>: N tokens decoded one at a time from an empty cache, once per repetition;
// and, beyond llama-bench: load time, peak and steady-state RSS, time to first token for
// prompts of given lengths (prefill + picking the first token, from an empty cache), the CPU
// temperature/clock range, and the memory-bandwidth roofline of tg.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bench/memory_bandwidth.h"
#include "bench/stats.h"
#include "bench/system_monitor.h"
#include "core/status.h"
#include "gguf/reader.h"

namespace hearth::bench {

enum class OutputFormat { kMarkdown, kJson, kCsv };

struct BenchParams {
  std::vector<std::string> models;
  int64_t n_prompt = 512;
  int64_t n_gen = 128;
  std::vector<int> threads;  // each run separately
  int reps = 3;
  int64_t n_batch = 512;                        // prompt tokens per decode call
  std::vector<int64_t> ttft_prompts{100, 1000};  // empty: no time-to-first-token runs
  bool run_pp = true;
  bool run_tg = true;
  bool bandwidth = false;
  bool matrix = false;
  OutputFormat output = OutputFormat::kMarkdown;
  uint32_t seed = 1234;
  // Where the temperature/clock/throttle sampler reads: "/" (the live machine), or a fixture tree
  // (`--sysfs-root`). RSS is always this process's own.
  system::SystemRoot system_root;
};

// "1,2,4" → {1, 2, 4}: integers in [min, max], no empty items.
Result<std::vector<int64_t>> parse_int_list(std::string_view text, int64_t min, int64_t max, std::string_view what);
// "FILE[,FILE...]" (a comma never splits an existing path).
std::vector<std::string> split_model_list(std::string_view text);
Result<OutputFormat> parse_output_format(std::string_view text);
// Checks ranges and that every model file exists; the message names the bad value.
Status validate(const BenchParams& params);

// What a model file says about itself (no weights touched).
struct ModelInfo {
  std::string filename;
  std::string arch;
  std::string type;          // llama-bench's model_type: "llama 1.1B Q4_K_M"
  std::string ftype;         // "Q4_K_M"
  uint64_t size_bytes = 0;   // tensor data, as llama_model_size counts it
  uint64_t file_bytes = 0;
  uint64_t n_params = 0;
  // Bytes one generated token reads: every matrix and vector except the token embedding table,
  // of which one row (a tied table is also the output matrix and is read whole).
  uint64_t weight_bytes_per_token = 0;
  uint64_t kv_bytes_per_position = 0;  // K and V of one position, all layers (F16)
  int64_t n_ctx_train = 0;

  // Weights plus the KV cache a tg<n_gen> test reads on average (positions 0..n_gen-1).
  double bytes_per_token(int64_t n_gen) const;
};

Result<ModelInfo> describe_model(const gguf::File& file, std::string filename);

// One model at one thread count.
struct RunResult {
  ModelInfo model;
  int n_threads = 0;
  int64_t n_prompt = 0, n_gen = 0;
  std::optional<Samples> pp, tg;
  std::string pp_time, tg_time;  // RFC 3339 start of each test
  double load_ms = 0;            // file to a session ready to decode
  MemoryUsage memory;            // peak (since this model's load) and steady (after the tests)
  std::vector<std::pair<int64_t, double>> ttft_ms;  // prompt length, ms
};

struct BenchReport {
  std::vector<RunResult> runs;
  std::optional<BandwidthResult> bandwidth;
  ThermalRange thermal;
  std::string cpu_info;
};

using ProgressFn = std::function<void(std::string_view line)>;

Result<BenchReport> run_bench(const BenchParams& params, const ProgressFn& progress = {});

// llama-bench's test label: "pp512", "tg128".
std::string test_name(int64_t n_prompt, int64_t n_gen);
// The CPU model the kernel reports (/proc/cpuinfo), "" when unknown.
std::string read_cpu_info();

}  // namespace hearth::bench
