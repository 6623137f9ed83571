// `hearth serve`: the OpenAI- and Ollama-compatible HTTP server (see docs/server.md).
//
//   hearth serve -m FILE [--alias NAME] [--host ADDR] [--port N] [--parallel N] [--ctx-size N]
//                [--api-key KEY] [--config FILE] [--models-dir DIR] ...
//
// Signals: SIGINT and SIGTERM are blocked in every thread and taken by one thread with
// sigwait(), which drains the server (no handler, no global flag).
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli/commands.h"
#include "server/health_monitor.h"
#include "server/http_server.h"
#include "server/metrics.h"
#include "server/model_registry.h"
#include "server/rag_chat.h"
#include "server/server_config.h"
#include "router/classifier.h"
#include "router/local_rates.h"
#include "router/router.h"
#include "router/router_config.h"
#include "wyoming/model_generate.h"
#include "wyoming/server.h"
#include "wyoming/wyoming_config.h"

namespace hearth::cli {
namespace {

struct ServeArgs {
  std::vector<std::string> models;
  std::vector<std::string> aliases;
  std::string config;
  std::string models_dir;
  std::string host;
  int port = -1;
  int parallel = 0;
  int64_t ctx_size = 0;
  int queue = -1;
  int threads = 0;
  std::vector<std::string> api_keys;
  std::string keep_alive;
  std::string chat_template;
  int64_t max_tokens = -1;
  size_t max_body = 0;
  int drain_seconds = -1;
  bool no_ram_check = false;
  bool no_batch = false;
  bool quiet = false;
  std::string tool_call_deltas;  // "chunked" | "whole"; "": the config's (chunked)
  bool check = false;  // --check: validate --config and exit
  std::string state_dir;  // `hearth bench`'s stored rates ("" : bench::default_state_dir())
  std::string sysfs_root = "/";  // the health sampler and /metrics read DIR/sys, DIR/proc
  int wyoming_port = -1;  // --wyoming PORT (overrides [wyoming] port); < 0: from the config
  std::string rag_dir, rag_model;  // [rag] dir, model
  double rag_prefill_rate = 0;     // [rag] prefill_rate
};

int fail(const std::string& message) {
  std::fprintf(stderr, "hearth serve: %s\n", message.c_str());
  return 1;
}

// The cost rule's rates for each [[local]] without them: this machine's `hearth bench` figures,
// else the planner's estimate (router/local_rates.h). Logged, so the operator sees which.
void fill_rates(router::RouterConfig& rc, const ServeArgs& a, int threads) {
  if (rc.upstreams.empty() || rc.route.latency_budget_s <= 0) return;  // no cost rule
  const std::filesystem::path dir = a.state_dir.empty() ? bench::default_state_dir() : std::filesystem::path(a.state_dir);
  std::optional<bench::RateStore> store;
  if (!dir.empty()) store.emplace(dir);
  router::RateLookup lookup;
  lookup.store = store ? &*store : nullptr;
  lookup.machine = bench::this_machine();
  lookup.threads = threads > 0 ? threads : int(std::max(1u, std::thread::hardware_concurrency()));
  lookup.device = router::planner_device;
  for (const std::string& line : router::fill_local_rates(rc, lookup))
    std::fprintf(stderr, "hearth serve: rates %s\n", line.c_str());
}

int run_serve(const ServeArgs& a) {
  server::ServerOptions so;
  server::RegistryOptions ro;
  ro.scheduler.n_slots = 1;
  if (!a.config.empty())
    if (Status s = server::load_server_config(a.config, so, ro); !s) return fail(s.error().message);
  // The routing tables of the same file (docs/router.md); [[local]] models join the registry.
  router::RouterConfig rc;
  if (!a.config.empty()) {
    Result<router::RouterConfig> r = router::load_router_config(a.config);
    if (!r) return fail(r.error().message);
    rc = std::move(*r);
  }
  // The Wyoming conversation service (wyoming/, docs/home-assistant.md).
  wyoming::WyomingConfig wc;
  if (!a.config.empty())
    if (Status s = wyoming::load_wyoming_config(a.config, wc); !s) return fail(s.error().message);
  if (a.wyoming_port >= 0) wc.port = a.wyoming_port;
  std::shared_ptr<const wyoming::Handler> wyoming_handler;
  if (wc.port >= 0) {
    Result<std::unique_ptr<wyoming::Handler>> h = wyoming::Handler::create(wc, HEARTH_VERSION);
    if (!h) return fail(h.error().message);
    wyoming_handler = std::move(*h);
  }
  if (a.check) {
    if (a.config.empty()) return fail("--check needs --config FILE");
    std::fprintf(stderr, "hearth serve: %s is valid (%zu models, %zu local, %zu upstream)\n", a.config.c_str(),
                 ro.models.size(), rc.locals.size(), rc.upstreams.size());
    return 0;
  }
  for (const router::LocalBackend& l : rc.locals) {
    server::ModelSpec spec;
    spec.alias = l.name;
    spec.path = l.model;
    ro.models.push_back(std::move(spec));
  }
  // Explicit flags override the file.
  if (!a.host.empty()) so.host = a.host;
  if (a.port >= 0) so.port = a.port;
  if (a.parallel > 0) ro.scheduler.n_slots = a.parallel;
  if (a.ctx_size > 0) ro.scheduler.n_ctx = a.ctx_size;
  if (a.queue >= 0) ro.scheduler.max_queue = a.queue;
  if (a.threads > 0) ro.scheduler.n_threads = a.threads;
  for (const std::string& k : a.api_keys) so.api_keys.push_back(k);
  if (a.max_tokens >= 0) so.max_tokens_limit = a.max_tokens;
  if (a.max_body > 0) so.max_body_bytes = a.max_body;
  if (a.drain_seconds >= 0) so.drain_seconds = a.drain_seconds;
  if (a.quiet) so.access_log = false;
  if (!a.tool_call_deltas.empty()) so.tool_call_deltas_whole = a.tool_call_deltas == "whole";
  if (a.no_ram_check) ro.check_ram = false;
  if (a.no_batch) ro.scheduler.batched = false;
  if (!a.models_dir.empty()) ro.models_dir = a.models_dir;
  if (!a.rag_dir.empty()) so.rag.dir = a.rag_dir;
  if (!a.rag_model.empty()) so.rag.model = a.rag_model;
  if (a.rag_prefill_rate > 0) so.rag.prefill_tok_s = a.rag_prefill_rate;
  if (!a.keep_alive.empty()) {
    Result<std::chrono::seconds> d = server::parse_duration(a.keep_alive);
    if (!d) return fail("--keep-alive: " + d.error().message);
    ro.keep_alive = *d;
  }
  if (a.aliases.size() > a.models.size()) return fail("more --alias than -m");
  for (size_t i = 0; i < a.models.size(); ++i) {
    server::ModelSpec spec;
    spec.path = a.models[i];
    spec.alias = i < a.aliases.size() ? a.aliases[i] : spec.path.stem().string();
    spec.chat_template = a.chat_template;
    ro.models.push_back(std::move(spec));
  }

  // Blocked before any thread starts, so every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);  // re-reads the routing tables of --config
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // A client closing its socket mid-write must not kill the server.
  signal(SIGPIPE, SIG_IGN);

  Result<system::SystemRoot> root = system::system_root_at(a.sysfs_root);
  if (!root) return fail(root.error().message);
  const system::SystemRoot system_root = *root;
  server::ServerMetrics metrics(system_root);
  // Temperature, clocks and the Pi's throttled / under-voltage flags every 5 s: current
  // gauges for /metrics, and a log line when throttling starts or ends or the voltage sags.
  server::HealthMonitor health(system_root, std::chrono::seconds(5), &metrics, [](const std::string& line) {
    std::fprintf(stderr, "hearth serve: health: %s\n", line.c_str());
    std::fflush(stderr);
  });
  Result<std::unique_ptr<server::ModelRegistry>> registry =
      server::ModelRegistry::create(ro, &metrics);
  if (!registry) return fail(registry.error().message);
  server::ServerContext ctx;
  ctx.options = so;
  ctx.registry = registry->get();
  ctx.metrics = &metrics;
  if (!so.rag.model.empty()) {
    const std::vector<server::ModelEntry> entries = ctx.registry->list();
    if (std::none_of(entries.begin(), entries.end(), [&](const server::ModelEntry& e) { return e.alias == so.rag.model; }))
      return fail("--rag-model " + so.rag.model + " is not a served model");
  }
  // rag:<collection> models and the "rag" request field (server/rag_chat.h).
  server::RagChat rag(so.rag, *ctx.registry, ro.scheduler.n_threads,
                      a.state_dir.empty() ? bench::default_state_dir() : std::filesystem::path(a.state_dir));
  ctx.rag = &rag;
  std::unique_ptr<router::Router> router;
  if (!rc.upstreams.empty() || !rc.locals.empty()) {
    fill_rates(rc, a, ro.scheduler.n_threads);
    router = router::Router::create(rc, &metrics.registry());
    // Rule "classifier" runs on the [[local]] models of this registry (router/classifier.h).
    router->set_classifier(router::make_model_classifier(*ctx.registry));
    ctx.route_hook = [r = router.get()](const httplib::Request& req, httplib::Response& res) {
      return r->handle(req, res);
    };
  }
  Result<std::unique_ptr<server::HttpServer>> http = server::HttpServer::create(ctx);
  if (!http) return fail(http.error().message);
  server::HttpServer& hs = **http;

  std::thread signal_thread([&] {
    int sig = 0;
    for (;;) {
      sig = 0;
      sigwait(&signals, &sig);
      if (sig != SIGHUP) break;
      if (!router || a.config.empty()) {
        std::fprintf(stderr, "hearth serve: SIGHUP: no routing config to reload\n");
        continue;
      }
      Result<router::RouterConfig> r = router::load_router_config(a.config);
      if (!r) {
        std::fprintf(stderr, "hearth serve: SIGHUP: %s (keeping the old routing)\n", r.error().message.c_str());
        continue;
      }
      fill_rates(*r, a, ro.scheduler.n_threads);
      router->reload(std::move(*r));  // new [[local]] models need a restart
      std::fprintf(stderr, "hearth serve: SIGHUP: routing reloaded from %s\n", a.config.c_str());
    }
    if (sig == 0) return;  // woken by shutdown below
    std::fprintf(stderr, "hearth serve: %s, draining (up to %d s)\n",
                 sig == SIGINT ? "SIGINT" : "SIGTERM", ctx.options.drain_seconds);
    hs.drain_and_stop();
  });

  for (const server::ModelEntry& m : ctx.registry->list())
    std::fprintf(stderr, "hearth serve: model %s: %s\n", m.alias.c_str(), m.path.string().c_str());
  // The first model named on the command line or in the config loads at once (GET /health
  // answers 503 until it is in); the others on first use.
  std::thread preload;
  if (!ro.models.empty()) {
    const std::string first = ro.models.front().alias;
    ctx.preloading.store(true);
    preload = std::thread([&ctx, first] {
      server::Acquired a = ctx.registry->acquire(first);
      ctx.preloading.store(false);
      if (!a.model) std::fprintf(stderr, "hearth serve: %s\n", a.error.message.c_str());
    });
  }
  std::unique_ptr<wyoming::WyomingServer> wyoming_server;
  if (wyoming_handler) {
    Result<std::unique_ptr<wyoming::WyomingServer>> w = wyoming::WyomingServer::create(
        so.host, wc.port, wyoming_handler, wyoming::registry_generate(*ctx.registry, so.max_tokens_limit));
    if (!w) {
      pthread_kill(signal_thread.native_handle(), SIGTERM);
      signal_thread.join();
      if (preload.joinable()) preload.join();
      return fail(w.error().message);
    }
    wyoming_server = std::move(*w);
    std::fprintf(stderr, "hearth serve: wyoming on tcp://%s:%d\n", so.host.c_str(), wyoming_server->port());
  }
  std::fprintf(stderr, "hearth serve: listening on http://%s:%d\n", so.host.c_str(), hs.port());
  std::fflush(stderr);
  const bool ok = hs.run();
  if (!ok && !ctx.draining.load()) {
    pthread_kill(signal_thread.native_handle(), SIGTERM);
    signal_thread.join();
    if (preload.joinable()) preload.join();
    return fail("the listener failed");
  }
  signal_thread.join();
  if (wyoming_server) wyoming_server->stop();
  if (preload.joinable()) preload.join();
  health.stop();
  ctx.registry->unload_all();
  std::fprintf(stderr, "hearth serve: stopped\n");
  return 0;
}

}  // namespace

void add_serve_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ServeArgs>();
  CLI::App* cmd = app.add_subcommand("serve", "OpenAI- and Ollama-compatible HTTP server");
  cmd->add_option("-m,--model", args->models, "GGUF model file (repeatable)");
  cmd->add_option("-a,--alias", args->aliases, "name clients use for the -m model at the same position");
  cmd->add_option("--config", args->config, "TOML config file (docs/server.md)");
  cmd->add_option("--models-dir", args->models_dir, "serve every *.gguf in this folder");
  cmd->add_option("--host", args->host, "address to bind (default 127.0.0.1; 0.0.0.0 for the LAN)");
  cmd->add_option("--port", args->port, "port (default 8080; 0: any free port)");
  cmd->add_option("--parallel", args->parallel, "slots: requests decoded together per model (default 1)");
  cmd->add_option("-c,--ctx-size", args->ctx_size, "context per slot (default min(4096, training))");
  cmd->add_option("--queue", args->queue, "requests waiting beyond the slots before 429/503 (default 16)");
  cmd->add_option("-t,--threads", args->threads, "compute threads per model (default: all cores)");
  cmd->add_option("--api-key", args->api_keys, "require Authorization: Bearer KEY (repeatable)");
  cmd->add_option("--keep-alive", args->keep_alive, "idle time before a model is unloaded (default 5m; -1 never)");
  cmd->add_option("--chat-template", args->chat_template, "built-in chat template for the -m models");
  cmd->add_option("--max-tokens", args->max_tokens, "cap on any request's max_tokens (0: none)");
  cmd->add_option("--max-body", args->max_body, "largest request body in bytes (default 8 MiB)");
  cmd->add_option("--drain-seconds", args->drain_seconds, "on SIGTERM, how long running requests may finish (default 30)");
  cmd->add_flag("--no-ram-check", args->no_ram_check, "load models even when MemAvailable looks too small");
  cmd->add_flag("--no-batch", args->no_batch, "decode the slots one after another (to measure batching)");
  cmd->add_flag("-q,--quiet", args->quiet, "no access log");
  cmd->add_option("--tool-call-deltas", args->tool_call_deltas,
                  "streamed OpenAI tool calls: chunked (as OpenAI: name, then argument pieces; default) "
                  "or whole (each call in one delta, for clients such as home-llm)")
      ->check(CLI::IsMember({"chunked", "whole"}));
  cmd->add_option("--sysfs-root", args->sysfs_root, "read DIR/sys and DIR/proc for /metrics and the health log");
  cmd->add_option("--state-dir", args->state_dir,
                  "where `hearth bench` keeps measured rates (default $HEARTH_STATE_DIR, $XDG_STATE_HOME/hearth, "
                  "~/.local/state/hearth)");
  cmd->add_option("--wyoming", args->wyoming_port,
                  "also serve the Wyoming protocol on this TCP port for Home Assistant (0: any free port; "
                  "[wyoming] in --config)");
  cmd->add_option("--rag-dir", args->rag_dir,
                  "RAG collections served as rag:<collection> (default $HEARTH_RAG_DIR, else <state dir>/rag; [rag] dir)");
  cmd->add_option("--rag-model", args->rag_model,
                  "served model answering rag:<collection> (default: the collection's chat model if served, else the "
                  "first chat model; [rag] model)");
  cmd->add_option("--rag-prefill-rate", args->rag_prefill_rate,
                  "prefill tok/s for RAG prompt budgets (default: hearth bench's figure, else the planner's; [rag] "
                  "prefill_rate)");
  cmd->add_flag("--check", args->check, "validate --config (naming the line of any error) and exit");
  cmd->callback([args, &exit_code] { exit_code = run_serve(*args); });
}

}  // namespace hearth::cli
