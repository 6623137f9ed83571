// The routing half of `hearth serve --config FILE` (docs/router.md): local backends ([[local]]),
// upstream OpenAI-compatible servers ([[upstream]], each with an optional Wake-on-LAN block and an
// idle sleep command) and the policy for requests that pin no backend ([route]). The server's own
// tables ([server], [[models]]) are parsed by server/server_config.cpp; this parser ignores them,
// so both read the same file.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace hearth::router {

// A model this board serves itself. `name` is the backend name shown in X-Hearth-Route and the
// alias the model registry knows it by; `aliases` are further names clients may ask for.
struct LocalBackend {
  std::string name;
  std::filesystem::path model;
  std::vector<std::string> aliases;
  // This board's measured speeds for the model (`hearth bench`: pp and tg, tokens/s); 0: the
  // [route] defaults.
  double prefill_tps = 0;
  double gen_tps = 0;
  bool operator==(const LocalBackend&) const = default;
};

enum class WakePolicy {
  kHold,   // hold the request (up to wake_wait_s) while the upstream wakes, then forward it
  kLocal,  // answer it locally while the upstream wakes; later requests go upstream once healthy
};

struct WakeConfig {
  std::array<uint8_t, 6> mac{};
  std::string address = "255.255.255.255";  // IPv4 address the UDP magic packet is sent to
  int port = 9;
  double wait_s = 120;    // how long a held request waits for the box
  double resend_s = 10;   // the packet is re-sent this often while waiting
  WakePolicy policy = WakePolicy::kHold;
  bool operator==(const WakeConfig&) const = default;
};

struct UpstreamBackend {
  std::string name;
  std::string url;                  // base URL, e.g. http://gpu-box.lan:8080/v1
  std::vector<std::string> models;  // names clients may ask for; the first is the default
  bool discover = false;            // also take the models its GET {url}/models lists
  std::string api_key;              // sent as Authorization: Bearer
  double timeout_s = 600;           // longest wait for the upstream's next byte
  double health_timeout_s = 2;      // health checks: short, so a suspended box is seen as down
  double health_interval_s = 2;     // polling while waking
  int failure_threshold = 3;        // consecutive failures that open the circuit
  double backoff_s = 30;            // first open period; doubles on each re-open, up to 16×
  std::optional<WakeConfig> wake;
  double sleep_after_idle_s = 0;    // > 0 with sleep_command: suspend the box after this idle time
  std::string sleep_command;        // run with /bin/sh -c
  double sleep_command_timeout_s = 30;
  bool operator==(const UpstreamBackend&) const = default;
};

// The optional classifier (router/classifier.h): a local model is prompted with `prompt`
// ({input} replaced by the request's last user text) and scores the first token of each label
// as the next token; the likeliest label picks the backend when its share of the labels'
// probability reaches `threshold`.
struct ClassifierConfig {
  std::string model;                          // a local backend name; "" : no classifier
  std::string prompt;
  std::map<std::string, std::string> labels;  // label -> backend name
  int max_chars = 2000;                       // of the request text put into the prompt
  double threshold = 0;                       // 0..1: the winning label's share needed
  double timeout_s = 5;                       // longest wait (queue + prefill); then rule skipped
  bool chat = false;                          // true: the prompt goes through the chat template
  bool operator==(const ClassifierConfig&) const = default;
};

struct RouteConfig {
  double latency_budget_s = 0;       // 0: no cost rule
  std::string local;                 // backend for unpinned requests; "" : the first [[local]]
  std::string upstream;              // upstream for heavy ones; "" : the first [[upstream]]
  std::vector<std::string> auto_models = {"auto"};  // model names that pin nothing
  double default_prefill_tps = 20;   // for a local backend without prefill_tps (a Pi 5 class board)
  double default_gen_tps = 5;
  int64_t default_max_tokens = 256;  // a request without max_tokens is costed as this many
  double chars_per_token = 4;        // prompt tokens are estimated from characters
  ClassifierConfig classifier;
};

struct RouterConfig {
  std::vector<LocalBackend> locals;
  std::vector<UpstreamBackend> upstreams;
  RouteConfig route;

  bool routing_enabled() const { return !upstreams.empty(); }
  const LocalBackend* find_local(std::string_view name) const;
  const UpstreamBackend* find_upstream(std::string_view name) const;
};

// "aa:bb:cc:dd:ee:ff", "aa-bb-cc-dd-ee-ff" or "aabbccddeeff".
Result<std::array<uint8_t, 6>> parse_mac(std::string_view text);

// `origin` names the text in errors ("file:line: message"); relative model paths are taken
// relative to its folder.
Result<RouterConfig> parse_router_config(std::string_view toml_text, std::string_view origin);
Result<RouterConfig> load_router_config(const std::filesystem::path& path);

// The top-level tables this parser owns, for the server parser to skip.
bool is_router_table(std::string_view key);

}  // namespace hearth::router
