// What every route handler of `hearth serve` shares: the options, the model registry, the
// metrics, and the server's own state (start time, draining). Owned by serve's main and passed
// by reference to each register_*_routes function; there is no global (STYLE habit 5).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace httplib {
class Server;
struct Request;
struct Response;
}

namespace hearth::server {

class ModelRegistry;
class ServerMetrics;
class RagChat;

// Chat answered from RAG collections (rag_chat.h): [rag] in --config, --rag-* flags.
struct RagOptions {
  std::string dir;            // where collections live; "" : rag::default_rag_dir()
  std::string model;          // the alias answering rag:<collection>; "" : see rag_chat.h
  double prefill_tok_s = 0;   // > 0: budget with this rate, not hearth bench's or the planner's
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;
  std::vector<std::string> api_keys;    // empty: no authentication
  size_t max_body_bytes = 8u << 20;     // larger request bodies get 413
  int64_t max_tokens_limit = 0;         // > 0: caps every request's max_tokens / num_predict
  int drain_seconds = 30;               // SIGTERM: how long in-flight requests may finish
  int http_threads = 0;                 // connection threads; 0: 2 × (slots + queue) + 4
  bool access_log = true;               // one structured line per request on stderr
  // OpenAI streaming of tool calls: false, as OpenAI does (a delta with the name and empty
  // arguments, then argument pieces); true, each call whole in one delta, for clients that
  // read every delta as a complete call (home-llm's generic OpenAI backend).
  bool tool_call_deltas_whole = false;
  RagOptions rag;
};

struct ServerContext {
  ServerOptions options;
  ModelRegistry* registry = nullptr;
  ServerMetrics* metrics = nullptr;     // may be null (tests)
  RagChat* rag = nullptr;               // null: no rag:<collection> models, no "rag" field
  std::chrono::system_clock::time_point start_time = std::chrono::system_clock::now();
  std::string version = HEARTH_VERSION;
  std::atomic<bool> draining{false};    // set on SIGINT/SIGTERM: new requests get 503
  // Set before the listener starts while the first model is still to be loaded at startup, so
  // GET /health cannot answer 200 in the instant before the preload begins.
  std::atomic<bool> preloading{false};
  std::atomic<int> in_flight{0};        // requests being handled (the drain waits for 0)
  // The router (src/router, docs/router.md), called first by each completion handler: true when
  // it wrote the response (proxied upstream); may rewrite the model for the local handler.
  std::function<bool(const httplib::Request&, httplib::Response&)> route_hook;
};

// The route sets, each in its own file (openai_api.h, ollama_api.h); http_server.cpp calls
// them all, and serves GET /health and GET /metrics (ServerMetrics::render()) itself.

}  // namespace hearth::server
