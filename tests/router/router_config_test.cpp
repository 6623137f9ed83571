#include "router/router_config.h"

#include <gtest/gtest.h>

namespace hearth::router {
namespace {

constexpr const char* kIssueExample = R"(
[[local]]
name = "pi"                      # backend name, shown in X-Hearth-Route
model = "/srv/models/qwen2.5-1.5b-instruct-q4_k_m.gguf"
alias = ["fast", "qwen2.5-1.5b"]

[[upstream]]
name = "gpu"
url = "http://gpu-box.lan:8080/v1"   # any OpenAI-compatible server
models = ["smart", "llama3.1-8b"]    # or: discover = true
api_key = ""
timeout_s = 600
wake_mac = "aa:bb:cc:dd:ee:ff"       # optional Wake-on-LAN block
wake_address = "192.168.1.255"       # where the magic packet goes (UDP)
wake_port = 9
wake_wait_s = 120
wake_policy = "hold"                 # or "local"
sleep_after_idle_s = 900             # optional
sleep_command = "ssh gpu-box sudo systemctl suspend"

[route]
latency_budget_s = 20                # estimated local time above this goes upstream
)";

TEST(RouterConfig, ParsesTheIssueExample) {
  Result<RouterConfig> c = parse_router_config(kIssueExample, "hearth.toml");
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_EQ(c->locals.size(), 1u);
  EXPECT_EQ(c->locals[0].name, "pi");
  EXPECT_EQ(c->locals[0].model, "/srv/models/qwen2.5-1.5b-instruct-q4_k_m.gguf");
  EXPECT_EQ(c->locals[0].aliases, (std::vector<std::string>{"fast", "qwen2.5-1.5b"}));
  ASSERT_EQ(c->upstreams.size(), 1u);
  const UpstreamBackend& u = c->upstreams[0];
  EXPECT_EQ(u.name, "gpu");
  EXPECT_EQ(u.url, "http://gpu-box.lan:8080/v1");
  EXPECT_EQ(u.models, (std::vector<std::string>{"smart", "llama3.1-8b"}));
  EXPECT_EQ(u.timeout_s, 600);
  ASSERT_TRUE(u.wake.has_value());
  EXPECT_EQ(u.wake->mac, (std::array<uint8_t, 6>{0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}));
  EXPECT_EQ(u.wake->address, "192.168.1.255");
  EXPECT_EQ(u.wake->port, 9);
  EXPECT_EQ(u.wake->wait_s, 120);
  EXPECT_EQ(u.wake->policy, WakePolicy::kHold);
  EXPECT_EQ(u.sleep_after_idle_s, 900);
  EXPECT_EQ(u.sleep_command, "ssh gpu-box sudo systemctl suspend");
  EXPECT_EQ(c->route.latency_budget_s, 20);
  EXPECT_TRUE(c->routing_enabled());
}

TEST(RouterConfig, IgnoresTheServerTables) {
  Result<RouterConfig> c = parse_router_config("[server]\nport = 8080\n[[models]]\npath = \"a.gguf\"\n", "x.toml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_FALSE(c->routing_enabled());
}

TEST(RouterConfig, RelativeModelPathsAreRelativeToTheFile) {
  Result<RouterConfig> c = parse_router_config("[[local]]\nmodel = \"m/a.gguf\"\n", "/etc/hearth/hearth.toml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->locals[0].model, "/etc/hearth/m/a.gguf");
  EXPECT_EQ(c->locals[0].name, "a");  // no name: the file's stem
}

// Each error names the file and the line of the offending key.
void expect_error(const std::string& toml, const std::string& where, const std::string& what) {
  Result<RouterConfig> c = parse_router_config(toml, "h.toml");
  ASSERT_FALSE(c) << toml;
  EXPECT_NE(c.error().message.find(where), std::string::npos) << c.error().message;
  EXPECT_NE(c.error().message.find(what), std::string::npos) << c.error().message;
}

TEST(RouterConfig, ErrorsNameTheLine) {
  const std::string up = "[[upstream]]\nname = \"gpu\"\nurl = \"http://h:1/v1\"\nmodels = [\"m\"]\n";
  expect_error(up + "wake_mac = \"aa:bb:cc:dd:ee\"\n", "h.toml:5:", "MAC");
  expect_error(up + "wake_adress = \"1.2.3.4\"\n", "h.toml:5:", "unknown key 'wake_adress'");
  expect_error(up + "wake_mac = \"aa:bb:cc:dd:ee:ff\"\nwake_policy = \"nap\"\n", "h.toml:6:", "wake_policy");
  expect_error(up + "timeout_s = \"long\"\n", "h.toml:5:", "timeout_s");
  expect_error(up + "wake_port = 70000\n", "h.toml:5:", "wake_port");
  expect_error(up + "sleep_after_idle_s = 60\n", "h.toml:5:", "sleep_command");
  expect_error("[[upstream]]\nname = \"gpu\"\nurl = \"https://h/v1\"\nmodels = [\"m\"]\n", "h.toml:3:", "http://");
  expect_error("[[upstream]]\nname = \"gpu\"\nurl = \"http://h/v1\"\n", "h.toml:1:", "models");
  expect_error("[route]\nlatency_budget_s = -1\n", "h.toml:2:", "latency_budget_s");
  expect_error("[route]\nlatency_budget_s = 3\nbudget = 4\n", "h.toml:3:", "unknown key 'budget'");
  expect_error("[[local]]\nname = \"pi\"\n", "h.toml:1:", "model");
  expect_error("[route\n", "h.toml:1:", "");  // a TOML syntax error
  expect_error("x = 1\n[[local]]\nmodel = 3\n", "h.toml:3:", "'model' must be a string");
}

TEST(RouterConfig, NamesAndAliasesAreUnique) {
  expect_error("[[local]]\nname = \"a\"\nmodel = \"x\"\n[[local]]\nname = \"a\"\nmodel = \"y\"\n", "h.toml", "used twice");
  expect_error(
      "[[local]]\nname = \"pi\"\nmodel = \"x\"\nalias = [\"smart\"]\n"
      "[[upstream]]\nname = \"gpu\"\nurl = \"http://h/v1\"\nmodels = [\"smart\"]\n",
      "h.toml", "'smart' maps to two backends");
  expect_error("[[local]]\nname = \"pi\"\nmodel = \"x\"\n[route]\nupstream = \"gpu\"\n", "h.toml", "not an [[upstream]]");
}

TEST(RouterConfig, ClassifierTable) {
  Result<RouterConfig> c = parse_router_config(
      "[[local]]\nname = \"pi\"\nmodel = \"x\"\n"
      "[[upstream]]\nname = \"gpu\"\nurl = \"http://h/v1\"\nmodels = [\"big\"]\n"
      "[route.classifier]\nmodel = \"pi\"\nprompt = \"Label: {input}\"\nlabels = { short = \"pi\", long = \"gpu\" }\n",
      "h.toml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->route.classifier.model, "pi");
  EXPECT_EQ(c->route.classifier.labels.at("long"), "gpu");
  EXPECT_EQ(c->route.classifier.threshold, 0);
  EXPECT_FALSE(c->route.classifier.chat);
  c = parse_router_config(
      "[[local]]\nname = \"pi\"\nmodel = \"x\"\n"
      "[route.classifier]\nmodel = \"pi\"\nprompt = \"{input}\"\nlabels = { a = \"pi\" }\n"
      "threshold = 0.7\ntimeout_s = 1.5\nchat = true\n",
      "h.toml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_DOUBLE_EQ(c->route.classifier.threshold, 0.7);
  EXPECT_DOUBLE_EQ(c->route.classifier.timeout_s, 1.5);
  EXPECT_TRUE(c->route.classifier.chat);
  expect_error(
      "[[local]]\nname = \"pi\"\nmodel = \"x\"\n[route.classifier]\nmodel = \"pi\"\nprompt = \"{input}\"\n"
      "labels = { a = \"pi\" }\nthreshold = 1.5\n",
      "h.toml:8:", "'threshold' must be a number from 0 to 1");
  expect_error(
      "[[local]]\nname = \"pi\"\nmodel = \"x\"\n[route.classifier]\nmodel = \"pi\"\nprompt = \"no slot\"\nlabels = { a = \"pi\" }\n",
      "h.toml:4:", "{input}");
}

TEST(RouterConfig, MacAddresses) {
  EXPECT_EQ(*parse_mac("00:11:22:AA:bb:Cc"), (std::array<uint8_t, 6>{0x00, 0x11, 0x22, 0xaa, 0xbb, 0xcc}));
  EXPECT_EQ(*parse_mac("00-11-22-aa-bb-cc"), (std::array<uint8_t, 6>{0x00, 0x11, 0x22, 0xaa, 0xbb, 0xcc}));
  EXPECT_EQ(*parse_mac("001122aabbcc"), (std::array<uint8_t, 6>{0x00, 0x11, 0x22, 0xaa, 0xbb, 0xcc}));
  for (const char* bad : {"", "00:11:22:aa:bb", "00:11:22:aa:bb:cc:dd", "0:11:22:aa:bb:cc0", "00:11-22:aa:bb:cc",
                          "00:11:22:aa:bb:gg", "00::11:22:aa:bb:cc", "00:11:22:aa:bb:cc:", "001122aabbc"}) {
    Result<std::array<uint8_t, 6>> m = parse_mac(bad);
    EXPECT_FALSE(m) << bad;
    if (!m) EXPECT_NE(m.error().message.find("MAC address"), std::string::npos);
  }
}

}  // namespace
}  // namespace hearth::router
