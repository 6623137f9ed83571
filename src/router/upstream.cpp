// See upstream.h.
#include "router/upstream.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "router/wake_on_lan.h"
#include "server/metrics.h"

extern char** environ;

namespace hearth::router {
namespace {

using Clock = std::chrono::steady_clock;

Clock::duration seconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

}  // namespace

const char* state_name(UpstreamState s) {
  switch (s) {
    case UpstreamState::kUnknown: return "unknown";
    case UpstreamState::kUp: return "up";
    case UpstreamState::kDown: return "down";
    case UpstreamState::kWaking: return "waking";
  }
  return "?";
}

const char* readiness_reason(Readiness r) {
  switch (r) {
    case Readiness::kReady: return "ready";
    case Readiness::kDown: return "upstream-down";
    case Readiness::kWaking: return "upstream-waking";
    case Readiness::kWakeTimeout: return "wake-timeout";
    case Readiness::kCircuitOpen: return "circuit-open";
  }
  return "?";
}

Upstream::Upstream(UpstreamBackend config, server::MetricsRegistry* metrics)
    : config_(std::move(config)), last_activity_(Clock::now()) {
  if (Result<HttpUrl> u = parse_http_url(config_.url)) url_ = *u;  // validated with the config
  if (metrics) {
    const server::Labels l = {{"upstream", config_.name}};
    m_wake_packets_ = &metrics->counter("hearth_router_wake_packets_total", "Wake-on-LAN magic packets sent", l);
    m_wakeups_ = &metrics->counter("hearth_router_wakeups_total", "Wake-ups started (shared by the requests that wait)", l);
    m_sleeps_ = &metrics->counter("hearth_router_sleep_commands_total", "sleep_command runs after idleness", l);
    m_circuit_opens_ = &metrics->counter("hearth_router_circuit_opens_total", "Times repeated failures opened the circuit", l);
    m_up_ = &metrics->gauge("hearth_router_upstream_up", "1 when the upstream answered its last health check", l);
  }
}

Upstream::~Upstream() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (waker_.joinable()) waker_.join();
}

HttpHeaders Upstream::auth_headers() const {
  if (config_.api_key.empty()) return {};
  return {{"Authorization", "Bearer " + config_.api_key}};
}

void Upstream::set_state_locked(UpstreamState s) {
  if (state_ != s) {
    state_ = s;
    cv_.notify_all();
  }
  if (m_up_) m_up_->set(s == UpstreamState::kUp ? 1 : 0);
}

bool Upstream::check_health() {
  const bool up = http_probe(url_, url_.path + "/models", auth_headers(), config_.health_timeout_s);
  std::lock_guard<std::mutex> lock(mu_);
  if (up) {
    last_ok_ = Clock::now();
    if (state_ != UpstreamState::kUp) last_activity_ = last_ok_;  // freshly up: the idle clock restarts
    set_state_locked(UpstreamState::kUp);
  } else if (state_ != UpstreamState::kWaking) {
    set_state_locked(UpstreamState::kDown);
  }
  return up;
}

Readiness Upstream::prepare(bool hold) {
  const auto now = Clock::now();
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (now < circuit_open_until_) return Readiness::kCircuitOpen;
    // Recently seen alive: no probe on the request's path.
    if (state_ == UpstreamState::kUp && now - last_ok_ < seconds(config_.health_interval_s)) return Readiness::kReady;
    if (state_ == UpstreamState::kWaking) {
      if (!hold) return Readiness::kWaking;
      cv_.wait_until(lock, wake_deadline_, [&] { return stop_ || state_ != UpstreamState::kWaking; });
      return state_ == UpstreamState::kUp ? Readiness::kReady : Readiness::kWakeTimeout;
    }
  }
  if (check_health()) return Readiness::kReady;
  std::unique_lock<std::mutex> lock(mu_);
  if (!config_.wake) return Readiness::kDown;
  if (state_ != UpstreamState::kWaking) start_wake_locked();
  if (!hold) return Readiness::kWaking;
  cv_.wait_until(lock, wake_deadline_, [&] { return stop_ || state_ != UpstreamState::kWaking; });
  return state_ == UpstreamState::kUp ? Readiness::kReady : Readiness::kWakeTimeout;
}

void Upstream::start_wake_locked() {
  // The previous wake-up has ended (its state is no longer kWaking): collect its thread.
  if (waker_.joinable()) {
    std::thread old = std::move(waker_);
    mu_.unlock();
    old.join();
    mu_.lock();
    if (state_ == UpstreamState::kWaking || stop_) return;  // another request started one meanwhile
  }
  wake_deadline_ = Clock::now() + seconds(config_.wake->wait_s);
  set_state_locked(UpstreamState::kWaking);
  slept_ = false;
  ++stats_.wake_cycles;
  if (m_wakeups_) m_wakeups_->inc();
  std::fprintf(stderr, "hearth router: upstream %s is down, waking it (%s:%d)\n", config_.name.c_str(),
               config_.wake->address.c_str(), config_.wake->port);
  waker_ = std::thread([this, deadline = wake_deadline_] { waker(deadline); });
}

