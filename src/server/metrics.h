// Server metrics and their Prometheus text exposition (format 0.0.4) for GET /metrics.
//
// Two layers:
//   MetricsRegistry — generic counters, gauges and histograms, each a family (name, help, type)
//                     with one series per label set. Thread-safe: looking a series up takes the
//                     registry's lock once; updating a series is lock-free (counters, gauges) or
//                     takes only that histogram's lock. Returned references stay valid for the
//                     registry's lifetime, so hot paths look a series up once and keep it.
//   ServerMetrics   — the series hearth serve exports, with names fixed in one place, plus the
//                     machine readings (RSS, CPU temperature and clocks, the Raspberry Pi
//                     firmware's throttled / under-voltage flags) read through src/system/ when
//                     /metrics is scraped.
//
// There is no process-wide registry (STYLE habit 5): the server owns one ServerMetrics in its
// context and passes it to whoever records.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "system/machine.h"

namespace hearth::server {

// Label names and values, e.g. {{"endpoint", "/api/chat"}, {"status", "200"}}. Order does not
// matter: a series is identified by the sorted set.
using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void inc(double v = 1.0);  // negative increments are ignored: counters only go up
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void add(double v);
  void sub(double v) { add(-v); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  // Upper bounds, strictly increasing (sorted and de-duplicated here); +Inf is implicit.
  explicit Histogram(std::vector<double> bounds);
  void observe(double v);

  struct Snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative;  // one per bound, then +Inf (== count)
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot snapshot() const;

 private:
  std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::vector<uint64_t> buckets_;  // not cumulative; last is the +Inf overflow
  double sum_ = 0;
  uint64_t count_ = 0;
};

enum class MetricType { kCounter, kGauge, kHistogram };

class MetricsRegistry {
 public:
  MetricsRegistry() = default;
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Find or create the series. The first call for a name fixes its help text and type (and a
  // histogram's bounds); a later call with another type is a programming error and returns a
  // detached series that is never exported (it never throws or aborts a server).
  Counter& counter(std::string_view name, std::string_view help, const Labels& labels = {});
  Gauge& gauge(std::string_view name, std::string_view help, const Labels& labels = {});
  Histogram& histogram(std::string_view name, std::string_view help,
                       std::span<const double> bounds, const Labels& labels = {});

  // Every family in name order, every series in label order: a stable, diff-able scrape.
  std::string render() const;

 private:
  struct Family {
    std::string help;
    MetricType type;
    std::vector<double> bounds;  // histograms
    // Key: the sorted, escaped label pairs as rendered ("a=\"x\",b=\"y\"").
    std::map<std::string, std::unique_ptr<Counter>> counters;
    std::map<std::string, std::unique_ptr<Gauge>> gauges;
    std::map<std::string, std::unique_ptr<Histogram>> histograms;
  };
  Family* family(std::string_view name, std::string_view help, MetricType type);

  mutable std::mutex mu_;
  std::map<std::string, Family, std::less<>> families_;
  // Series of mismatched types (see above) live here so references stay valid.
  std::deque<Counter> stray_counters_;
  std::deque<Gauge> stray_gauges_;
  std::deque<Histogram> stray_histograms_;
};

// ---- text format helpers (exposed for tests) -----------------------------------------
// A metric or label name is [a-zA-Z_:][a-zA-Z0-9_:]* (label names without ':'); anything else is
// replaced by '_' so a stray endpoint string cannot break the exposition.
std::string sanitize_metric_name(std::string_view name);
std::string sanitize_label_name(std::string_view name);
std::string escape_label_value(std::string_view v);  // \ " and newline escaped
std::string escape_help(std::string_view v);         // \ and newline escaped
std::string format_value(double v);                  // integers exactly, +Inf/-Inf/NaN, %.17g
// Sorted, sanitized, escaped: `a="x",b="y"` (empty for no labels).
std::string render_labels(const Labels& labels);

// ---- the series hearth serve exports -----------------------------------------------
// Bucket bounds for time to first token, seconds: a Pi 4 prefill of a long prompt takes tens of
// seconds, a desktop answers in milliseconds.
std::span<const double> ttft_buckets();
std::span<const double> duration_buckets();

class ServerMetrics {
 public:
  // `root` is where /sys and /proc are read ("/": the live machine; tests pass a fixture tree).
  ServerMetrics() : ServerMetrics(system::SystemRoot{}) {}
  explicit ServerMetrics(system::SystemRoot root);

  // One finished HTTP request (any route), e.g. ("/api/chat", 200, 1.25).
  void record_request(std::string_view endpoint, int status, double seconds);
  // One finished generation: token counts and its phases' speeds (0: not measured, not set).
  struct Generation {
    std::string model;
    int64_t tokens_prompt = 0;     // evaluated by prefill (a reused prefix is not counted)
    int64_t tokens_generated = 0;
    double ttft_seconds = -1;      // < 0: no token was produced
    double prompt_tok_per_s = 0;
    double generate_tok_per_s = 0;
  };
  void record_generation(const Generation& g);
  void record_rejected(std::string_view reason);  // queue full, draining, too large, ...

  // Live state, set by the scheduler as it changes.
  Gauge& queue_depth() { return *queue_depth_; }
  Gauge& slots_busy() { return *slots_busy_; }
  Gauge& slots_total() { return *slots_total_; }
  Gauge& kv_cache_bytes() { return *kv_cache_bytes_; }  // KV bytes allocated by live slots
  Gauge& models_loaded() { return *models_loaded_; }

  // Sets the machine series from one reading (the scrape and the health sampler call it).
  void record_health(const system::Health& h);
  // Samples the machine readings, then renders every series.
  std::string render();
  const system::SystemRoot& root() const { return root_; }
  MetricsRegistry& registry() { return registry_; }

 private:
  system::SystemRoot root_;
  MetricsRegistry registry_;
  Gauge* queue_depth_;
  Gauge* slots_busy_;
  Gauge* slots_total_;
  Gauge* kv_cache_bytes_;
  Gauge* models_loaded_;
};

// The Content-Type of the exposition.
inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace hearth::server
