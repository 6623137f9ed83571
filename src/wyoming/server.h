// `hearth serve --wyoming PORT`: the Wyoming TCP listener. One accept thread and one thread per
// connection, at most WyomingConfig::max_connections of them (one more is answered with an
// error event and closed). Each connection reads events (codec.h), answers them through the
// Handler, and is closed on a broken stream, after idle_seconds without a complete event, or
// when the server stops. Sockets are owned by RAII handles; stop() (or the destructor) closes
// the listener, shuts every connection down and joins every thread.
#pragma once

#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/status.h"
#include "wyoming/handler.h"

namespace hearth::wyoming {

// A file descriptor closed on destruction.
class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() { reset(); }
  Socket(Socket&& o) noexcept : fd_(o.release()) {}
  Socket& operator=(Socket&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = o.release();
    }
    return *this;
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    const int f = fd_;
    fd_ = -1;
    return f;
  }
  void reset();

 private:
  int fd_ = -1;
};

class WyomingServer {
 public:
  // Binds host:port (an IPv4 or IPv6 literal, or a name resolved once) and starts accepting.
  static Result<std::unique_ptr<WyomingServer>> create(const std::string& host, int port,
                                                       std::shared_ptr<const Handler> handler,
                                                       Generate generate);
  ~WyomingServer();
  WyomingServer(const WyomingServer&) = delete;
  WyomingServer& operator=(const WyomingServer&) = delete;

  int port() const { return port_; }
  // True while stopping: generation callbacks poll it to cancel.
  bool stopping() const { return stop_.load(); }
  void stop();

 private:
  struct Connection {
    Socket socket;
    std::thread thread;
    std::atomic<bool> done{false};
  };
  WyomingServer() = default;
  void accept_loop();
  void serve(Connection& c);
  void reap(bool all);  // joins finished connection threads (all: every one, after shutdown)

  std::shared_ptr<const Handler> handler_;
  Generate generate_;
  Socket listener_;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::list<Connection> connections_;  // list: a Connection never moves while its thread runs
  std::thread accept_thread_;
};

}  // namespace hearth::wyoming
