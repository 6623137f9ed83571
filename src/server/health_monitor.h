// The server's eye on the board: a thread that reads the machine's health (src/system/) every
// few seconds, keeps the /metrics gauges current, and writes one log line when throttling
// starts or ends, under-voltage is seen, or the CPU gets hot (the rules are the pure function
// system::health_events, tested on their own). Owned by `hearth serve` for the server's
// lifetime: the constructor starts the thread, stop() or the destructor ends it promptly.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "system/machine.h"

namespace hearth::server {

class ServerMetrics;

class HealthMonitor {
 public:
  using LogFn = std::function<void(const std::string& line)>;
  // `metrics` may be null (no gauges); `log` receives each event line.
  HealthMonitor(system::SystemRoot root, std::chrono::milliseconds interval, ServerMetrics* metrics, LogFn log);
  ~HealthMonitor();
  HealthMonitor(const HealthMonitor&) = delete;
  HealthMonitor& operator=(const HealthMonitor&) = delete;

  void stop();  // idempotent; joins the thread
  int samples() const;  // readings taken so far

 private:
  void loop();

  const system::SystemRoot root_;
  const std::chrono::milliseconds interval_;
  ServerMetrics* const metrics_;
  const LogFn log_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  int samples_ = 0;
  std::thread thread_;
};

}  // namespace hearth::server
