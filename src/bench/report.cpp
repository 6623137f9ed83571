#include "bench/report.h"

#include <algorithm>
#include <filesystem>

#include <nlohmann/json.hpp>

#include <fmt/format.h>

namespace hearth::bench {
namespace {

using nlohmann::ordered_json;

struct Test {
  const RunResult* run;
  const Samples* samples;
  int64_t n_prompt, n_gen;
  const std::string* time;
};

std::vector<Test> tests_of(const BenchReport& report) {
  std::vector<Test> tests;
  for (const RunResult& r : report.runs) {
    if (r.pp) tests.push_back({&r, &*r.pp, r.n_prompt, 0, &r.pp_time});
    if (r.tg) tests.push_back({&r, &*r.tg, 0, r.n_gen, &r.tg_time});
  }
  return tests;
}

std::string mib(const std::optional<uint64_t>& bytes) {
  return bytes ? fmt::format("{:.1f} MiB", double(*bytes) / 1048576.0) : std::string("n/a");
}

std::optional<double> ttft_of(const RunResult& r, int64_t n) {
  for (const auto& [len, ms] : r.ttft_ms)
    if (len == n) return ms;
  return std::nullopt;
}

ordered_json optional_json(const std::optional<double>& v) { return v ? ordered_json(*v) : ordered_json(nullptr); }
ordered_json optional_json(const std::optional<uint64_t>& v) {
  return v ? ordered_json(*v) : ordered_json(nullptr);
}

// One test as llama-bench's JSON printer writes it (same keys, same order), then hearth's own.
ordered_json test_json(const BenchReport& report, const Test& t) {
  const RunResult& r = *t.run;
  ordered_json j;
  j["build_commit"] = "hearth-" HEARTH_VERSION;
  j["build_number"] = 0;
  j["cpu_info"] = report.cpu_info;
  j["gpu_info"] = "";
  j["backends"] = "CPU";
  j["model_filename"] = r.model.filename;
  j["model_type"] = r.model.type;
  j["model_size"] = r.model.size_bytes;
  j["model_n_params"] = r.model.n_params;
  j["n_batch"] = 512;
  j["n_ubatch"] = 512;
  j["n_threads"] = r.n_threads;
  j["cpu_mask"] = "0x0";
  j["cpu_strict"] = false;
  j["poll"] = 50;
  j["type_k"] = "f16";
  j["type_v"] = "f16";
  j["n_gpu_layers"] = 0;
  j["split_mode"] = "layer";
  j["main_gpu"] = 0;
  j["no_kv_offload"] = false;
  j["flash_attn"] = false;
  j["tensor_split"] = "0.00";
  j["use_mmap"] = true;
  j["embeddings"] = false;
  j["n_prompt"] = t.n_prompt;
  j["n_gen"] = t.n_gen;
  j["test_time"] = *t.time;
  j["avg_ns"] = t.samples->avg_ns();
  j["stddev_ns"] = t.samples->stddev_ns();
  j["avg_ts"] = t.samples->avg_ts();
  j["stddev_ts"] = t.samples->stddev_ts();
  j["samples_ns"] = t.samples->ns;
  j["samples_ts"] = t.samples->tokens_per_s();
  // hearth's additions.
  j["engine"] = "hearth";
  j["model_file_bytes"] = r.model.file_bytes;
  j["load_ms"] = r.load_ms;
  j["rss_peak_bytes"] = optional_json(r.memory.peak_bytes);
  j["rss_steady_bytes"] = optional_json(r.memory.rss_bytes);
  ordered_json ttft = ordered_json::object();
  for (const auto& [n, ms] : r.ttft_ms) ttft[std::to_string(n)] = ms;
  j["ttft_ms"] = ttft;
  j["temp_min_c"] = optional_json(report.thermal.temp_min_c);
  j["temp_max_c"] = optional_json(report.thermal.temp_max_c);
  j["freq_min_mhz"] = optional_json(report.thermal.freq_min_mhz);
  j["freq_max_mhz"] = optional_json(report.thermal.freq_max_mhz);
  // The Raspberry Pi firmware's get_throttled word ORed over the run (null off a Pi).
  j["throttled_bits"] = report.thermal.throttle_bits ? ordered_json(*report.thermal.throttle_bits) : ordered_json(nullptr);
  if (t.n_gen > 0) j["bytes_per_token"] = r.model.bytes_per_token(t.n_gen);
  if (report.bandwidth && t.n_gen > 0) {
    const double roof = roofline_ts(report, r);
    j["bandwidth_gbs"] = report.bandwidth->best_gb_per_s;
    j["roofline_ts"] = roof;
    j["roofline_pct"] = roof > 0 ? 100.0 * t.samples->avg_ts() / roof : 0.0;
  }
  return j;
}

std::string csv_cell(const ordered_json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) {
    std::string s = "\"";
    for (char c : v.get<std::string>()) {
      if (c == '"') s += '"';
      s += c;
    }
    s += '"';
    return s;
  }
  if (v.is_boolean()) return v.get<bool>() ? "1" : "0";
  if (v.is_array() || v.is_object()) {
    // Lists go into one cell as "a;b;c" (or "100:12.5;1000:130" for objects).
    std::string s;
    if (v.is_array()) {
      for (const auto& x : v) {
        if (!s.empty()) s += ';';
        s += x.dump();
      }
    } else {
      for (const auto& [k, x] : v.items()) {
        if (!s.empty()) s += ';';
        s += k;
        s += ':';
        s += x.dump();
      }
    }
    std::string quoted(1, '"');
    quoted += s;
    quoted += '"';
    return quoted;
  }
  return v.dump();
}

// Built piecewise: GCC 12 -O3 warns falsely, -Wrestrict, on
// literal + std::string chains).
// One CSV line from an object: its keys (header) or its values.
std::string csv_line(const ordered_json& j, bool header) {
  std::string line;
  bool first = true;
  for (const auto& [k, v] : j.items()) {
    if (!first) line += ',';
    line += header ? k : csv_cell(v);
    first = false;
  }
  line += '\n';
  return line;
}

std::string thermal_line(const ThermalRange& t) {
  std::string line = fmt::format("CPU temperature {}–{} °C, clock {}–{} MHz ({} readings)",
                                 format_optional(t.temp_min_c), format_optional(t.temp_max_c),
                                 format_optional(t.freq_min_mhz, 0), format_optional(t.freq_max_mhz, 0), t.n_samples);
  // A throttled or under-volted run is slower for a reason the engine cannot fix: say so.
  if (t.throttle_bits)
    line += fmt::format("; firmware flags 0x{:x}: {}", *t.throttle_bits, system::describe_throttle_bits(*t.throttle_bits));
  return line;
}

}  // namespace

