#include "system/health_events.h"

#include <fmt/format.h>

namespace hearth::system {

HealthState health_state(const Health& h) { return {h.throttle.bits, h.temperature.celsius}; }

namespace {

bool has(const std::optional<uint32_t>& bits, uint32_t mask) { return bits && (*bits & mask) != 0; }

bool hot(const std::optional<double>& t, bool was_hot) {
  if (!t) return was_hot;  // an unreadable sample changes nothing
  return was_hot ? *t >= kCooledCelsius : *t >= kHotCelsius;
}

// A reading that could not be taken keeps the last known value.
template <class T>
std::optional<T> or_before(const std::optional<T>& now, const std::optional<T>& before) {
  return now ? now : before;
}

}  // namespace

HealthEvents health_events(const std::optional<HealthState>& before, const HealthState& now) {
  HealthEvents result;
  std::vector<std::string>& out = result.lines;
  const std::optional<uint32_t> prev = before ? before->throttle_bits : std::optional<uint32_t>(0u);
  const std::string temp = now.temp_c ? fmt::format("{:.1f} °C", *now.temp_c) : std::string("temperature n/a");
  const std::string word = now.throttle_bits ? fmt::format(" (get_throttled 0x{:x})", *now.throttle_bits) : "";

  // Throttled or capped: one condition for the log, the clock is lower either way.
  const uint32_t slow = kThrottledNow | kFreqCappedNow;
  if (now.throttle_bits) {
    const bool was = has(prev, slow), is = has(now.throttle_bits, slow);
    if (is && !was) out.push_back(fmt::format("throttling started: {}, {}{}", describe_throttle_bits(*now.throttle_bits & 0xf), temp, word));
    if (!is && was) out.push_back(fmt::format("throttling ended, {}{}", temp, word));
    if (has(now.throttle_bits, kUnderVoltageNow) && !has(prev, kUnderVoltageNow))
      out.push_back(fmt::format("under-voltage detected: the power supply sags under load; use the official "
                                "supply (27 W on a Pi 5, 15.3 W on a Pi 4){}", word));
    else if (has(now.throttle_bits, kUnderVoltageOccurred) && !has(prev, kUnderVoltageOccurred | kUnderVoltageNow))
      out.push_back(fmt::format("under-voltage has occurred since boot{}", word));
    if (!has(now.throttle_bits, kUnderVoltageNow) && has(prev, kUnderVoltageNow) && before)
      out.push_back(fmt::format("voltage back to normal{}", word));
  }
  const bool was_hot = before && before->hot;
  const bool is_hot = hot(now.temp_c, was_hot);
  if (is_hot && !was_hot)
    out.push_back(fmt::format("CPU at {}: the firmware caps the clock from {:.0f} °C; improve cooling", temp, kHotCelsius));
  if (!is_hot && was_hot) out.push_back(fmt::format("CPU cooled to {}", temp));
  result.state.throttle_bits = or_before(now.throttle_bits, before ? before->throttle_bits : std::nullopt);
  result.state.temp_c = or_before(now.temp_c, before ? before->temp_c : std::nullopt);
  result.state.hot = is_hot;
  return result;
}

}  // namespace hearth::system
