// The router against real HTTP servers on loopback: a fake upstream (httplib, misbehaving on
// demand) behind a front server whose handlers call Router::handle first and otherwise answer as
// a stand-in "local model". Wake-on-LAN packets go only to a UDP listener on 127.0.0.1.
// Sockets and threads are slow and pointless under qemu: skipped in the cross build.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "router/http_client.h"
#include "router/router.h"
#include "router/translate.h"
#include "router/wake_on_lan.h"
#include "server/metrics.h"

namespace hearth::router {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

bool cross_build() { return std::string(HEARTH_BINARY).find("hearth-emulated") != std::string::npos; }

#define SKIP_UNDER_QEMU() \
  if (cross_build()) GTEST_SKIP() << "loopback HTTP tests run on the native build only"

// A port nothing listens on (bound, read, released).
int free_port() {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);
  return ntohs(a.sin_port);
}

// Waits for `pred` up to 20 s (a bound for a hung test, not a timing assertion).
template <class F>
bool eventually(F pred) {
  for (int i = 0; i < 2000; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

class Gate {  // lets a test hold the fake upstream mid-stream
 public:
  void open() {
    std::lock_guard<std::mutex> l(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait_for(l, 20s, [&] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

enum class Mode { kOk, k500, kDropBeforeTokens, kDropMidStream, kStall };

// An OpenAI-compatible server answering "up" + the model name, streaming word by word.
class FakeUpstream {
 public:
  explicit FakeUpstream(int port = 0) {
    svr_.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
      ++probes;
      if (models_down) {
        res.status = 503;
        return;
      }
      res.set_content(json{{"object", "list"}, {"data", {{{"id", "smart"}}, {{"id", "found-by-discovery"}}}}}.dump(),
                      "application/json");
    });
    auto completion = [this](const httplib::Request& req, httplib::Response& res) {
      ++requests;
      const json body = json::parse(req.body);
      {
        std::lock_guard<std::mutex> l(mu_);
        last_body = body;
        last_auth = req.get_header_value("Authorization");
      }
      const Mode m = mode.load();
      if (m == Mode::k500) {
        res.status = 500;
        res.set_content(R"({"error":{"message":"boom"}})", "application/json");
        return;
      }
      if (m == Mode::kStall) {
        std::this_thread::sleep_for(1500ms);
        res.set_content("{}", "application/json");
        return;
      }
      const std::string model = body.value("model", "");
      if (!body.value("stream", false)) {
        res.set_content(json{{"choices", {{{"message", {{"role", "assistant"}, {"content", "up " + model}}},
                                           {"finish_reason", "stop"}}}},
                             {"usage", {{"prompt_tokens", 4}, {"completion_tokens", 2}}}}
                            .dump(),
                        "application/json");
        return;
      }
      res.set_chunked_content_provider("text/event-stream", [this, m, model](size_t, httplib::DataSink& sink) {
        if (m == Mode::kDropBeforeTokens) return false;  // headers only, then the connection drops
        auto event = [&](const std::string& text) {
          const std::string e =
              "data: " + json{{"choices", {{{"delta", {{"content", text}}}, {"index", 0}}}}}.dump() + "\n\n";
          sink.write(e.data(), e.size());
        };
        event("up");
        if (hold_mid_stream) gate.wait();
        if (m == Mode::kDropMidStream) return false;
        event(" " + model);
        const std::string usage = "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":2}}\n\n";
        sink.write(usage.data(), usage.size());
        const std::string done = "data: [DONE]\n\n";
        sink.write(done.data(), done.size());
        sink.done();
        return true;
      });
    };
    svr_.Post("/v1/chat/completions", completion);
    svr_.Post("/v1/completions", completion);
    port_ = port ? (svr_.bind_to_port("127.0.0.1", port) ? port : -1) : svr_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
  }
  ~FakeUpstream() {
    gate.open();
    svr_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }
  json body() {
    std::lock_guard<std::mutex> l(mu_);
    return last_body;
  }

  std::atomic<Mode> mode{Mode::kOk};
  std::atomic<bool> models_down{false};
  std::atomic<bool> hold_mid_stream{false};
  std::atomic<int> requests{0};
  std::atomic<int> probes{0};
  Gate gate;
  std::string last_auth;

 private:
  httplib::Server svr_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  json last_body;
};

// The front door: the router first, then a stand-in for the local model.
class Front {
 public:
  explicit Front(Router& router) {
    auto handler = [&router, this](const httplib::Request& req, httplib::Response& res) {
      if (router.handle(req, res)) return;
      ++local_requests;
      const json body = json::parse(req.body);
      res.set_content(json{{"local", true}, {"model", body.value("model", "")}}.dump(), "application/json");
    };
    for (const char* p : {"/v1/chat/completions", "/v1/completions", "/api/chat", "/api/generate"}) svr_.Post(p, handler);
    port_ = svr_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
  }
  ~Front() {
    svr_.stop();
    thread_.join();
  }
  HttpUrl url() const { return {"127.0.0.1", port_, ""}; }
  std::atomic<int> local_requests{0};

 private:
  httplib::Server svr_;
  int port_ = 0;
  std::thread thread_;
};

struct Reply {
  int status = 0;
  std::string route;
  std::string body;
};

Reply post(const Front& front, const std::string& path, const json& body) {
  Result<std::unique_ptr<HttpConnection>> c =
      HttpConnection::request(front.url(), "POST", path, {{"Content-Type", "application/json"}}, body.dump(), {5, 30});
  EXPECT_TRUE(c) << (c ? "" : c.error().message);
  if (!c) return {};
  Reply r{(*c)->status(), (*c)->header("X-Hearth-Route"), ""};
  Result<std::string> all = (*c)->read_all();
  EXPECT_TRUE(all) << (all ? "" : all.error().message);
  if (all) r.body = *all;
  return r;
}

json chat(const std::string& model, bool stream = false, int max_tokens = 8) {
  return {{"model", model}, {"stream", stream}, {"max_tokens", max_tokens}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}};
}

RouterConfig make_config(const std::string& upstream_url, const std::string& extra = "") {
  Result<RouterConfig> c = parse_router_config(R"(
[[local]]
name = "pi"
model = "/m/pi.gguf"
alias = ["fast"]
prefill_tps = 100
gen_tps = 10
[[upstream]]
name = "gpu"
url = ")" + upstream_url + R"("
models = ["smart"]
api_key = "sekret"
timeout_s = 0.5
health_timeout_s = 1
health_interval_s = 0.05
failure_threshold = 2
backoff_s = 600
)" + extra + R"(
[route]
latency_budget_s = 20
)",
                                               "t.toml");
  EXPECT_TRUE(c) << c.error().message;
  return c ? *c : RouterConfig{};
}