std::string format_size(uint64_t bytes) {
  if (bytes < 1024ull * 1024 * 1024) return fmt::format("{:.2f} MiB", double(bytes) / 1024.0 / 1024.0);
  return fmt::format("{:.2f} GiB", double(bytes) / 1024.0 / 1024.0 / 1024.0);
}

std::string format_params(uint64_t n) {
  if (n < 1000ull * 1000 * 1000) return fmt::format("{:.2f} M", double(n) / 1e6);
  return fmt::format("{:.2f} B", double(n) / 1e9);
}

std::string_view verdict(double ts) {
  if (ts >= 20) return "real-time";
  if (ts >= 6) return "live chat";
  if (ts >= 3) return "live but patient";
  return "batch only";
}

double roofline_ts(const BenchReport& report, const RunResult& run) {
  if (!report.bandwidth) return 0;
  const double bytes = run.model.bytes_per_token(run.n_gen);
  return bytes > 0 ? report.bandwidth->best_gb_per_s * 1e9 / bytes : 0;
}

std::string format_markdown(const BenchReport& report) {
  std::string out;
  out += fmt::format("| {:<30} | {:>10} | {:>10} | {:<10} | {:>7} | {:>13} | {:>20} |\n", "model", "size", "params",
                     "backend", "threads", "test", "t/s");
  out += "| ------------------------------ | ---------: | ---------: | ---------- | ------: | ------------: | "
         "-------------------: |\n";
  for (const Test& t : tests_of(report)) {
    const RunResult& r = *t.run;
    out += fmt::format("| {:<30} | {:>10} | {:>10} | {:<10} | {:>7} | {:>13} | {:>20} |\n", r.model.type,
                       format_size(r.model.size_bytes), format_params(r.model.n_params), "CPU", r.n_threads,
                       test_name(t.n_prompt, t.n_gen),
                       fmt::format("{:.2f} ± {:.2f}", t.samples->avg_ts(), t.samples->stddev_ts()));
  }

  // What llama-bench does not report.
  std::vector<int64_t> ttft_lengths;
  for (const RunResult& r : report.runs)
    for (const auto& [n, ms] : r.ttft_ms)
      if (std::find(ttft_lengths.begin(), ttft_lengths.end(), n) == ttft_lengths.end()) ttft_lengths.push_back(n);
  out += "\n| model | threads | file | load | peak RSS | steady RSS |";
  for (int64_t n : ttft_lengths) out += fmt::format(" first token ({} tok) |", n);
  out += "\n| --- | ---: | ---: | ---: | ---: | ---: |";
  for (size_t i = 0; i < ttft_lengths.size(); ++i) out += " ---: |";
  out += "\n";
  for (const RunResult& r : report.runs) {
    out += fmt::format("| {} | {} | {} | {:.0f} ms | {} | {} |", r.model.type, r.n_threads,
                       format_size(r.model.file_bytes), r.load_ms, mib(r.memory.peak_bytes),
                       mib(r.memory.rss_bytes));
    for (int64_t n : ttft_lengths) {
      const auto ms = ttft_of(r, n);
      out += ms ? fmt::format(" {:.0f} ms |", *ms) : std::string(" n/a |");
    }
    out += "\n";
  }

  if (report.bandwidth) {
    const BandwidthResult& bw = *report.bandwidth;
    out += fmt::format("\nmemory bandwidth (STREAM triad, {} threads, 3 x {} MiB): {:.2f} GB/s (best), {:.2f} GB/s (mean)\n",
                       bw.threads, bw.array_bytes >> 20, bw.best_gb_per_s, bw.mean_gb_per_s);
    out += "\n| model | threads | bytes/token | roofline t/s | tg t/s | % of roofline |\n";
    out += "| --- | ---: | ---: | ---: | ---: | ---: |\n";
    for (const RunResult& r : report.runs) {
      if (!r.tg) continue;
      const double roof = roofline_ts(report, r);
      out += fmt::format("| {} | {} | {} | {:.2f} | {:.2f} | {:.0f}% |\n", r.model.type, r.n_threads,
                         format_size(uint64_t(r.model.bytes_per_token(r.n_gen))), roof, r.tg->avg_ts(),
                         roof > 0 ? 100.0 * r.tg->avg_ts() / roof : 0.0);
    }
  }
  out += '\n';
  out += thermal_line(report.thermal);
  out += '\n';
  return out;
}

