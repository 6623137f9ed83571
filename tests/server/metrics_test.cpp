#include "server/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <thread>
#include <vector>

#include "system/fixtures.h"

namespace hearth::server {
namespace {

TEST(MetricsFormat, ValuesAsPrometheusReadsThem) {
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(42), "42");
  EXPECT_EQ(format_value(-3), "-3");
  EXPECT_EQ(format_value(1e15), "1000000000000000");
  EXPECT_EQ(format_value(0.25), "0.25");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_value(std::nan("")), "NaN");
  EXPECT_DOUBLE_EQ(std::stod(format_value(0.1)), 0.1);  // round-trips
}

TEST(MetricsFormat, EscapesAndSanitizes) {
  EXPECT_EQ(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(escape_help("line\none \\ \"q\""), "line\\none \\\\ \"q\"");
  EXPECT_EQ(sanitize_metric_name("hearth:requests-total"), "hearth:requests_total");
  EXPECT_EQ(sanitize_label_name("a:b"), "a_b");
  EXPECT_EQ(sanitize_metric_name("9lives"), "_9lives");
  EXPECT_EQ(sanitize_metric_name(""), "_");
  EXPECT_EQ(render_labels({{"status", "200"}, {"endpoint", "/api/chat"}}),
            "endpoint=\"/api/chat\",status=\"200\"");
  EXPECT_EQ(render_labels({}), "");
}

TEST(MetricsRegistry, CountersAndGaugesRender) {
  MetricsRegistry r;
  r.counter("hearth_requests_total", "Requests.", {{"endpoint", "/v1/models"}, {"status", "200"}})
      .inc();
  r.counter("hearth_requests_total", "Requests.", {{"status", "200"}, {"endpoint", "/v1/models"}})
      .inc(2);
  r.counter("hearth_requests_total", "Requests.", {{"endpoint", "/api/tags"}, {"status", "404"}})
      .inc();
  r.counter("hearth_requests_total", "x").inc(-5);  // ignored: counters never go down
  Gauge& g = r.gauge("hearth_slots_busy", "Busy\nslots.");
  g.set(3);
  g.sub(1);
  EXPECT_EQ(r.render(),
            "# HELP hearth_requests_total Requests.\n"
            "# TYPE hearth_requests_total counter\n"
            "hearth_requests_total 0\n"
            "hearth_requests_total{endpoint=\"/api/tags\",status=\"404\"} 1\n"
            "hearth_requests_total{endpoint=\"/v1/models\",status=\"200\"} 3\n"
            "# HELP hearth_slots_busy Busy\\nslots.\n"
            "# TYPE hearth_slots_busy gauge\n"
            "hearth_slots_busy 2\n");
}

TEST(MetricsRegistry, HistogramBucketsAreCumulative) {
  MetricsRegistry r;
  const double bounds[] = {1, 0.5, 2, 1};  // unsorted, duplicated: normalized
  Histogram& h = r.histogram("ttft_seconds", "TTFT.", bounds, {{"model", "m"}});
  for (double v : {0.25, 0.5, 0.75, 1.0, 3.0}) h.observe(v);
  h.observe(std::nan(""));  // dropped
  EXPECT_EQ(r.render(),
            "# HELP ttft_seconds TTFT.\n"
            "# TYPE ttft_seconds histogram\n"
            "ttft_seconds_bucket{model=\"m\",le=\"0.5\"} 2\n"
            "ttft_seconds_bucket{model=\"m\",le=\"1\"} 4\n"
            "ttft_seconds_bucket{model=\"m\",le=\"2\"} 4\n"
            "ttft_seconds_bucket{model=\"m\",le=\"+Inf\"} 5\n"
            "ttft_seconds_sum{model=\"m\"} 5.5\n"
            "ttft_seconds_count{model=\"m\"} 5\n");
}

TEST(MetricsRegistry, TypeClashIsDetachedNotExported) {
  MetricsRegistry r;
  r.counter("x_total", "c").inc();
  Gauge& stray = r.gauge("x_total", "g");
  stray.set(99);
  const std::string text = r.render();
  EXPECT_EQ(text.find("99"), std::string::npos);
  EXPECT_NE(text.find("# TYPE x_total counter"), std::string::npos);
}

TEST(MetricsRegistry, ReferencesStayValidAndUpdatesAreAtomic) {
  MetricsRegistry r;
  Counter& first = r.counter("c_total", "c", {{"k", "0"}});
  constexpr int kThreads = 4, kPerThread = 5000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&r, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // New series created concurrently with updates of old ones.
        r.counter("c_total", "c", {{"k", std::to_string(i % 7)}}).inc();
        r.gauge("g", "g").add(1);
        const double b[] = {1.0};
        r.histogram("h", "h", b).observe(t);
      }
    });
  }
  for (auto& th : threads) th.join();
  double total = 0;
  for (int k = 0; k < 7; ++k) total += r.counter("c_total", "c", {{"k", std::to_string(k)}}).value();
  EXPECT_EQ(total, kThreads * kPerThread);
  EXPECT_GT(first.value(), 0);
  EXPECT_EQ(r.gauge("g", "g").value(), kThreads * kPerThread);
  const double b[] = {1.0};
  EXPECT_EQ(r.histogram("h", "h", b).snapshot().count, uint64_t(kThreads * kPerThread));
}

