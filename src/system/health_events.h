// Which changes in the machine's health deserve a line in `hearth serve`'s log: throttling that
// starts or ends, under-voltage seen (now, or newly "since boot"), and a CPU that crosses the
// temperature at which the Raspberry Pi firmware starts to cap the ARM clock. A pure function of
// two readings, so the server's sampler thread stays trivial and the rules are tested without
// threads or clocks.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "system/machine.h"

namespace hearth::system {

// The part of a Health reading the events are computed from.
struct HealthState {
  std::optional<uint32_t> throttle_bits;
  std::optional<double> temp_c;
  bool hot = false;  // derived by health_events (with hysteresis); ignored on input `now`
};
HealthState health_state(const Health& h);

// The Pi firmware throttles the ARM cores progressively from 80 °C and hard at 85 °C
// (Raspberry Pi documentation, "Frequency management and thermal control"); we warn at 80 and
// call it over at 75, so a temperature hovering at the limit logs once, not every sample.
inline constexpr double kHotCelsius = 80.0;
inline constexpr double kCooledCelsius = 75.0;

struct HealthEvents {
  HealthState state;               // pass as `before` next time
  std::vector<std::string> lines;  // one log line per change; empty when nothing changed
};
// The changes from `before` to `now`. `before` is nullopt for the first reading: then only
// conditions present now are reported (throttling, under-voltage now or since boot, hot), so a
// server started on a board that already browned out says so once. A value missing from `now`
// (an unreadable sample) keeps the one from `before` and changes nothing.
HealthEvents health_events(const std::optional<HealthState>& before, const HealthState& now);

}  // namespace hearth::system
