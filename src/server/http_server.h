// The HTTP side of `hearth serve`: an httplib::Server with every route set registered
// (openai_api, ollama_api, /health, /metrics), and what applies to all routes: Bearer API keys
// (every route but /health), the request body limit (413), JSON error bodies for errors the
// transport raises itself, one structured access-log line per request, and draining.
#pragma once

#include <memory>

#include "core/status.h"
#include "server/server_context.h"

namespace hearth::server {

class HttpServer {
 public:
  // Registers the routes and binds host:port (port 0: any free port) without serving yet.
  static Result<std::unique_ptr<HttpServer>> create(ServerContext& context);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const { return port_; }
  // Serves until stop(); returns false if the listener failed.
  bool run();
  // SIGTERM/SIGINT: new requests get 503 at once; requests running may finish for up to
  // options.drain_seconds, then are cancelled; then the listener closes and run() returns.
  // Safe from any thread; blocks until the drain is over.
  void drain_and_stop();
  void stop();

 private:
  explicit HttpServer(ServerContext& context);
  ServerContext& ctx_;
  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
};

}  // namespace hearth::server