TEST(ServerMetrics, ExportsTheDocumentedSeries) {
  test::FixtureTree dir("metrics");
  // A fixture tree read through src/system/ as `--sysfs-root` would: DIR/proc, DIR/sys.
  dir.write("proc/self/status", "VmRSS:\t2048 kB\n");
  dir.write("sys/class/thermal/thermal_zone0/type", "soc_thermal\n");
  dir.write("sys/class/thermal/thermal_zone0/temp", "55000\n");
  dir.write("sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", "1500000\n");
  dir.write("sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", "1800000\n");
  dir.write("sys/devices/platform/soc/soc:firmware/get_throttled", "50005\n");
  ServerMetrics m(system::SystemRoot{dir.path()});
  m.slots_total().set(2);
  m.slots_busy().set(1);
  m.queue_depth().set(3);
  m.kv_cache_bytes().set(1 << 20);
  m.record_request("/api/chat", 200, 0.3);
  m.record_request("/api/chat", 404, 0.001);
  m.record_rejected("queue_full");
  m.record_generation({"tiny", 12, 5, 0.2, 100.0, 20.0});
  m.record_generation({"tiny", 3, 0, -1, 0, 0});
  const std::string text = m.render();
  for (const char* line : {
           "hearth_requests_total{endpoint=\"/api/chat\",status=\"200\"} 1\n",
           "hearth_requests_total{endpoint=\"/api/chat\",status=\"404\"} 1\n",
           "hearth_request_duration_seconds_count{endpoint=\"/api/chat\"} 2\n",
           "hearth_requests_rejected_total{reason=\"queue_full\"} 1\n",
           "hearth_prompt_tokens_total{model=\"tiny\"} 15\n",
           "hearth_generated_tokens_total{model=\"tiny\"} 5\n",
           "hearth_generations_total{model=\"tiny\"} 2\n",
           "hearth_time_to_first_token_seconds_count{model=\"tiny\"} 1\n",
           "hearth_time_to_first_token_seconds_bucket{model=\"tiny\",le=\"0.25\"} 1\n",
           "hearth_prompt_tokens_per_second{model=\"tiny\"} 100\n",
           "hearth_generation_tokens_per_second{model=\"tiny\"} 20\n",
           "hearth_queue_depth 3\n",
           "hearth_slots_busy 1\n",
           "hearth_slots_total 2\n",
           "hearth_kv_cache_bytes 1048576\n",
           "process_resident_memory_bytes 2097152\n",
           "hearth_cpu_temperature_celsius 55\n",
           "hearth_cpu_frequency_hertz{cpu=\"0\"} 1500000000\n",
           "hearth_cpu_frequency_max_hertz{cpu=\"0\"} 1800000000\n",
           "hearth_throttled_bits 327685\n",
           "hearth_throttle_flag{flag=\"under_voltage_now\"} 1\n",
           "hearth_throttle_flag{flag=\"throttled_now\"} 1\n",
           "hearth_throttle_flag{flag=\"freq_capped_now\"} 0\n",
           "hearth_throttle_flag{flag=\"under_voltage_since_boot\"} 1\n",
           "hearth_throttle_flag{flag=\"throttled_since_boot\"} 1\n",
           "# TYPE hearth_time_to_first_token_seconds histogram\n",
       }) {
    EXPECT_NE(text.find(line), std::string::npos) << "missing: " << line << "\nin:\n" << text;
  }
  // Every non-comment line is `name[{labels}] value`.
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t end = text.find('\n', pos);
    ASSERT_NE(end, std::string::npos) << "exposition must end with a newline";
    const std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.rfind("# ", 0) == 0) continue;
    const size_t space = line.rfind(' ');
    ASSERT_NE(space, std::string::npos) << line;
    EXPECT_NO_THROW((void)std::stod(line.substr(space + 1) == "+Inf" ? "1" : line.substr(space + 1)))
        << line;
  }
}

TEST(ServerMetrics, MissingProcessFilesOmitTheirSeries) {
  ServerMetrics m(system::SystemRoot{"/nonexistent"});
  const std::string text = m.render();
  EXPECT_EQ(text.find("process_resident_memory_bytes"), std::string::npos);
  EXPECT_EQ(text.find("hearth_cpu_temperature_celsius"), std::string::npos);
  EXPECT_EQ(text.find("hearth_cpu_frequency_hertz"), std::string::npos);
  EXPECT_EQ(text.find("hearth_throttle_flag"), std::string::npos);  // off a Pi: absent, not 0
  EXPECT_NE(text.find("hearth_slots_busy 0\n"), std::string::npos);
}

}  // namespace
}  // namespace hearth::server