TEST(RouterProxy, PinnedNonStreamingGoesUpstream) {
  SKIP_UNDER_QEMU();
  FakeUpstream up;
  server::MetricsRegistry metrics;
  auto router = Router::create(make_config(up.url()), &metrics);
  Front front(*router);
  Reply r = post(front, "/v1/chat/completions", chat("smart"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.route, "gpu; reason=alias");
  EXPECT_EQ(json::parse(r.body)["choices"][0]["message"]["content"], "up smart");
  EXPECT_EQ(up.last_auth, "Bearer sekret");
  EXPECT_EQ(front.local_requests, 0);
  const std::string scrape = metrics.render();
  EXPECT_NE(scrape.find("hearth_router_requests_total{backend=\"gpu\",rule=\"alias\"} 1"), std::string::npos) << scrape;
  EXPECT_NE(scrape.find("hearth_router_upstream_tokens_total{backend=\"gpu\",kind=\"completion\"} 2"), std::string::npos);
  // Timings per backend and rule (the durations themselves are not asserted).
  EXPECT_NE(scrape.find("hearth_router_upstream_first_event_seconds_count{backend=\"gpu\",rule=\"alias\"} 1"),
            std::string::npos) << scrape;
  EXPECT_NE(scrape.find("hearth_router_upstream_request_seconds_count{backend=\"gpu\",rule=\"alias\"} 1"),
            std::string::npos) << scrape;
}

TEST(RouterProxy, LocalAliasIsRewrittenForTheLocalHandler) {
  SKIP_UNDER_QEMU();
  FakeUpstream up;
  auto router = Router::create(make_config(up.url()), nullptr);
  Front front(*router);
  Reply r = post(front, "/v1/chat/completions", chat("fast"));
  EXPECT_EQ(r.route, "pi; reason=alias");
  EXPECT_EQ(json::parse(r.body)["model"], "pi");
  r = post(front, "/v1/chat/completions", chat("auto"));
  EXPECT_EQ(r.route, "pi; reason=default");
  // Cost: 1000 tokens at 10 tok/s is over the 20 s budget.
  r = post(front, "/v1/chat/completions", chat("auto", false, 1000));
  EXPECT_EQ(r.route, "gpu; reason=cost(est=100.0s>20s)");
  EXPECT_EQ(up.body()["model"], "smart");
}

TEST(RouterProxy, StreamsPieceByPiece) {
  SKIP_UNDER_QEMU();
  FakeUpstream up;
  up.hold_mid_stream = true;
  auto router = Router::create(make_config(up.url()), nullptr);
  Front front(*router);
  Result<std::unique_ptr<HttpConnection>> c =
      HttpConnection::request(front.url(), "POST", "/v1/chat/completions", {}, chat("smart", true).dump(), {5, 30});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ((*c)->status(), 200);
  EXPECT_EQ((*c)->header("X-Hearth-Route"), "gpu; reason=alias");
  EXPECT_EQ((*c)->header("Content-Type").rfind("text/event-stream", 0), 0u);
  // The first event arrives while the upstream is still held: nothing is buffered whole.
  std::string got;
  while (got.find("\n\n") == std::string::npos) {
    Result<bool> more = (*c)->read_some(got);
    ASSERT_TRUE(more && *more);
  }
  EXPECT_NE(got.find("\"up\""), std::string::npos);
  up.gate.open();
  Result<std::string> rest = (*c)->read_all();
  ASSERT_TRUE(rest) << rest.error().message;
  got += *rest;
  EXPECT_NE(got.find(" smart"), std::string::npos);
  EXPECT_NE(got.find("data: [DONE]"), std::string::npos);
}

TEST(RouterProxy, OllamaRequestsAreTranslated) {
  SKIP_UNDER_QEMU();
  FakeUpstream up;
  auto router = Router::create(make_config(up.url()), nullptr);
  Front front(*router);
  json req = {{"model", "smart"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"options", {{"num_predict", 5}}}};
  Reply r = post(front, "/api/chat", req);  // Ollama streams by default
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(up.body()["max_tokens"], 5);
  std::istringstream lines(r.body);
  std::vector<json> js;
  for (std::string l; std::getline(lines, l);) js.push_back(json::parse(l));
  ASSERT_EQ(js.size(), 3u) << r.body;
  EXPECT_EQ(js[0]["message"]["content"], "up");
  EXPECT_EQ(js[1]["message"]["content"], " smart");
  EXPECT_EQ(js[2]["done"], true);
  EXPECT_EQ(js[2]["eval_count"], 2);

  r = post(front, "/api/generate", {{"model", "smart"}, {"prompt", "hi"}, {"stream", false}});
  EXPECT_EQ(r.status, 200);
  json g = json::parse(r.body);
  EXPECT_EQ(g["response"], "up smart");
  EXPECT_EQ(g["done"], true);
}

TEST(RouterProxy, FailuresBeforeAnyTokenFallBackOrAre503WhenPinned) {
  SKIP_UNDER_QEMU();
  FakeUpstream up;
  RouterConfig cfg = make_config(up.url());
  cfg.upstreams[0].failure_threshold = 100;
  auto router = Router::create(cfg, nullptr);
  Front front(*router);
  const json heavy = chat("auto", true, 1000);

  up.mode = Mode::k500;
  Reply r = post(front, "/v1/chat/completions", heavy);
  EXPECT_EQ(r.route, "pi; reason=fallback:upstream-500");
  EXPECT_EQ(json::parse(r.body)["local"], true);
  r = post(front, "/v1/chat/completions", chat("smart"));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.route, "gpu; reason=upstream-500");
  EXPECT_NE(json::parse(r.body)["error"]["message"].get<std::string>().find("unavailable"), std::string::npos);

  up.mode = Mode::kDropBeforeTokens;
  r = post(front, "/v1/chat/completions", heavy);
  EXPECT_EQ(r.route, "pi; reason=fallback:upstream-error");

  up.mode = Mode::kStall;  // slower than timeout_s
  r = post(front, "/v1/chat/completions", heavy);
  EXPECT_EQ(r.route, "pi; reason=fallback:upstream-error");
}

