#include "bench/runner.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>

#include <fmt/format.h>

#include "kernels/kernels.h"
#include "model/model.h"
#include "runtime/session.h"
#include "runtime/thread_pool.h"
#include "tokenizer/vocab.h"
#include "tools/quant_mix.h"

namespace hearth::bench {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%FT%TZ", &tm);
  return buf;
}

std::string ftype_name(uint32_t file_type) {
  if (file_type == 0) return "F32";
  if (file_type == 1) return "F16";
  for (const std::string& name : quant_mix_names())
    if (const auto mix = parse_quant_mix(name); mix && mix->file_type == file_type) return mix->name;
  return fmt::format("ftype {}", file_type);
}

std::string params_label(uint64_t n) {
  if (n >= 1000000000ull) return fmt::format("{:.1f}B", double(n) / 1e9);
  return fmt::format("{:.0f}M", double(n) / 1e6);
}

// Everything a benchmark of one model needs, alive for all its thread counts.
struct LoadedModel {
  std::shared_ptr<const Model> model;
  std::unique_ptr<tokenizer::Vocab> vocab;
  double load_ms = 0;
};

Result<LoadedModel> load_model(const std::string& path) {
  const auto t0 = Clock::now();
  LoadedModel m;
  auto model = Model::load(path, *choose_kernels().table);
  if (!model) return Error{path + ": " + model.error().message};
  m.model = std::move(*model);
  auto vocab = tokenizer::Vocab::load(m.model->file());
  if (!vocab) return Error{path + ": " + vocab.error().message};
  m.vocab = std::make_unique<tokenizer::Vocab>(std::move(*vocab));
  m.load_ms = ms_since(t0);
  m.model->wait_background_work();  // a first load's cache write, which would share the cores
  return m;
}

// Random prompt tokens as llama-bench draws them: BOS first when the vocab adds one.
class TokenSource {
 public:
  TokenSource(const tokenizer::Vocab& vocab, int64_t n_vocab_model, uint32_t seed)
      : rng_(seed),
        dist_(0, static_cast<int32_t>(std::max<int64_t>(1, std::min<int64_t>(int64_t(vocab.size()), n_vocab_model))) - 1),
        bos_(vocab.add_bos() && vocab.bos() >= 0 ? vocab.bos() : -1) {}

  std::vector<int32_t> prompt(int64_t n) {
    std::vector<int32_t> t(static_cast<size_t>(n));
    for (auto& x : t) x = dist_(rng_);
    if (bos_ >= 0 && n > 0) t[0] = bos_;
    return t;
  }
  int32_t first() { return bos_ >= 0 ? bos_ : dist_(rng_); }
  int32_t next() { return dist_(rng_); }

 private:
  std::mt19937 rng_;
  std::uniform_int_distribution<int32_t> dist_;
  int32_t bos_;
};

Status decode_prompt(Session& s, std::span<const int32_t> tokens, int64_t n_batch) {
  for (size_t done = 0; done < tokens.size();) {
    const size_t n = std::min<size_t>(tokens.size() - done, size_t(n_batch));
    auto r = s.decode(tokens.subspan(done, n), false);
    if (!r) return r.error();
    done += n;
  }
  return {};
}

Status decode_generation(Session& s, TokenSource& src, int64_t n_gen) {
  int32_t token = src.first();
  for (int64_t i = 0; i < n_gen; ++i) {
    auto r = s.decode(std::span<const int32_t>(&token, 1), false);
    if (!r) return r.error();
    token = src.next();
  }
  return {};
}

uint64_t elapsed_ns(Clock::time_point t0) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
}

