#include "bench/system_monitor.h"

#include <fmt/format.h>

namespace hearth::bench {
namespace {

void keep_min(std::optional<double>& slot, double v) {
  if (!slot || v < *slot) slot = v;
}
void keep_max(std::optional<double>& slot, double v) {
  if (!slot || v > *slot) slot = v;
}

}  // namespace

ThermalSample read_thermal_sample(const system::SystemRoot& root) {
  // No vcgencmd here: a process spawn every 200 ms would disturb the run it measures; the
  // sysfs file and the hwmon alarm are plain reads.
  const system::Health h = system::read_health(root, /*allow_vcgencmd=*/false);
  return {h.temperature.celsius, h.clocks.cur_min_mhz(), h.clocks.cur_max_mhz(), h.throttle.bits};
}

void ThermalRange::add(const ThermalSample& s) {
  ++n_samples;
  if (s.temp_c) {
    keep_min(temp_min_c, *s.temp_c);
    keep_max(temp_max_c, *s.temp_c);
  }
  if (s.freq_min_mhz) keep_min(freq_min_mhz, *s.freq_min_mhz);
  if (s.freq_max_mhz) keep_max(freq_max_mhz, *s.freq_max_mhz);
  if (s.throttle_bits) throttle_bits = throttle_bits.value_or(0) | *s.throttle_bits;
}

std::string format_optional(const std::optional<double>& v, int decimals) {
  return v ? fmt::format("{:.{}f}", *v, decimals) : std::string("n/a");
}

ThermalSampler::ThermalSampler(system::SystemRoot root, int interval_ms)
    : root_(std::move(root)), interval_ms_(interval_ms > 0 ? interval_ms : 1) {
  range_.add(read_thermal_sample(root_));
  thread_ = std::thread([this] { loop(); });
}

ThermalSampler::~ThermalSampler() { stop(); }

void ThermalSampler::loop() {
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, std::chrono::milliseconds(interval_ms_), [this] { return stopping_; })) {
    lock.unlock();
    const ThermalSample s = read_thermal_sample(root_);
    lock.lock();
    range_.add(s);
  }
}

ThermalRange ThermalSampler::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return range_;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  const ThermalSample last = read_thermal_sample(root_);
  std::lock_guard lock(mutex_);
  range_.add(last);
  return range_;
}

ThermalRange ThermalSampler::range() const {
  std::lock_guard lock(mutex_);
  return range_;
}

}  // namespace hearth::bench
