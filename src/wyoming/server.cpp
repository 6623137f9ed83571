// See server.h. Plain POSIX sockets and poll(): the same code on x86-64 and arm64.
#include "wyoming/server.h"

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace hearth::wyoming {
namespace {

constexpr int kPollMs = 250;        // how soon a thread notices stop(); not a protocol timeout
constexpr size_t kReadChunk = 4096;
constexpr int kSendTimeoutS = 10;   // a peer that stops reading cannot hold a thread longer

// Writes all of `bytes`; false when the peer is gone or stalls past the send timeout.
bool send_all(int fd, const std::string& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += size_t(n);
  }
  return true;
}

}  // namespace

void Socket::reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Result<std::unique_ptr<WyomingServer>> WyomingServer::create(const std::string& host, int port,
                                                             std::shared_ptr<const Handler> handler,
                                                             Generate generate) {
  if (port < 0 || port > 65535) return Error{"wyoming: port must be from 0 to 65535"};
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found); rc != 0)
    return Error{"wyoming: cannot resolve '" + host + "': " + gai_strerror(rc)};
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, &::freeaddrinfo);
  Socket listener;
  std::string why = "no address";
  for (addrinfo* a = found; a; a = a->ai_next) {
    Socket s(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol));
    if (!s.valid()) {
      why = std::strerror(errno);
      continue;
    }
    const int one = 1;
    ::setsockopt(s.fd(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(s.fd(), a->ai_addr, a->ai_addrlen) != 0 || ::listen(s.fd(), 16) != 0) {
      why = std::strerror(errno);
      continue;
    }
    listener = std::move(s);
    break;
  }
  if (!listener.valid()) return Error{"wyoming: cannot listen on " + host + ":" + service + ": " + why};
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(listener.fd(), reinterpret_cast<sockaddr*>(&bound), &len);
  auto srv = std::unique_ptr<WyomingServer>(new WyomingServer());
  srv->port_ = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                           : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  srv->listener_ = std::move(listener);
  srv->handler_ = std::move(handler);
  srv->generate_ = std::move(generate);
  srv->accept_thread_ = std::thread([s = srv.get()] { s->accept_loop(); });
  return srv;
}

WyomingServer::~WyomingServer() { stop(); }

void WyomingServer::stop() {
  stop_.store(true);
  if (accept_thread_.joinable()) accept_thread_.join();
  {
    // Wakes connection threads blocked in poll/recv; generation sees stopping() and cancels.
    std::lock_guard<std::mutex> lock(mu_);
    for (Connection& c : connections_) ::shutdown(c.socket.fd(), SHUT_RDWR);
  }
  reap(true);
  listener_.reset();
}

void WyomingServer::reap(bool all) {
  std::list<Connection> finished;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = connections_.begin(); it != connections_.end();) {
      auto next = std::next(it);
      if (all || it->done.load()) finished.splice(finished.end(), connections_, it);
      it = next;
    }
  }
  for (Connection& c : finished)
    if (c.thread.joinable()) c.thread.join();
}

void WyomingServer::accept_loop() {
  while (!stop_.load()) {
    pollfd p{listener_.fd(), POLLIN, 0};
    const int r = ::poll(&p, 1, kPollMs);
    reap(false);
    if (r <= 0) continue;
    Socket client(::accept4(listener_.fd(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!client.valid()) continue;
    timeval tv{kSendTimeoutS, 0};
    ::setsockopt(client.fd(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    std::lock_guard<std::mutex> lock(mu_);
    if (int(connections_.size()) >= handler_->config().max_connections) {
      send_all(client.fd(), encode(error_event("too many connections, try again later", "busy")));
      continue;  // closed by the Socket
    }
    Connection& c = connections_.emplace_back();
    c.socket = std::move(client);
    c.thread = std::thread([this, &c] {
      serve(c);
      c.done.store(true);
    });
  }
}

void WyomingServer::serve(Connection& c) {
  const int fd = c.socket.fd();
  Decoder decoder;
  const auto idle = std::chrono::seconds(handler_->config().idle_seconds);
  auto last_event = std::chrono::steady_clock::now();
  // Generation is cancelled only when the server stops, not when the peer half-closes: a
  // client may send its transcript, shut its sending side (nc -N) and still read the answer.
  const std::function<bool()> keep_going = [this] { return !stop_.load(); };
  char buf[kReadChunk];
  while (!stop_.load()) {
    pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, kPollMs);
    if (r < 0 && errno != EINTR) return;
    if (r <= 0) {
      // No complete event for too long (a header without its newline, a silent peer): close,
      // so a slow or stuck client cannot hold one of the bounded connections forever.
      if (std::chrono::steady_clock::now() - last_event > idle) {
        send_all(fd, encode(error_event("no complete event for " + std::to_string(idle.count()) + " s", "timeout")));
        return;
      }
      continue;
    }
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // peer closed, or shutdown by stop()
    decoder.feed(std::string_view(buf, size_t(n)));
    while (std::optional<Event> e = decoder.next()) {
      last_event = std::chrono::steady_clock::now();
      for (const Event& reply : handler_->handle(*e, generate_, keep_going))
        if (!send_all(fd, encode(reply))) return;
      last_event = std::chrono::steady_clock::now();
    }
    if (decoder.failed()) {
      send_all(fd, encode(error_event(decoder.error(), "bad-event")));
      return;
    }
  }
}

}  // namespace hearth::wyoming