TEST(RouterProxy, DropMidStreamEndsWithAnErrorEvent) {
  SKIP_UNDER_QEMU();
  FakeUpstream up;
  up.mode = Mode::kDropMidStream;
  auto router = Router::create(make_config(up.url()), nullptr);
  Front front(*router);
  Reply r = post(front, "/v1/chat/completions", chat("smart", true));
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"up\""), std::string::npos);
  EXPECT_NE(r.body.find("upstream failed mid-stream"), std::string::npos) << r.body;
}

TEST(RouterProxy, RefusedUpstreamIsDown) {
  SKIP_UNDER_QEMU();
  auto router = Router::create(make_config("http://127.0.0.1:" + std::to_string(free_port()) + "/v1"), nullptr);
  Front front(*router);
  Reply r = post(front, "/v1/chat/completions", chat("auto", false, 1000));
  EXPECT_EQ(r.route, "pi; reason=fallback:upstream-down");
  r = post(front, "/v1/chat/completions", chat("smart"));
  EXPECT_EQ(r.status, 503);
}

TEST(RouterProxy, CircuitBreakerOpensAfterRepeatedFailures) {
  SKIP_UNDER_QEMU();
  FakeUpstream up;
  up.mode = Mode::k500;
  auto router = Router::create(make_config(up.url()), nullptr);  // threshold 2, back-off 600 s
  Front front(*router);
  const json heavy = chat("auto", false, 1000);
  EXPECT_EQ(post(front, "/v1/chat/completions", heavy).route, "pi; reason=fallback:upstream-500");
  EXPECT_EQ(post(front, "/v1/chat/completions", heavy).route, "pi; reason=fallback:upstream-500");
  const int before = up.requests;
  up.mode = Mode::kOk;
  EXPECT_EQ(post(front, "/v1/chat/completions", heavy).route, "pi; reason=fallback:circuit-open");
  EXPECT_EQ(post(front, "/v1/chat/completions", chat("smart")).status, 503);
  EXPECT_EQ(up.requests, before);  // the upstream was left alone
  EXPECT_EQ(router->state()->upstreams.at("gpu")->stats().circuit_opens, 1);
}

