// The rules for `hearth serve`'s health log lines, fed with sequences of readings.
#include "system/health_events.h"

#include <gtest/gtest.h>

namespace hearth::system {
namespace {

// Feeds readings in order; returns every line logged, each prefixed by the step.
std::vector<std::string> run(const std::vector<HealthState>& readings) {
  std::vector<std::string> lines;
  std::optional<HealthState> state;
  for (size_t i = 0; i < readings.size(); ++i) {
    HealthEvents ev = health_events(state, readings[i]);
    for (const std::string& l : ev.lines) lines.push_back(std::to_string(i) + ": " + l);
    state = ev.state;
  }
  return lines;
}

bool has_line(const std::vector<std::string>& lines, const std::string& prefix) {
  for (const std::string& l : lines)
    if (l.rfind(prefix, 0) == 0) return true;
  return false;
}

TEST(HealthEvents, QuietWhenNothingHappens) {
  EXPECT_TRUE(run({{0u, 50.0}, {0u, 55.0}, {0u, 60.0}}).empty());
  EXPECT_TRUE(run({{std::nullopt, std::nullopt}, {std::nullopt, 40.0}}).empty());  // not a Pi, no sensor
}

TEST(HealthEvents, ThrottlingStartsAndEndsOnce) {
  const auto lines = run({{0u, 70.0}, {0x40004u, 81.0}, {0x40004u, 82.0}, {0x40000u, 76.0}, {0x40000u, 74.0}});
  EXPECT_TRUE(has_line(lines, "1: throttling started: currently throttled")) << ::testing::PrintToString(lines);
  EXPECT_TRUE(has_line(lines, "1: CPU at 81.0 °C"));
  EXPECT_TRUE(has_line(lines, "3: throttling ended"));
  EXPECT_TRUE(has_line(lines, "4: CPU cooled to 74.0 °C"));  // 76 is within the hysteresis
  EXPECT_EQ(lines.size(), 4u) << ::testing::PrintToString(lines);
}

TEST(HealthEvents, UnderVoltageSeenThenRecovered) {
  const auto lines = run({{0u, 50.0}, {0x50005u, 50.0}, {0x50005u, 50.0}, {0x50000u, 50.0}});
  EXPECT_TRUE(has_line(lines, "1: under-voltage detected")) << ::testing::PrintToString(lines);
  EXPECT_TRUE(has_line(lines, "1: throttling started"));
  EXPECT_TRUE(has_line(lines, "3: throttling ended"));
  EXPECT_TRUE(has_line(lines, "3: voltage back to normal"));
  EXPECT_EQ(lines.size(), 4u) << ::testing::PrintToString(lines);
}

TEST(HealthEvents, FirstReadingReportsWhatIsAlreadyWrong) {
  // A server started after a brown-out: the sticky bit alone, said once.
  auto lines = run({{0x50000u, 45.0}, {0x50000u, 45.0}});
  ASSERT_EQ(lines.size(), 1u) << ::testing::PrintToString(lines);
  EXPECT_TRUE(has_line(lines, "0: under-voltage has occurred since boot (get_throttled 0x50000)"));
  // Started hot and throttled.
  lines = run({{0x4u, 83.0}});
  EXPECT_TRUE(has_line(lines, "0: throttling started"));
  EXPECT_TRUE(has_line(lines, "0: CPU at 83.0 °C"));
  // Nothing wrong at start: nothing said, not even "ended" or "normal".
  EXPECT_TRUE(run({{0u, 40.0}}).empty());
}

TEST(HealthEvents, UnreadableSamplesChangeNothing) {
  // A failed read in the middle keeps the last known state: no "ended" then "started" again.
  const auto lines = run({{0x4u, 82.0}, {std::nullopt, std::nullopt}, {0x4u, 82.0}});
  EXPECT_EQ(lines.size(), 2u) << ::testing::PrintToString(lines);  // started + hot, at step 0 only
  EXPECT_TRUE(has_line(lines, "0: throttling started"));
}

}  // namespace
}  // namespace hearth::system
