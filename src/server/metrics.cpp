#include "server/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

namespace hearth::server {

namespace {

void atomic_add(std::atomic<double>& a, double v) {
  double cur = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(cur, cur + v, std::memory_order_relaxed)) {
  }
}

const char* type_name(MetricType t) {
  switch (t) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
  }
  return "untyped";
}

std::string sanitize(std::string_view name, bool allow_colon) {
  std::string out;
  out.reserve(name.size() + 1);
  for (char c : name) {
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                       (allow_colon && c == ':');
    const bool digit = c >= '0' && c <= '9';
    if (out.empty() && digit) out += '_';
    out += (alpha || digit) ? c : '_';
  }
  if (out.empty()) out = "_";
  return out;
}

// "name{labels}" or "name" when there are none; `extra` is an already-rendered pair (le="...").
std::string series_name(std::string_view name, const std::string& labels,
                        const std::string& extra = {}) {
  std::string out(name);
  if (labels.empty() && extra.empty()) return out;
  out += '{';
  out += labels;
  if (!labels.empty() && !extra.empty()) out += ',';
  out += extra;
  out += '}';
  return out;
}

}  // namespace

// ---- series ------------------------------------------------------------------------------

void Counter::inc(double v) {
  if (!(v > 0)) return;  // also drops NaN
  atomic_add(value_, v);
}

void Gauge::add(double v) { atomic_add(value_, v); }

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  std::erase_if(bounds_, [](double b) { return std::isnan(b) || std::isinf(b); });
  std::sort(bounds_.begin(), bounds_.end());
  bounds_.erase(std::unique(bounds_.begin(), bounds_.end()), bounds_.end());
  buckets_.assign(bounds_.size() + 1, 0);
}

void Histogram::observe(double v) {
  if (std::isnan(v)) return;
  // Bucket i counts v <= bounds_[i] (Prometheus' "le"), the last one everything above.
  const size_t i = size_t(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  std::lock_guard lock(mu_);
  ++buckets_[i];
  sum_ += v;
  ++count_;
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.bounds = bounds_;
  std::lock_guard lock(mu_);
  s.cumulative.resize(buckets_.size());
  uint64_t acc = 0;
  for (size_t i = 0; i < buckets_.size(); ++i) s.cumulative[i] = acc += buckets_[i];
  s.sum = sum_;
  s.count = count_;
  return s;
}

// ---- registry ----------------------------------------------------------------------------

MetricsRegistry::Family* MetricsRegistry::family(std::string_view name, std::string_view help,
                                                 MetricType type) {
  const std::string key = sanitize_metric_name(name);
  auto it = families_.find(key);
  if (it == families_.end()) {
    it = families_.emplace(key, Family{std::string(help), type, {}, {}, {}, {}}).first;
  }
  return it->second.type == type ? &it->second : nullptr;
}

Counter& MetricsRegistry::counter(std::string_view name, std::string_view help,
                                  const Labels& labels) {
  std::lock_guard lock(mu_);
  Family* f = family(name, help, MetricType::kCounter);
  if (!f) return stray_counters_.emplace_back();
  auto& slot = f->counters[render_labels(labels)];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

Gauge& MetricsRegistry::gauge(std::string_view name, std::string_view help,
                              const Labels& labels) {
  std::lock_guard lock(mu_);
  Family* f = family(name, help, MetricType::kGauge);
  if (!f) return stray_gauges_.emplace_back();
  auto& slot = f->gauges[render_labels(labels)];
  if (!slot) slot = std::make_unique<Gauge>();
  return *slot;
}

Histogram& MetricsRegistry::histogram(std::string_view name, std::string_view help,
                                      std::span<const double> bounds, const Labels& labels) {
  std::lock_guard lock(mu_);
  Family* f = family(name, help, MetricType::kHistogram);
  if (!f) return stray_histograms_.emplace_back(std::vector<double>(bounds.begin(), bounds.end()));
  if (f->histograms.empty() && f->bounds.empty()) f->bounds.assign(bounds.begin(), bounds.end());
  auto& slot = f->histograms[render_labels(labels)];
  // Every series of a family shares the first caller's bounds, as the format expects.
  if (!slot) slot = std::make_unique<Histogram>(f->bounds);
  return *slot;
}

std::string MetricsRegistry::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, f] : families_) {
    out += "# HELP " + name + " " + escape_help(f.help) + "\n";
    out += "# TYPE " + name + " " + type_name(f.type) + "\n";
    for (const auto& [labels, c] : f.counters) {
      out += series_name(name, labels) + " " + format_value(c->value()) + "\n";
    }
    for (const auto& [labels, g] : f.gauges) {
      out += series_name(name, labels) + " " + format_value(g->value()) + "\n";
    }
    for (const auto& [labels, h] : f.histograms) {
      const Histogram::Snapshot s = h->snapshot();
      const std::string bucket = name + "_bucket";
      for (size_t i = 0; i < s.cumulative.size(); ++i) {
        const std::string le =
            i < s.bounds.size() ? format_value(s.bounds[i]) : std::string("+Inf");
        out += series_name(bucket, labels, "le=\"" + le + "\"") + " " +
               format_value(double(s.cumulative[i])) + "\n";
      }
      out += series_name(name + "_sum", labels) + " " + format_value(s.sum) + "\n";
      out += series_name(name + "_count", labels) + " " + format_value(double(s.count)) + "\n";
    }
  }
  return out;
}

// ---- text format helpers -----------------------------------------------------------------