TEST(RouterProxy, HealthProbeTimesOutOnAStalledBox) {
  SKIP_UNDER_QEMU();
  // A listener that accepts and never answers: a box that suspended under open connections.
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(s, 16), 0);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  RouterConfig cfg = make_config("http://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/v1");
  cfg.upstreams[0].health_timeout_s = 0.2;
  auto router = Router::create(cfg, nullptr);
  Front front(*router);
  EXPECT_EQ(post(front, "/v1/chat/completions", chat("auto", false, 1000)).route, "pi; reason=fallback:upstream-down");
  ::close(s);
}

// A UDP listener on 127.0.0.1 counting magic packets; the first one starts the upstream.
class WakeTarget {
 public:
  WakeTarget() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    udp_port = ntohs(a.sin_port);
    http_port = free_port();
    thread_ = std::thread([this] {
      while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 20) != 1) continue;
        uint8_t buf[256];
        const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n != 102 || std::vector<uint8_t>(buf, buf + n) != magic_packet(mac)) {
          ++bad_packets;
          continue;
        }
        if (packets++ == 0 && start_on_wake) upstream = std::make_unique<FakeUpstream>(http_port);
      }
    });
  }
  ~WakeTarget() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::string wake_block(const std::string& policy, double wait_s) const {
    return "wake_mac = \"02:00:00:aa:bb:cc\"\nwake_address = \"127.0.0.1\"\nwake_port = " + std::to_string(udp_port) +
           "\nwake_resend_s = 0.05\nwake_wait_s = " + std::to_string(wait_s) + "\nwake_policy = \"" + policy + "\"\n";
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(http_port) + "/v1"; }

  const std::array<uint8_t, 6> mac = {0x02, 0x00, 0x00, 0xaa, 0xbb, 0xcc};
  int udp_port = 0;
  int http_port = 0;
  bool start_on_wake = true;
  std::atomic<int> packets{0};
  std::atomic<int> bad_packets{0};
  std::unique_ptr<FakeUpstream> upstream;

 private:
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST(RouterWake, HeldRequestsShareOneWakeUp) {
  SKIP_UNDER_QEMU();
  WakeTarget target;
  auto router = Router::create(make_config(target.url(), target.wake_block("hold", 20)), nullptr);
  Front front(*router);
  std::vector<std::future<Reply>> replies;
  for (int i = 0; i < 4; ++i)
    replies.push_back(std::async(std::launch::async, [&] { return post(front, "/v1/chat/completions", chat("auto", false, 1000)); }));
  for (auto& f : replies) {
    Reply r = f.get();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.route.rfind("gpu; reason=cost", 0), 0u) << r.route;
    EXPECT_EQ(json::parse(r.body)["choices"][0]["message"]["content"], "up smart");
  }
  const Upstream::Stats st = router->state()->upstreams.at("gpu")->stats();
  EXPECT_EQ(st.wake_cycles, 1);
  EXPECT_GE(target.packets, 1);
  EXPECT_EQ(target.bad_packets, 0);
  EXPECT_EQ(st.state, UpstreamState::kUp);
}