void Upstream::waker(Clock::time_point deadline) {
  const WakeConfig& w = *config_.wake;
  const std::vector<uint8_t> packet = magic_packet(w.mac);
  Result<UdpSocket> sock = UdpSocket::open();
  auto next_send = Clock::now();
  for (;;) {
    const auto now = Clock::now();
    if (now >= next_send && sock) {
      if (Status s = sock->send_to(w.address, w.port, packet); !s)
        std::fprintf(stderr, "hearth router: Wake-on-LAN for %s: %s\n", config_.name.c_str(), s.error().message.c_str());
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++stats_.wake_packets;
      }
      if (m_wake_packets_) m_wake_packets_->inc();
      next_send = now + seconds(w.resend_s);
    }
    const bool up = http_probe(url_, url_.path + "/models", auth_headers(), config_.health_timeout_s);
    std::unique_lock<std::mutex> lock(mu_);
    if (up) {
      last_ok_ = last_activity_ = Clock::now();
      consecutive_failures_ = 0;
      circuit_open_until_ = {};
      set_state_locked(UpstreamState::kUp);
      std::fprintf(stderr, "hearth router: upstream %s is up\n", config_.name.c_str());
      return;
    }
    if (stop_ || Clock::now() >= deadline) {
      set_state_locked(UpstreamState::kDown);
      if (!stop_)
        std::fprintf(stderr, "hearth router: upstream %s did not wake within %.0f s\n", config_.name.c_str(), w.wait_s);
      return;
    }
    const auto wake_at = std::min({Clock::now() + seconds(config_.health_interval_s), next_send, deadline});
    cv_.wait_until(lock, wake_at, [&] { return stop_; });
  }
}

void Upstream::begin_request() {
  std::lock_guard<std::mutex> lock(mu_);
  ++in_flight_;
  last_activity_ = Clock::now();
  slept_ = false;
}

void Upstream::record_failure_locked(Clock::time_point now) {
  last_ok_ = {};  // the next request probes first
  if (++consecutive_failures_ < config_.failure_threshold) return;
  consecutive_failures_ = 0;
  const double factor = double(1 << std::min(circuit_trips_, 4));
  circuit_open_until_ = now + seconds(config_.backoff_s * factor);
  ++circuit_trips_;
  ++stats_.circuit_opens;
  if (m_circuit_opens_) m_circuit_opens_->inc();
  std::fprintf(stderr, "hearth router: upstream %s failed %d times; circuit open for %.0f s\n", config_.name.c_str(),
               config_.failure_threshold, config_.backoff_s * factor);
}

void Upstream::end_request(bool ok) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = Clock::now();
  in_flight_ = std::max(0, in_flight_ - 1);
  last_activity_ = now;
  if (ok) {
    consecutive_failures_ = 0;
    circuit_trips_ = 0;
    last_ok_ = now;
    set_state_locked(UpstreamState::kUp);
  } else {
    record_failure_locked(now);
  }
}

void Upstream::tick() {
  if (config_.sleep_after_idle_s <= 0 || config_.sleep_command.empty()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const auto now = Clock::now();
    if (slept_ || in_flight_ > 0 || state_ == UpstreamState::kWaking || state_ == UpstreamState::kDown) return;
    if (now - last_activity_ < seconds(config_.sleep_after_idle_s)) return;
    // Seen as down from here on, so no request is forwarded to a box that is going to sleep.
    slept_ = true;
    set_state_locked(UpstreamState::kDown);
    ++stats_.sleep_commands;
  }
  if (m_sleeps_) m_sleeps_->inc();
  std::fprintf(stderr, "hearth router: upstream %s idle for %.0f s, running its sleep_command\n", config_.name.c_str(),
               config_.sleep_after_idle_s);
  Result<int> r = run_command(config_.sleep_command, config_.sleep_command_timeout_s);
  if (!r)
    std::fprintf(stderr, "hearth router: sleep_command of %s: %s\n", config_.name.c_str(), r.error().message.c_str());
  else if (*r != 0)
    std::fprintf(stderr, "hearth router: sleep_command of %s exited with %d\n", config_.name.c_str(), *r);
}

Upstream::Stats Upstream::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  Stats s = stats_;
  s.state = state_;
  s.in_flight = in_flight_;
  return s;
}

Result<int> run_command(const std::string& command, double timeout_s) {
  // posix_spawn, not fork: the server is multi-threaded and a forked child may only call
  // async-signal-safe functions.
  const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
  pid_t pid = 0;
  if (int e = ::posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char* const*>(argv), environ); e != 0)
    return Error{std::string("cannot start /bin/sh: ") + std::strerror(e)};
  // Reaps the child on every path out of here.
  struct Child {
    pid_t pid;
    bool reaped = false;
    ~Child() {
      if (!reaped) {
        ::kill(pid, SIGKILL);
        int st = 0;
        ::waitpid(pid, &st, 0);
      }
    }
  } child{pid};
  const auto deadline = Clock::now() + seconds(timeout_s);
  for (;;) {
    int st = 0;
    const pid_t r = ::waitpid(pid, &st, WNOHANG);
    if (r == pid) {
      child.reaped = true;
      if (WIFEXITED(st)) return WEXITSTATUS(st);
      return 128 + WTERMSIG(st);
    }
    if (r < 0 && errno != EINTR) {
      child.reaped = true;
      return Error{std::string("waiting for the command: ") + std::strerror(errno)};
    }
    if (Clock::now() >= deadline) return Error{"the command did not finish within " + std::to_string(int(timeout_s)) + " s; killed"};
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace hearth::router