Result<RunResult> run_one(const LoadedModel& lm, const ModelInfo& info, int n_threads, const BenchParams& p,
                          const ProgressFn& progress, const std::string& tag) {
  auto say = [&](const std::string& what) {
    if (progress) progress(fmt::format("{} t={}: {}", tag, n_threads, what));
  };
  RunResult r;
  r.model = info;
  r.n_threads = n_threads;
  r.n_prompt = p.n_prompt;
  r.n_gen = p.n_gen;
  r.load_ms = lm.load_ms;

  int64_t n_ctx = std::max<int64_t>(p.run_pp ? p.n_prompt : 1, p.n_gen + 1);
  for (int64_t n : p.ttft_prompts) n_ctx = std::max(n_ctx, n);
  if (n_ctx > info.n_ctx_train)
    return Error{fmt::format("the tests need a context of {} tokens and the model's is {} (lower -p, -n or --ttft)",
                             n_ctx, info.n_ctx_train)};
  ThreadPool pool(n_threads);
  SessionOptions so;
  so.n_ctx = std::max<int64_t>(n_ctx, 16);
  auto session = Session::create(lm.model, pool, so);
  if (!session) return Error{info.filename + ": " + session.error().message};
  Session& s = *session;
  TokenSource src(*lm.vocab, lm.model->config().n_vocab, p.seed);

  say("warm-up");
  if (p.run_pp) {
    const auto prompt = src.prompt(std::min(p.n_prompt, p.n_batch));
    if (Status st = decode_prompt(s, prompt, p.n_batch); !st.ok()) return st.error();
  }
  s.reset();
  if (Status st = decode_generation(s, src, 1); !st.ok()) return st.error();

  if (p.run_pp) {
    Samples pp;
    pp.n_tokens = p.n_prompt;
    r.pp_time = utc_now();
    for (int rep = 0; rep < p.reps; ++rep) {
      say(fmt::format("{} {}/{}", test_name(p.n_prompt, 0), rep + 1, p.reps));
      s.reset();
      const auto prompt = src.prompt(p.n_prompt);
      const auto t0 = Clock::now();
      if (Status st = decode_prompt(s, prompt, p.n_batch); !st.ok()) return st.error();
      pp.ns.push_back(elapsed_ns(t0));
    }
    r.pp = std::move(pp);
  }
  if (p.run_tg) {
    Samples tg;
    tg.n_tokens = p.n_gen;
    r.tg_time = utc_now();
    for (int rep = 0; rep < p.reps; ++rep) {
      say(fmt::format("{} {}/{}", test_name(0, p.n_gen), rep + 1, p.reps));
      s.reset();
      const auto t0 = Clock::now();
      if (Status st = decode_generation(s, src, p.n_gen); !st.ok()) return st.error();
      tg.ns.push_back(elapsed_ns(t0));
    }
    r.tg = std::move(tg);
  }
  for (int64_t n : p.ttft_prompts) {
    say(fmt::format("time to first token, {}-token prompt", n));
    s.reset();
    const auto prompt = src.prompt(n);
    const auto t0 = Clock::now();
    if (Status st = decode_prompt(s, std::span(prompt).first(prompt.size() - 1), p.n_batch); !st.ok())
      return st.error();
    // The last prompt token with its logits, then the pick of the first token (greedy).
    auto logits = s.decode(std::span(prompt).last(1), false);
    if (!logits) return logits.error();
    volatile auto first = std::max_element(logits->begin(), logits->end()) - logits->begin();
    (void)first;
    r.ttft_ms.emplace_back(n, ms_since(t0));
  }
  r.memory = system::read_process_memory(system::SystemRoot{});  // this process, always live
  return r;
}

}  // namespace

std::string test_name(int64_t n_prompt, int64_t n_gen) {
  if (n_prompt > 0 && n_gen == 0) return fmt::format("pp{}", n_prompt);
  if (n_gen > 0 && n_prompt == 0) return fmt::format("tg{}", n_gen);
  return fmt::format("pp{}+tg{}", n_prompt, n_gen);
}