TEST(RouterWake, LocalPolicyAnswersLocallyWhileTheBoxWakes) {
  SKIP_UNDER_QEMU();
  WakeTarget target;
  auto router = Router::create(make_config(target.url(), target.wake_block("local", 20)), nullptr);
  Front front(*router);
  Reply r = post(front, "/v1/chat/completions", chat("auto", false, 1000));
  EXPECT_EQ(r.route, "pi; reason=fallback:upstream-waking");
  Upstream& up = *router->state()->upstreams.at("gpu");
  ASSERT_TRUE(eventually([&] { return up.stats().state == UpstreamState::kUp; }));
  r = post(front, "/v1/chat/completions", chat("auto", false, 1000));
  EXPECT_EQ(r.route.rfind("gpu; reason=cost", 0), 0u) << r.route;
  // A request that pins the upstream is held even under policy local.
  EXPECT_EQ(post(front, "/v1/chat/completions", chat("smart")).status, 200);
}

TEST(RouterWake, NoWakeInTimeFallsBackOr503) {
  SKIP_UNDER_QEMU();
  WakeTarget target;
  target.start_on_wake = false;
  auto router = Router::create(make_config(target.url(), target.wake_block("hold", 0.3)), nullptr);
  Front front(*router);
  EXPECT_EQ(post(front, "/v1/chat/completions", chat("auto", false, 1000)).route, "pi; reason=fallback:wake-timeout");
  EXPECT_GE(target.packets, 1);
  Reply r = post(front, "/v1/chat/completions", chat("smart"));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.route, "gpu; reason=wake-timeout");
}

