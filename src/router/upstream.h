// One upstream server's life as seen from the front door: health (short-timeout probes of
// GET {url}/models), Wake-on-LAN (one shared wake-up per sleep, the packet re-sent while
// waiting), a circuit breaker (repeated failures open it for a doubling back-off), and idleness
// (the optional sleep_command after sleep_after_idle_s, never while a request is in flight).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "core/status.h"
#include "router/http_client.h"
#include "router/router_config.h"

namespace hearth::server {
class MetricsRegistry;
class Counter;
class Gauge;
}  // namespace hearth::server

namespace hearth::router {

enum class UpstreamState { kUnknown, kUp, kDown, kWaking };
const char* state_name(UpstreamState s);

// Why a request may or may not go to the upstream now.
enum class Readiness {
  kReady,        // forward it
  kDown,         // not answering and no Wake-on-LAN block
  kWaking,       // waking (policy local): answer elsewhere
  kWakeTimeout,  // held for wake_wait_s and it did not come up
  kCircuitOpen,  // recent failures: backing off
};
const char* readiness_reason(Readiness r);

class Upstream {
 public:
  // `metrics` may be null; it must outlive this object.
  Upstream(UpstreamBackend config, server::MetricsRegistry* metrics);
  ~Upstream();
  Upstream(const Upstream&) = delete;
  Upstream& operator=(const Upstream&) = delete;

  const UpstreamBackend& config() const { return config_; }
  const HttpUrl& url() const { return url_; }
  // Headers every request to it carries (the API key).
  HttpHeaders auth_headers() const;

  // Blocks while a held request waits for a wake-up (`hold`: the request may wait, as under
  // wake_policy = "hold" or when the request pinned this upstream).
  Readiness prepare(bool hold);
  // A request being forwarded: counts it in flight (the idle clock stops) until end_request.
  void begin_request();
  // `ok`: it answered; else a failure for the circuit breaker.
  void end_request(bool ok);

  // Synchronous health probe; updates the state.
  bool check_health();
  // Periodic work, from the router's monitor thread: the idle sleep command.
  void tick();

  struct Stats {
    UpstreamState state = UpstreamState::kUnknown;
    int64_t wake_cycles = 0;      // wake-ups started
    int64_t wake_packets = 0;     // magic packets sent
    int64_t sleep_commands = 0;   // sleep_command runs
    int64_t circuit_opens = 0;
    int in_flight = 0;
  };
  Stats stats() const;

 private:
  using Clock = std::chrono::steady_clock;
  void start_wake_locked();  // under mu_
  void waker(Clock::time_point deadline);
  void record_failure_locked(Clock::time_point now);
  void set_state_locked(UpstreamState s);

  const UpstreamBackend config_;
  HttpUrl url_;
  server::Counter* m_wake_packets_ = nullptr;
  server::Counter* m_wakeups_ = nullptr;
  server::Counter* m_sleeps_ = nullptr;
  server::Counter* m_circuit_opens_ = nullptr;
  server::Gauge* m_up_ = nullptr;

  mutable std::mutex mu_;
  std::condition_variable cv_;  // state changes; stop
  UpstreamState state_ = UpstreamState::kUnknown;
  Clock::time_point last_ok_{};        // last successful probe or answer
  Clock::time_point last_activity_;    // idle clock
  Clock::time_point wake_deadline_{};
  Clock::time_point circuit_open_until_{};
  int consecutive_failures_ = 0;
  int circuit_trips_ = 0;
  int in_flight_ = 0;
  bool slept_ = false;  // sleep_command ran and nothing happened since
  bool stop_ = false;
  Stats stats_;
  std::thread waker_;
};

// Runs `command` with /bin/sh -c, killing it after timeout_s. Returns its exit status (128 + n for
// signal n; the kill after a timeout is an error).
Result<int> run_command(const std::string& command, double timeout_s);

}  // namespace hearth::router