Result<std::vector<int64_t>> parse_int_list(std::string_view text, int64_t min, int64_t max, std::string_view what) {
  std::vector<int64_t> out;
  if (text.empty()) return Error{fmt::format("{}: empty list", what)};
  size_t pos = 0;
  while (true) {
    const size_t comma = text.find(',', pos);
    const std::string_view item = text.substr(pos, comma == std::string_view::npos ? text.npos : comma - pos);
    int64_t v = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (item.empty() || ec != std::errc() || end != item.data() + item.size())
      return Error{fmt::format("{}: '{}' is not a number (in '{}')", what, item, text)};
    if (v < min || v > max) return Error{fmt::format("{}: {} is outside [{}, {}]", what, v, min, max)};
    out.push_back(v);
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return out;
}

std::vector<std::string> split_model_list(std::string_view text) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  std::error_code ec;
  if (std::filesystem::exists(std::filesystem::path(std::string(text)), ec)) return {std::string(text)};
  size_t pos = 0;
  while (true) {
    const size_t comma = text.find(',', pos);
    out.emplace_back(text.substr(pos, comma == std::string_view::npos ? text.npos : comma - pos));
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return out;
}

Result<OutputFormat> parse_output_format(std::string_view text) {
  if (text == "md") return OutputFormat::kMarkdown;
  if (text == "json") return OutputFormat::kJson;
  if (text == "csv") return OutputFormat::kCsv;
  return Error{fmt::format("-o: unknown output format '{}' (md, json or csv)", text)};
}

Status validate(const BenchParams& p) {
  if (p.models.empty()) return Error{"no model: give -m FILE[,FILE...]"};
  for (const std::string& m : p.models) {
    std::error_code ec;
    if (m.empty()) return Error{"-m: empty file name in the list"};
    if (!std::filesystem::is_regular_file(m, ec)) return Error{fmt::format("{}: no such file", m)};
  }
  if (p.n_prompt < 1) return Error{fmt::format("-p: {} prompt tokens (must be at least 1)", p.n_prompt)};
  if (p.n_gen < 1) return Error{fmt::format("-n: {} generated tokens (must be at least 1)", p.n_gen)};
  if (p.reps < 1) return Error{fmt::format("-r: {} repetitions (must be at least 1)", p.reps)};
  if (p.n_batch < 1) return Error{fmt::format("-b: batch of {} (must be at least 1)", p.n_batch)};
  if (p.threads.empty()) return Error{"-t: no thread count"};
  for (int t : p.threads)
    if (t < 1 || t > 1024) return Error{fmt::format("-t: {} threads (must be 1..1024)", t)};
  for (int64_t n : p.ttft_prompts)
    if (n < 1) return Error{fmt::format("--ttft: prompt of {} tokens (must be at least 1)", n)};
  return {};
}

double ModelInfo::bytes_per_token(int64_t n_gen) const {
  // Generating token i attends over positions 0..i: on average (n_gen + 1) / 2 of them.
  const double positions = n_gen > 0 ? double(n_gen + 1) / 2.0 : 1.0;
  return double(weight_bytes_per_token) + positions * double(kv_bytes_per_position);
}

Result<ModelInfo> describe_model(const gguf::File& file, std::string filename) {
  auto config = load_config(file);
  if (!config) return Error{filename + ": " + config.error().message};
  ModelInfo m;
  m.filename = std::move(filename);
  m.arch = config->arch_name;
  m.file_bytes = file.size();
  m.n_ctx_train = config->context_length;
  bool has_output = false;
  for (const gguf::TensorInfo& t : file.tensors()) {
    m.size_bytes += t.nbytes;
    m.n_params += static_cast<uint64_t>(t.n_elements());
    if (t.name == "output.weight") has_output = true;
  }
  for (const gguf::TensorInfo& t : file.tensors()) {
    if (t.name == "token_embd.weight" && has_output) {
      const int64_t rows = t.n_rows();
      m.weight_bytes_per_token += rows > 0 ? t.nbytes / static_cast<uint64_t>(rows) : t.nbytes;
    } else {
      m.weight_bytes_per_token += t.nbytes;
    }
  }
  m.kv_bytes_per_position = static_cast<uint64_t>(2 * config->n_layer * config->n_embd_kv() * 2);
  const auto ft = file.get_uint("general.file_type");
  m.ftype = ft ? ftype_name(static_cast<uint32_t>(*ft)) : "?";
  m.type = fmt::format("{} {} {}", m.arch, params_label(m.n_params), m.ftype);
  return m;
}

std::string read_cpu_info() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  std::string arm_part;
  while (std::getline(in, line)) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.pop_back();
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(value.begin());
    if (key == "model name" || key == "Model") return value;  // x86; Raspberry Pi's board name
    if (key == "CPU part" && arm_part.empty()) arm_part = "ARM CPU part " + value;
  }
  return arm_part;
}

Result<BenchReport> run_bench(const BenchParams& p, const ProgressFn& progress) {
  if (Status s = validate(p); !s.ok()) return s.error();
  BenchReport report;
  report.cpu_info = read_cpu_info();
  ThermalSampler sampler(p.system_root);

  if (p.bandwidth) {
    const int threads = *std::max_element(p.threads.begin(), p.threads.end());
    if (progress) progress(fmt::format("memory bandwidth (triad, {} threads)", threads));
    ThreadPool pool(threads);
    auto bw = measure_bandwidth(pool);
    if (!bw) return bw.error();
    report.bandwidth = *bw;
  }

  for (size_t i = 0; i < p.models.size(); ++i) {
    const std::string& path = p.models[i];
    const std::string tag = fmt::format("[{}/{}] {}", i + 1, p.models.size(),
                                        std::filesystem::path(path).filename().string());
    if (progress) progress(tag + ": loading");
    system::reset_peak_rss(system::SystemRoot{});
    auto lm = load_model(path);
    if (!lm) return lm.error();
    auto info = describe_model(lm->model->file(), path);
    if (!info) return info.error();
    for (int t : p.threads) {
      auto r = run_one(*lm, *info, t, p, progress, tag);
      if (!r) return Error{path + ": " + r.error().message};
      report.runs.push_back(std::move(*r));
    }
  }
  report.thermal = sampler.stop();
  return report;
}

}  // namespace hearth::bench
