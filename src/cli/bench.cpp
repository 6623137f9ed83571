// `hearth bench -m FILE[,FILE...] [-p 512] [-n 128] [-t N[,N...]] [-r 3] [-o md|json|csv]
// [--bandwidth] [--ttft 100,1000] [--matrix FILES...]`: prefill (pp) and generation (tg) speed
// per model and thread count, in llama-bench's columns and JSON keys; see docs/benchmarks.md.
// Results go to stdout only (clean for -o json/csv); the progress line goes to stderr.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench/rate_store.h"
#include "bench/report.h"
#include "bench/runner.h"
#include "cli/commands.h"

namespace hearth::cli {
namespace {

struct BenchArgs {
  std::vector<std::string> models;
  std::vector<std::string> matrix;
  int64_t n_prompt = 512;
  int64_t n_gen = 128;
  std::string threads;
  int reps = 3;
  int64_t n_batch = 512;
  std::string output = "md";
  std::string ttft;
  bool bandwidth = false;
  bool quiet = false;
  uint32_t seed = 1234;
  std::string state_dir;  // where the measured rates are kept ("" : bench::default_state_dir())
  bool no_store = false;
  std::string sysfs_root = "/";  // the temperature/clock/throttle sampler reads DIR/sys, DIR/proc
};

// Keeps each run's pp/tg rates for the router's cost rule (bench/rate_store.h). A failure to
// store is reported and does not fail the benchmark, whose figures are already printed.
void store_rates(const BenchArgs& a, const bench::BenchReport& report) {
  const std::filesystem::path dir = a.state_dir.empty() ? bench::default_state_dir() : std::filesystem::path(a.state_dir);
  if (dir.empty()) {
    std::fprintf(stderr, "hearth bench: rates not stored (no HEARTH_STATE_DIR, XDG_STATE_HOME or HOME)\n");
    return;
  }
  const bench::MachineId machine = bench::this_machine();
  std::vector<bench::StoredRate> rates;
  for (const bench::RunResult& r : report.runs) {
    if (!r.pp && !r.tg) continue;
    bench::StoredRate s;
    s.machine = machine;
    s.model = bench::canonical_model_path(r.model.filename);
    std::error_code ec;
    s.model_bytes = std::filesystem::file_size(r.model.filename, ec);
    s.threads = r.n_threads;
    s.pp_tok_s = r.pp ? r.pp->avg_ts() : 0;
    s.tg_tok_s = r.tg ? r.tg->avg_ts() : 0;
    s.n_prompt = r.n_prompt;
    s.n_gen = r.n_gen;
    s.time = r.tg ? r.tg_time : r.pp_time;
    rates.push_back(std::move(s));
  }
  if (rates.empty()) return;
  const bench::RateStore store(dir);
  if (Status st = store.record(rates); !st)
    std::fprintf(stderr, "hearth bench: rates not stored: %s\n", st.error().message.c_str());
  else if (!a.quiet)
    std::fprintf(stderr, "hearth bench: rates stored in %s\n", store.file().c_str());
}

int fail(const std::string& message) {
  std::fprintf(stderr, "hearth bench: %s\n", message.c_str());
  return 1;
}

int run_bench_command(const BenchArgs& a, bool matrix_given) {
  bench::BenchParams p;
  for (const std::string& m : a.models)
    for (std::string& f : bench::split_model_list(m)) p.models.push_back(std::move(f));
  for (const std::string& m : a.matrix) p.models.push_back(m);
  p.matrix = matrix_given;
  p.n_prompt = a.n_prompt;
  p.n_gen = a.n_gen;
  p.reps = a.reps;
  p.n_batch = a.n_batch;
  p.bandwidth = a.bandwidth;
  p.seed = a.seed;
  Result<system::SystemRoot> root = system::system_root_at(a.sysfs_root);
  if (!root) return fail(root.error().message);
  p.system_root = *root;
  if (a.threads.empty()) {
    p.threads = {static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))};
  } else {
    auto t = bench::parse_int_list(a.threads, 1, 1024, "-t");
    if (!t) return fail(t.error().message);
    p.threads.assign(t->begin(), t->end());
  }
  if (p.matrix) {
    // The matrix's prefill column is the time to first token of a 1000-token prompt.
    p.run_pp = false;
    p.ttft_prompts = {1000};
  }
  if (!a.ttft.empty()) {
    if (a.ttft == "none") {
      p.ttft_prompts.clear();
    } else {
      auto t = bench::parse_int_list(a.ttft, 1, 1 << 20, "--ttft");
      if (!t) return fail(t.error().message);
      p.ttft_prompts = *t;
    }
  }
  auto format = bench::parse_output_format(a.output);
  if (!format) return fail(format.error().message);
  p.output = *format;
  if (Status s = bench::validate(p); !s.ok()) return fail(s.error().message);

  const bool tty = ::isatty(STDERR_FILENO) == 1;
  bench::ProgressFn progress;
  if (!a.quiet) {
    progress = [tty](std::string_view line) {
      if (tty)
        std::fprintf(stderr, "\r\033[Khearth bench: %.*s", int(line.size()), line.data());
      else
        std::fprintf(stderr, "hearth bench: %.*s\n", int(line.size()), line.data());
      std::fflush(stderr);
    };
  }
  auto report = bench::run_bench(p, progress);
  if (tty && !a.quiet) std::fputs("\r\033[K", stderr);
  if (!report) return fail(report.error().message);
  const std::string text = p.matrix ? bench::format_matrix(*report, p.output) : bench::format_report(*report, p.output);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
  if (!a.no_store && !p.matrix) store_rates(a, *report);
  return 0;
}

}  // namespace

void add_bench_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* cmd = app.add_subcommand("bench", "Measure prefill and generation speed (llama-bench compatible)");
  cmd->add_option("-m,--model", args->models, "GGUF file(s): -m A,B or -m A -m B");
  cmd->add_option("-p,--n-prompt", args->n_prompt, "prompt tokens of the pp test (default 512)");
  cmd->add_option("-n,--n-gen", args->n_gen, "generated tokens of the tg test (default 128)");
  cmd->add_option("-t,--threads", args->threads, "thread counts, comma-separated (default: all cores)");
  cmd->add_option("-r,--repetitions", args->reps, "repetitions of each test (default 3)");
  cmd->add_option("-b,--batch-size", args->n_batch, "prompt tokens per decode call (default 512)");
  cmd->add_option("-o,--output", args->output, "md, json or csv (default md)");
  cmd->add_option("--ttft", args->ttft,
                  "prompt lengths for the time-to-first-token runs (default 100,1000; none: skip)");
  cmd->add_flag("--bandwidth", args->bandwidth, "measure memory bandwidth and report tg's roofline");
  CLI::Option* matrix = cmd->add_option("--matrix", args->matrix,
                                        "quantization matrix of these files: RAM, tg, 1k-prompt prefill, verdict");
  cmd->add_option("--seed", args->seed, "seed of the random prompt tokens");
  cmd->add_flag("-q,--quiet", args->quiet, "no progress line on stderr");
  cmd->add_option("--state-dir", args->state_dir,
                  "where measured pp/tg rates are kept for the router (default $HEARTH_STATE_DIR, "
                  "$XDG_STATE_HOME/hearth, ~/.local/state/hearth)");
  cmd->add_flag("--no-store", args->no_store, "do not keep the measured rates");
  cmd->add_option("--sysfs-root", args->sysfs_root, "sample DIR/sys and DIR/proc instead of the live machine");
  cmd->callback([args, matrix, &exit_code] { exit_code = run_bench_command(*args, matrix->count() > 0); });
}

}  // namespace hearth::cli