std::string format_json(const BenchReport& report) {
  ordered_json list = ordered_json::array();
  for (const Test& t : tests_of(report)) list.push_back(test_json(report, t));
  return list.dump(2) + "\n";
}

std::string format_csv(const BenchReport& report) {
  // pp and tg objects differ (tg has the roofline keys): the header is the union of the keys in
  // order of first appearance, and a test without a key leaves its cell empty.
  std::vector<ordered_json> rows;
  ordered_json columns = ordered_json::object();
  for (const Test& t : tests_of(report)) {
    rows.push_back(test_json(report, t));
    for (const auto& [k, v] : rows.back().items())
      if (!columns.contains(k)) columns[k] = nullptr;
  }
  if (rows.empty()) return {};
  std::string out = csv_line(columns, true);
  for (const ordered_json& row : rows) {
    ordered_json full = columns;
    for (const auto& [k, v] : row.items()) full[k] = v;
    out += csv_line(full, false);
  }
  return out;
}

std::string format_report(const BenchReport& report, OutputFormat format) {
  switch (format) {
    case OutputFormat::kJson:
      return format_json(report);
    case OutputFormat::kCsv:
      return format_csv(report);
    case OutputFormat::kMarkdown:
      break;
  }
  return format_markdown(report);
}

std::string format_matrix(const BenchReport& report, OutputFormat format) {
  struct Row {
    const RunResult* run;
    std::optional<double> prefill_ms;
    int64_t prefill_len;
  };
  std::vector<Row> rows;
  for (const RunResult& r : report.runs) {
    Row row{&r, std::nullopt, 0};
    for (const auto& [n, ms] : r.ttft_ms)
      if (n >= row.prefill_len) row = {&r, ms, n};
    rows.push_back(row);
  }
  if (format == OutputFormat::kJson || format == OutputFormat::kCsv) {
    ordered_json list = ordered_json::array();
    for (const Row& row : rows) {
      const RunResult& r = *row.run;
      const double tg = r.tg ? r.tg->avg_ts() : 0.0;
      ordered_json j;
      j["model_filename"] = r.model.filename;
      j["model_type"] = r.model.type;
      j["quant"] = r.model.ftype;
      j["n_threads"] = r.n_threads;
      j["ram_bytes"] = optional_json(r.memory.peak_bytes);
      j["tg_ts"] = tg;
      j["tg_stddev_ts"] = r.tg ? r.tg->stddev_ts() : 0.0;
      j["prefill_tokens"] = row.prefill_len;
      j["prefill_ms"] = optional_json(row.prefill_ms);
      j["verdict"] = std::string(verdict(tg));
      list.push_back(j);
    }
    if (format == OutputFormat::kJson) return list.dump(2) + "\n";
    std::string out;
    for (size_t i = 0; i < list.size(); ++i) {
      if (i == 0) out += csv_line(list[i], true);
      out += csv_line(list[i], false);
    }
    return out;
  }
  std::string out = "| model | quant | threads | RAM used | tg t/s | prefill (1k-token prompt) | verdict |\n";
  out += "| --- | --- | ---: | ---: | ---: | ---: | --- |\n";
  for (const Row& row : rows) {
    const RunResult& r = *row.run;
    const double tg = r.tg ? r.tg->avg_ts() : 0.0;
    std::string prefill = "n/a";
    if (row.prefill_ms)
      prefill = row.prefill_len == 1000 ? fmt::format("{:.1f} s", *row.prefill_ms / 1000.0)
                                        : fmt::format("{:.1f} s ({} tok)", *row.prefill_ms / 1000.0, row.prefill_len);
    out += fmt::format("| {} | {} | {} | {} | {:.2f} ± {:.2f} | {} | {} |\n",
                       std::filesystem::path(r.model.filename).filename().string(), r.model.ftype, r.n_threads,
                       mib(r.memory.peak_bytes), tg, r.tg ? r.tg->stddev_ts() : 0.0, prefill, verdict(tg));
  }
  out += '\n';
  out += thermal_line(report.thermal);
  out += '\n';
  return out;
}

}  // namespace hearth::bench
