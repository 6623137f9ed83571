#include "server/health_monitor.h"

#include <optional>

#include "server/metrics.h"
#include "system/health_events.h"

namespace hearth::server {

HealthMonitor::HealthMonitor(system::SystemRoot root, std::chrono::milliseconds interval, ServerMetrics* metrics,
                             LogFn log)
    : root_(std::move(root)),
      interval_(interval.count() > 0 ? interval : std::chrono::milliseconds(1)),
      metrics_(metrics),
      log_(std::move(log)) {
  thread_ = std::thread([this] { loop(); });
}

HealthMonitor::~HealthMonitor() { stop(); }

void HealthMonitor::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

int HealthMonitor::samples() const {
  std::lock_guard lock(mutex_);
  return samples_;
}

void HealthMonitor::loop() {
  std::optional<system::HealthState> state;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    // vcgencmd only where the kernel has no sysfs word (read_throttle tries sysfs first), and
    // at most once per interval: a spawn every few seconds costs nothing measurable.
    const system::Health h = system::read_health(root_, /*allow_vcgencmd=*/true);
    if (metrics_) metrics_->record_health(h);
    system::HealthEvents ev = system::health_events(state, system::health_state(h));
    state = ev.state;
    if (log_)
      for (const std::string& line : ev.lines) log_(line);
    lock.lock();
    ++samples_;
    wake_.wait_for(lock, interval_, [this] { return stopping_; });
  }
}

}  // namespace hearth::server
