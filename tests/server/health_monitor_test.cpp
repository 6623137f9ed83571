// The server's health sampler: RAII start/stop, gauges from a fixture tree, and a log line for
// a board that is under-volted when the server starts. No timing: it waits for the first
// sample, however long that takes.
#include "server/health_monitor.h"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "server/metrics.h"
#include "system/fixtures.h"

namespace hearth::server {
namespace {

TEST(HealthMonitor, LogsUnderVoltageAndFeedsTheGauges) {
  test::FixtureTree t("monitor");
  test::make_pi4_throttled(t);
  ServerMetrics metrics(t.root());
  std::mutex mu;
  std::vector<std::string> lines;
  {
    // An interval that never elapses: the first reading happens at start, the next never.
    HealthMonitor monitor(t.root(), std::chrono::hours(1), &metrics, [&](const std::string& l) {
      std::lock_guard lock(mu);
      lines.push_back(l);
    });
    while (monitor.samples() < 1) std::this_thread::yield();
  }  // the destructor stops the thread at once, mid-interval
  std::lock_guard lock(mu);
  ASSERT_FALSE(lines.empty());
  bool under_voltage = false;
  for (const std::string& l : lines) under_voltage |= l.rfind("under-voltage detected", 0) == 0;
  EXPECT_TRUE(under_voltage) << ::testing::PrintToString(lines);
  const std::string text = metrics.registry().render();
  EXPECT_NE(text.find("hearth_throttle_flag{flag=\"under_voltage_now\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("hearth_cpu_temperature_celsius 82."), std::string::npos) << text;
}

TEST(HealthMonitor, StopIsIdempotentAndNeedsNoMetrics) {
  test::FixtureTree t("monitor_empty");
  HealthMonitor monitor(t.root(), std::chrono::milliseconds(1), nullptr, nullptr);
  while (monitor.samples() < 2) std::this_thread::yield();
  monitor.stop();
  const int n = monitor.samples();
  monitor.stop();
  EXPECT_EQ(monitor.samples(), n);
}

}  // namespace
}  // namespace hearth::server