TEST(RouterIdle, SleepCommandRunsAfterIdleNeverInFlight) {
  SKIP_UNDER_QEMU();
  FakeUpstream up;
  const std::filesystem::path marker =
      std::filesystem::temp_directory_path() / ("hearth-router-slept-" + std::to_string(::getpid()));
  std::filesystem::remove(marker);
  RouterConfig cfg =
      make_config(up.url(), "sleep_after_idle_s = 0.2\nsleep_command = \"touch '" + marker.string() + "'\"\n");
  cfg.upstreams[0].timeout_s = 30;  // the held stream must outlive the idle periods below
  auto router = Router::create(cfg, nullptr);
  Front front(*router);
  up.hold_mid_stream = true;
  Result<std::unique_ptr<HttpConnection>> c =
      HttpConnection::request(front.url(), "POST", "/v1/chat/completions", {}, chat("smart", true).dump(), {5, 30});
  ASSERT_TRUE(c);
  Upstream& u = *router->state()->upstreams.at("gpu");
  EXPECT_EQ(u.stats().in_flight, 1);
  std::this_thread::sleep_for(800ms);  // four idle periods with a stream open
  EXPECT_FALSE(std::filesystem::exists(marker));
  EXPECT_EQ(u.stats().sleep_commands, 0);
  up.gate.open();
  ASSERT_TRUE((*c)->read_all());
  c->reset();
  ASSERT_TRUE(eventually([&] { return std::filesystem::exists(marker); }));
  EXPECT_EQ(u.stats().sleep_commands, 1);
  EXPECT_EQ(u.stats().state, UpstreamState::kDown);
  std::filesystem::remove(marker);
}

TEST(RouterReload, NewConfigForNewRequestsInFlightKeepTheirs) {
  SKIP_UNDER_QEMU();
  FakeUpstream up;
  up.hold_mid_stream = true;
  auto router = Router::create(make_config(up.url()), nullptr);
  Front front(*router);
  Result<std::unique_ptr<HttpConnection>> c =
      HttpConnection::request(front.url(), "POST", "/v1/chat/completions", {}, chat("smart", true).dump(), {5, 30});
  ASSERT_TRUE(c);
  // The upstream is renamed: "smart" is no longer an alias, so new requests stay local.
  RouterConfig next = make_config(up.url());
  next.upstreams[0].models = {"clever"};
  router->reload(next);
  EXPECT_EQ(post(front, "/v1/chat/completions", chat("smart")).route, "pi; reason=unknown-model");
  EXPECT_EQ(post(front, "/v1/chat/completions", chat("clever")).route, "gpu; reason=alias");
  up.gate.open();
  Result<std::string> rest = (*c)->read_all();
  ASSERT_TRUE(rest);
  EXPECT_NE(rest->find("data: [DONE]"), std::string::npos);
}

TEST(RouterDiscover, ModelsListedByTheUpstreamBecomeNames) {
  SKIP_UNDER_QEMU();
  FakeUpstream up;
  RouterConfig cfg = make_config(up.url());
  cfg.upstreams[0].discover = true;
  auto router = Router::create(cfg, nullptr);
  Front front(*router);
  ASSERT_TRUE(eventually([&] {
    const std::shared_ptr<const RouterState> st = router->state();
    const auto& m = st->config.upstreams[0].models;
    return std::find(m.begin(), m.end(), "found-by-discovery") != m.end();
  }));
  EXPECT_EQ(post(front, "/v1/chat/completions", chat("found-by-discovery")).route, "gpu; reason=alias");
}

TEST(RunCommand, ExitStatusAndTimeout) {
  EXPECT_EQ(*run_command("exit 3", 10), 3);
  Result<int> r = run_command("sleep 5", 0.2);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("killed"), std::string::npos);
}

TEST(HttpUrl, Parsing) {
  Result<HttpUrl> u = parse_http_url("http://gpu-box.lan:8080/v1/");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "gpu-box.lan");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->path, "/v1");
  u = parse_http_url("http://[::1]/");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 80);
  EXPECT_FALSE(parse_http_url("https://x/v1"));
  EXPECT_FALSE(parse_http_url("http://x:99999/v1"));
  EXPECT_FALSE(parse_http_url("http://:80/"));
}

}  // namespace
}  // namespace hearth::router
