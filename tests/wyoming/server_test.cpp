// The Wyoming TCP listener on 127.0.0.1 with a scripted model: events answered in order over one
// connection, a broken stream answered with an error event and closed, the connection bound.
// Reads are bounded by a poll timeout only to fail instead of hanging; nothing asserts on time.
#include "wyoming/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace hearth::wyoming {
namespace {

using nlohmann::json;

Socket connect_to(int port) {
  Socket s(::socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(s.fd(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return Socket();
  return s;
}

void send_bytes(const Socket& s, const std::string& bytes) {
  ASSERT_EQ(::send(s.fd(), bytes.data(), bytes.size(), MSG_NOSIGNAL), ssize_t(bytes.size()));
}

// Reads until `count` events arrived or the peer closed (closed set then); 30 s per read at most.
std::vector<Event> read_events(const Socket& s, size_t count, bool* closed = nullptr) {
  Decoder d;
  std::vector<Event> out;
  char buf[4096];
  for (int reads = 0; out.size() < count && reads < 10000; ++reads) {
    pollfd p{s.fd(), POLLIN, 0};
    if (::poll(&p, 1, 30000) <= 0) break;
    const ssize_t n = ::recv(s.fd(), buf, sizeof buf, 0);
    if (n <= 0) {
      if (closed) *closed = true;
      break;
    }
    d.feed(std::string_view(buf, size_t(n)));
    while (std::optional<Event> e = d.next()) out.push_back(std::move(*e));
    EXPECT_FALSE(d.failed()) << d.error();
  }
  return out;
}

struct Fixture {
  std::unique_ptr<WyomingServer> server;
  explicit Fixture(WyomingConfig c = {}) {
    c.intents = {{"HassTurnOn", {"name"}, ""}};
    c.entities = {"lamp"};
    auto h = Handler::create(c, "test");
    EXPECT_TRUE(h.ok());
    Generate g = [](const std::vector<chat::Message>& m, std::shared_ptr<const sampling::Grammar>,
                    const WyomingConfig&, const std::function<bool()>&) -> Result<std::string> {
      if (m.back().content == "lamp on") return std::string(R"({"intent":"HassTurnOn","entities":{"name":"lamp"},"text":"ok"})");
      return std::string(R"({"intent":"none","entities":{},"text":"hello"})");
    };
    auto s = WyomingServer::create("127.0.0.1", 0, std::shared_ptr<const Handler>(std::move(*h)), g);
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
    if (s.ok()) server = std::move(*s);
  }
};

Event ev(const std::string& type, json data = json::object()) {
  Event e;
  e.type = type;
  e.data = std::move(data);
  return e;
}

TEST(WyomingServer, AnswersEventsInOrderOnOneConnection) {
  Fixture f;
  ASSERT_TRUE(f.server);
  EXPECT_GT(f.server->port(), 0);
  Socket c = connect_to(f.server->port());
  ASSERT_TRUE(c.valid());
  // Several events in one write, the last split across two writes.
  const std::string last = encode(ev("transcript", {{"text", "what time is it"}}));
  send_bytes(c, encode(ev("describe")) + encode(ev("transcript", {{"text", "lamp on"}})) + last.substr(0, 7));
  send_bytes(c, last.substr(7) + encode(ev("ping")));
  std::vector<Event> out = read_events(c, 4);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].type, "info");
  EXPECT_EQ(out[1].type, "intent");
  EXPECT_EQ(out[1].data["entities"][0]["value"], "lamp");
  EXPECT_EQ(out[2].type, "handled");
  EXPECT_EQ(out[2].data["text"], "hello");
  EXPECT_EQ(out[3].type, "pong");
}

TEST(WyomingServer, BrokenStreamGetsAnErrorAndIsClosed) {
  Fixture f;
  ASSERT_TRUE(f.server);
  for (const std::string junk : {std::string("not json\n"), std::string("[1]\n"),
                                 std::string(R"({"type":"x","data_length":999999999})" "\n"),
                                 std::string(20000, 'z')}) {
    Socket c = connect_to(f.server->port());
    ASSERT_TRUE(c.valid());
    send_bytes(c, junk);
    bool closed = false;
    std::vector<Event> out = read_events(c, 2, &closed);
    ASSERT_EQ(out.size(), 1u) << junk.substr(0, 40);
    EXPECT_EQ(out[0].type, "error");
    EXPECT_TRUE(out[0].data["text"].is_string());
    EXPECT_TRUE(closed);
  }
  // The server still serves.
  Socket c = connect_to(f.server->port());
  send_bytes(c, encode(ev("describe")));
  EXPECT_EQ(read_events(c, 1).size(), 1u);
}

TEST(WyomingServer, RefusesConnectionsPastTheLimit) {
  WyomingConfig c;
  c.max_connections = 1;
  Fixture f(c);
  ASSERT_TRUE(f.server);
  Socket first = connect_to(f.server->port());
  send_bytes(first, encode(ev("ping")));
  ASSERT_EQ(read_events(first, 1).size(), 1u);  // accepted and being served
  Socket second = connect_to(f.server->port());
  ASSERT_TRUE(second.valid());
  bool closed = false;
  std::vector<Event> out = read_events(second, 2, &closed);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].type, "error");
  EXPECT_EQ(out[0].data["code"], "busy");
  EXPECT_TRUE(closed);
  f.server->stop();  // with a connection still open: shuts it and joins
  bool first_closed = false;
  read_events(first, 1, &first_closed);
  EXPECT_TRUE(first_closed);
}

TEST(WyomingServer, BindErrorsAreValues) {
  auto h = Handler::create(WyomingConfig(), "t");
  ASSERT_TRUE(h.ok());
  std::shared_ptr<const Handler> handler(std::move(*h));
  EXPECT_FALSE(WyomingServer::create("127.0.0.1", 70000, handler, {}).ok());
  EXPECT_FALSE(WyomingServer::create("no.such.host.invalid", 0, handler, {}).ok());
  auto v6 = WyomingServer::create("::1", 0, handler, {});
  if (v6.ok()) {  // hosts without IPv6 loopback skip this half
    Socket s(::socket(AF_INET6, SOCK_STREAM, 0));
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(uint16_t((*v6)->port()));
    a.sin6_addr = in6addr_loopback;
    ASSERT_EQ(::connect(s.fd(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    send_bytes(s, encode(ev("describe")));
    EXPECT_EQ(read_events(s, 1).size(), 1u);
  }
}

}  // namespace
}  // namespace hearth::wyoming