std::string sanitize_metric_name(std::string_view name) { return sanitize(name, true); }
std::string sanitize_label_name(std::string_view name) { return sanitize(name, false); }

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string escape_help(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[40];
  // Integers up to 2^53 are exact in a double: print them without exponent or decimals so
  // counters read naturally.
  if (v == std::floor(v) && std::fabs(v) < 9007199254740992.0) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.17g", v);
  }
  return buf;
}

std::string render_labels(const Labels& labels) {
  std::vector<std::pair<std::string, std::string>> sorted;
  sorted.reserve(labels.size());
  for (const auto& [k, v] : labels) sorted.emplace_back(sanitize_label_name(k), v);
  std::sort(sorted.begin(), sorted.end());
  std::string out;
  for (const auto& [k, v] : sorted) {
    if (!out.empty()) out += ',';
    out += k + "=\"" + escape_label_value(v) + "\"";
  }
  return out;
}

// ---- hearth serve's series ---------------------------------------------------------------

std::span<const double> ttft_buckets() {
  static constexpr double kBounds[] = {0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
  return kBounds;
}

std::span<const double> duration_buckets() {
  static constexpr double kBounds[] = {0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};
  return kBounds;
}

ServerMetrics::ServerMetrics(system::SystemRoot root) : root_(std::move(root)) {
  queue_depth_ = &registry_.gauge("hearth_queue_depth", "Requests waiting for a slot.");
  slots_busy_ = &registry_.gauge("hearth_slots_busy", "Slots generating for a request.");
  slots_total_ = &registry_.gauge("hearth_slots_total", "Parallel slots configured.");
  kv_cache_bytes_ =
      &registry_.gauge("hearth_kv_cache_bytes", "Bytes of KV cache held by loaded models' slots.");
  models_loaded_ = &registry_.gauge("hearth_models_loaded", "Models currently in memory.");
}

void ServerMetrics::record_request(std::string_view endpoint, int status, double seconds) {
  const Labels labels = {{"endpoint", std::string(endpoint)}, {"status", std::to_string(status)}};
  registry_.counter("hearth_requests_total", "HTTP requests by endpoint and status.", labels).inc();
  registry_
      .histogram("hearth_request_duration_seconds", "HTTP request duration by endpoint.",
                 duration_buckets(), {{"endpoint", std::string(endpoint)}})
      .observe(seconds);
}

void ServerMetrics::record_generation(const Generation& g) {
  const Labels labels = {{"model", g.model}};
  registry_.counter("hearth_prompt_tokens_total", "Prompt tokens evaluated by prefill.", labels)
      .inc(double(g.tokens_prompt));
  registry_.counter("hearth_generated_tokens_total", "Tokens generated.", labels)
      .inc(double(g.tokens_generated));
  registry_.counter("hearth_generations_total", "Finished generations.", labels).inc();
  if (g.ttft_seconds >= 0) {
    registry_
        .histogram("hearth_time_to_first_token_seconds",
                   "From admission to the first generated token.", ttft_buckets(), labels)
        .observe(g.ttft_seconds);
  }
  if (g.prompt_tok_per_s > 0) {
    registry_
        .gauge("hearth_prompt_tokens_per_second", "Prefill speed of the last generation.",
               labels)
        .set(g.prompt_tok_per_s);
  }
  if (g.generate_tok_per_s > 0) {
    registry_
        .gauge("hearth_generation_tokens_per_second",
               "Decode speed of the last generation (one stream).", labels)
        .set(g.generate_tok_per_s);
  }
}

void ServerMetrics::record_rejected(std::string_view reason) {
  registry_
      .counter("hearth_requests_rejected_total", "Requests refused before generation by reason.",
               {{"reason", std::string(reason)}})
      .inc();
}

void ServerMetrics::record_health(const system::Health& h) {
  if (h.temperature.celsius) {
    registry_.gauge("hearth_cpu_temperature_celsius", "Hottest CPU thermal zone.").set(*h.temperature.celsius);
  }
  for (const system::CoreClock& c : h.clocks.cores) {
    const Labels cpu = {{"cpu", std::to_string(c.cpu)}};
    if (c.cur_mhz)
      registry_.gauge("hearth_cpu_frequency_hertz", "Current clock of each core (cpufreq).", cpu).set(*c.cur_mhz * 1e6);
    if (c.max_mhz)
      registry_.gauge("hearth_cpu_frequency_max_hertz", "Highest clock of each core (cpufreq).", cpu)
          .set(*c.max_mhz * 1e6);
  }
  if (h.throttle.bits) {
    // Only where the board exposes them (a Raspberry Pi): absent series mean "unknown", not 0.
    registry_.gauge("hearth_throttled_bits", "Raspberry Pi firmware get_throttled word.").set(double(*h.throttle.bits));
    for (const system::ThrottleFlagInfo& f : system::throttle_flag_table()) {
      registry_
          .gauge("hearth_throttle_flag", "Raspberry Pi firmware throttled / under-voltage flags (1 set).",
                 {{"flag", std::string(f.key)}})
          .set((*h.throttle.bits & f.bit) ? 1 : 0);
    }
  }
}

std::string ServerMetrics::render() {
  if (auto rss = system::read_process_memory(root_).rss_bytes) {
    registry_.gauge("process_resident_memory_bytes", "Resident memory size in bytes.").set(double(*rss));
  }
  // No vcgencmd on a scrape: a process spawn per scrape is not worth it; the sysfs file and the
  // hwmon alarm are plain reads, and the health sampler may take vcgencmd's word instead.
  record_health(system::read_health(root_, /*allow_vcgencmd=*/false));
  return registry_.render();
}

}  // namespace hearth::server
