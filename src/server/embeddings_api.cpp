// See embeddings_api.h. An embedding request runs in its HTTP thread, on the model's
// embedding pool (LoadedModel::embed): no slot of the generation scheduler is taken, so an
// embedding model serves no chat, and a chat model's generation goes on while it embeds.
#include "server/embeddings_api.h"

#include <httplib.h>

#include <chrono>
#include <cstring>
#include <string>

#include "runtime/embed.h"
#include "server/json_limits.h"
#include "server/model_registry.h"
#include "server/ollama_json.h"
#include "tokenizer/tokenizer.h"

namespace hearth::server {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

ApiError invalid(std::string param, std::string message) {
  ApiError e;
  e.message = std::move(message);
  e.param = std::move(param);
  return e;
}

bool read_pooling(const json& body, std::optional<Pooling>& out, std::string& err) {
  if (!body.contains("pooling") || body["pooling"].is_null()) return true;
  if (!body["pooling"].is_string()) {
    err = "pooling must be a string (mean, cls, last)";
    return false;
  }
  Result<Pooling> p = pooling_from_name(body["pooling"].get<std::string>());
  if (!p || *p == Pooling::kNone) {
    err = "pooling must be mean, cls or last";
    return false;
  }
  out = *p;
  return true;
}

bool read_dimensions(const json& body, std::optional<int64_t>& out, std::string& err) {
  if (!body.contains("dimensions") || body["dimensions"].is_null()) return true;
  const json& v = body["dimensions"];
  if (!v.is_number_integer() || v.get<int64_t>() < 1) {
    err = "dimensions must be a positive integer";
    return false;
  }
  out = v.get<int64_t>();
  return true;
}

// A list of token ids, each one an int32 (a larger number would wrap on conversion; ids past
// the vocabulary are refused later, with the vocabulary's size).
bool is_id_list(const json& v) {
  if (!v.is_array() || v.empty()) return false;
  for (const json& x : v) {
    if (!x.is_number_integer()) return false;
    if (x.is_number_unsigned() ? x.get<uint64_t>() > INT32_MAX
                               : (x.get<int64_t>() < 0 || x.get<int64_t>() > INT32_MAX))
      return false;
  }
  return true;
}

// Inputs one request may carry (OpenAI's own limit): each becomes a vector of the model's
// width in the answer, so an unbounded list is an unbounded answer.
constexpr size_t kMaxEmbeddingInputs = 2048;

// Everything the handlers share once the model is known: tokenized inputs within the context.
struct Prepared {
  std::vector<std::vector<int32_t>> ids;
  int64_t n_tokens = 0;
};

int64_t context_of(LoadedModel& m) {
  return std::min<int64_t>(m.model().config().context_length, m.scheduler().n_ctx());
}

// Checks ids, cuts or refuses overlong inputs. Returns "" or the message of a 400.
std::string prepare(LoadedModel& m, std::vector<std::vector<int32_t>>& ids, bool truncate, Prepared& out) {
  const int64_t n_ctx = context_of(m);
  const int64_t n_vocab = m.model().config().n_vocab;
  for (size_t i = 0; i < ids.size(); ++i) {
    std::vector<int32_t>& v = ids[i];
    const std::string which = ids.size() > 1 ? "input[" + std::to_string(i) + "]" : "input";
    if (v.empty()) return which + " has no tokens";
    for (int32_t id : v)
      if (id < 0 || id >= n_vocab)
        return which + ": token id " + std::to_string(id) + " is outside the vocabulary (0.." +
               std::to_string(n_vocab - 1) + ")";
    if (static_cast<int64_t>(v.size()) > n_ctx) {
      if (!truncate)
        return which + " is " + std::to_string(v.size()) + " tokens, longer than the model's context of " +
               std::to_string(n_ctx);
      // Keep the start and the closing separator the tokenizer added ([SEP] for bert).
      const int32_t last = v.back();
      v.resize(static_cast<size_t>(n_ctx));
      if (m.vocab().add_eos()) v.back() = last;
    }
    out.n_tokens += static_cast<int64_t>(v.size());
  }
  out.ids = std::move(ids);
  return "";
}

std::vector<int32_t> tokenize_input(const LoadedModel& m, const std::string& text) {
  // Special tokens parsed and CLS/SEP (or BOS) added as the vocabulary asks: what
  // llama.cpp's embedding tools do.
  return tokenizer::tokenize(m.vocab(), text, true, true);
}

void send_openai_error(httplib::Response& res, const ApiError& e) {
  res.status = e.status;
  res.set_content(error_body(e).dump(), "application/json");
}

void send_ollama_error(httplib::Response& res, int status, std::string_view message) {
  res.status = status;
  res.set_content(ollama::error_body(message).dump(-1, ' ', false, json::error_handler_t::replace),
                  "application/json; charset=utf-8");
}

std::string pooling_refusal(const LoadedModel& m, const std::optional<Pooling>& asked) {
  if (!asked && m.model().config().embedding_only && m.model().config().pooling == Pooling::kNone)
    return "model '" + m.alias() + "' has pooling type none (per-token vectors); ask for \"pooling\": mean, cls or last";
  return "";
}

void handle_openai(const httplib::Request& req, httplib::Response& res, ServerContext& ctx) {
  if (!json_nesting_within(req.body)) return send_openai_error(res, invalid("", json_too_deep_message()));
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded()) return send_openai_error(res, invalid("", "the request body is not valid JSON"));
  OpenAiEmbeddingRequest r;
  ApiError err;
  if (!parse_openai_embedding_request(body, r, err)) return send_openai_error(res, err);
  Acquired a = ctx.registry->acquire(r.model);
  if (!a.model) return send_openai_error(res, acquire_error(a.error));
  LoadedModel& m = *a.model;
  if (r.dimensions && *r.dimensions != m.embedding_dim())
    return send_openai_error(
        res, invalid("dimensions", "model '" + m.alias() + "' gives " + std::to_string(m.embedding_dim()) +
                                       "-dimensional embeddings; dimensions=" + std::to_string(*r.dimensions) +
                                       " is not supported (hearth does not shorten embeddings)"));
  if (std::string why = pooling_refusal(m, r.pooling); !why.empty())
    return send_openai_error(res, invalid("model", why));
  std::vector<std::vector<int32_t>> ids;
  for (const EmbeddingInput& in : r.inputs) ids.push_back(in.ids ? *in.ids : tokenize_input(m, in.text));
  Prepared p;
  if (std::string why = prepare(m, ids, false, p); !why.empty()) {
    ApiError e = invalid("input", why);
    if (why.find("context") != std::string::npos) e.code = "context_length_exceeded";
    return send_openai_error(res, e);
  }
  EmbedOptions options;
  options.pooling = r.pooling;
  Result<std::vector<Embedding>> out = m.embed(p.ids, options);
  if (!out) {
    ApiError e;
    e.status = 500;
    e.type = "server_error";
    e.message = out.error().message;
    return send_openai_error(res, e);
  }
  std::vector<std::vector<float>> vectors;
  for (Embedding& e : *out) vectors.push_back(std::move(e.values));
  res.set_content(openai_embedding_response(r.model.empty() ? m.alias() : r.model, vectors, r.base64, p.n_tokens).dump(),
                  "application/json");
}

void handle_ollama(const httplib::Request& req, httplib::Response& res, ServerContext& ctx, bool legacy) {
  const Clock::time_point t0 = Clock::now();
  if (!json_nesting_within(req.body)) return send_ollama_error(res, 400, json_too_deep_message());
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded()) return send_ollama_error(res, 400, "the request body is not valid JSON");
  Result<OllamaEmbedRequest> r = parse_ollama_embed_request(body, legacy);
  if (!r) return send_ollama_error(res, 400, r.error().message);
  Acquired a = ctx.registry->acquire(r->model);
  if (!a.model) {
    if (a.error.http_status == 404)
      return send_ollama_error(res, 404, "model \"" + r->model + "\" not found, try pulling it first");
    return send_ollama_error(res, a.error.http_status, a.error.message);
  }
  LoadedModel& m = *a.model;
  const double load_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  if (r->dimensions && *r->dimensions != m.embedding_dim())
    return send_ollama_error(res, 400, "dimensions: model '" + m.alias() + "' gives " +
                                           std::to_string(m.embedding_dim()) + "-dimensional embeddings; " +
                                           std::to_string(*r->dimensions) + " is not supported");
  if (std::string why = pooling_refusal(m, r->pooling); !why.empty()) return send_ollama_error(res, 400, why);
  // Legacy /api/embeddings with an empty prompt answers an empty vector, as Ollama does.
  if (legacy && r->inputs.front().empty()) return res.set_content(json{{"embedding", json::array()}}.dump(), "application/json");

  std::vector<std::vector<int32_t>> ids;
  for (const std::string& text : r->inputs) ids.push_back(tokenize_input(m, text));
  Prepared p;
  if (std::string why = prepare(m, ids, r->truncate, p); !why.empty())
    return send_ollama_error(res, 400, why + (r->truncate ? "" : " (truncate is false)"));
  EmbedOptions options;
  options.pooling = r->pooling;
  Result<std::vector<Embedding>> out = m.embed(p.ids, options);
  if (!out) return send_ollama_error(res, 500, out.error().message);
  json j;
  if (legacy) {
    j = {{"embedding", (*out)[0].values}};
  } else {
    json list = json::array();
    for (const Embedding& e : *out) list.push_back(e.values);
    const double total_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    j = {{"model", r->model.empty() ? m.alias() : r->model},
         {"embeddings", list},
         {"total_duration", ollama::ms_to_ns(total_ms)},
         {"load_duration", ollama::ms_to_ns(load_ms)},
         {"prompt_eval_count", p.n_tokens}};
  }
  res.set_content(j.dump(-1, ' ', false, json::error_handler_t::replace), "application/json; charset=utf-8");
}

}  // namespace

bool parse_openai_embedding_request(const json& body, OpenAiEmbeddingRequest& out, ApiError& err) {
  if (!body.is_object()) {
    err = invalid("", "the request body must be a JSON object");
    return false;
  }
  if (body.contains("model") && !body["model"].is_null()) {
    if (!body["model"].is_string()) {
      err = invalid("model", "model must be a string");
      return false;
    }
    out.model = body["model"].get<std::string>();
  }
  if (!body.contains("input") || body["input"].is_null()) {
    err = invalid("input", "input is required: a string, a list of strings, or token ids");
    return false;
  }
  const json& input = body["input"];
  const auto bad_input = [&] {
    err = invalid("input", "input must be a string, a list of strings, a list of token ids, or a list of such lists");
    return false;
  };
  if (input.is_string()) {
    out.inputs.push_back({input.get<std::string>(), std::nullopt});
  } else if (is_id_list(input)) {
    out.inputs.push_back({"", input.get<std::vector<int32_t>>()});
  } else if (input.is_array() && !input.empty()) {
    for (const json& item : input) {
      if (item.is_string())
        out.inputs.push_back({item.get<std::string>(), std::nullopt});
      else if (is_id_list(item))
        out.inputs.push_back({"", item.get<std::vector<int32_t>>()});
      else
        return bad_input();
    }
  } else {
    return bad_input();
  }
  if (out.inputs.size() > kMaxEmbeddingInputs) {
    err = invalid("input", "input has " + std::to_string(out.inputs.size()) + " items; at most " +
                               std::to_string(kMaxEmbeddingInputs) + " per request");
    return false;
  }
  for (const json& item : input.is_array() ? input : json::array({input}))
    if (item.is_number_integer() && (item.get<int64_t>() < 0 || item.get<int64_t>() > INT32_MAX)) return bad_input();
  if (body.contains("encoding_format") && !body["encoding_format"].is_null()) {
    const json& f = body["encoding_format"];
    if (!f.is_string() || (f != "float" && f != "base64")) {
      err = invalid("encoding_format", "encoding_format must be \"float\" or \"base64\"");
      return false;
    }
    out.base64 = f == "base64";
  }
  std::string msg;
  if (!read_dimensions(body, out.dimensions, msg) || !read_pooling(body, out.pooling, msg)) {
    err = invalid(msg.starts_with("dimensions") ? "dimensions" : "pooling", msg);
    return false;
  }
  return true;
}

std::string base64_floats(const std::vector<float>& v) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string bytes(v.size() * 4, '\0');
  for (size_t i = 0; i < v.size(); ++i) {
    uint32_t u;
    std::memcpy(&u, &v[i], 4);
    for (int b = 0; b < 4; ++b) bytes[i * 4 + size_t(b)] = static_cast<char>((u >> (8 * b)) & 0xFF);  // little-endian
  }
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const size_t n = std::min<size_t>(3, bytes.size() - i);
    uint32_t chunk = 0;
    for (size_t j = 0; j < 3; ++j)
      chunk = (chunk << 8) | (j < n ? static_cast<unsigned char>(bytes[i + j]) : 0u);
    for (size_t j = 0; j < 4; ++j) out += j <= n ? kAlphabet[(chunk >> (18 - 6 * j)) & 0x3F] : '=';
  }
  return out;
}

json openai_embedding_response(const std::string& model, const std::vector<std::vector<float>>& vectors,
                               bool base64, int64_t prompt_tokens) {
  json data = json::array();
  for (size_t i = 0; i < vectors.size(); ++i)
    data.push_back({{"object", "embedding"},
                    {"index", i},
                    {"embedding", base64 ? json(base64_floats(vectors[i])) : json(vectors[i])}});
  return {{"object", "list"},
          {"data", data},
          {"model", model},
          {"usage", {{"prompt_tokens", prompt_tokens}, {"total_tokens", prompt_tokens}}}};
}

Result<OllamaEmbedRequest> parse_ollama_embed_request(const json& body, bool legacy) {
  if (!body.is_object()) return Error{"the request body must be a JSON object"};
  OllamaEmbedRequest r;
  r.legacy = legacy;
  if (!body.contains("model") || !body["model"].is_string() || body["model"].get<std::string>().empty())
    return Error{"model is required"};
  r.model = body["model"].get<std::string>();
  if (legacy) {
    if (body.contains("prompt") && !body["prompt"].is_null()) {
      if (!body["prompt"].is_string()) return Error{"prompt must be a string"};
      r.inputs.push_back(body["prompt"].get<std::string>());
    } else {
      r.inputs.emplace_back();
    }
  } else {
    static const json kAbsent;
    const json& input = body.contains("input") ? body["input"] : kAbsent;
    if (input.is_string()) {
      r.inputs.push_back(input.get<std::string>());
    } else if (input.is_array() && !input.empty()) {
      for (const json& s : input) {
        if (!s.is_string()) return Error{"input must be a string or a list of strings"};
        r.inputs.push_back(s.get<std::string>());
      }
    } else {
      return Error{"input is required: a string or a non-empty list of strings"};
    }
    for (const std::string& s : r.inputs)
      if (s.empty()) return Error{"input contains an empty string"};
    if (r.inputs.size() > kMaxEmbeddingInputs)
      return Error{"input has " + std::to_string(r.inputs.size()) + " items; at most " +
                   std::to_string(kMaxEmbeddingInputs) + " per request"};
  }
  if (body.contains("truncate") && !body["truncate"].is_null()) {
    if (!body["truncate"].is_boolean()) return Error{"truncate must be a boolean"};
    r.truncate = body["truncate"].get<bool>();
  }
  if (body.contains("keep_alive")) {
    if (auto k = ollama::parse_keep_alive(body["keep_alive"]); !k) return k.error();
  }
  std::string msg;
  if (!read_dimensions(body, r.dimensions, msg) || !read_pooling(body, r.pooling, msg)) return Error{msg};
  return r;
}

void register_embedding_routes(httplib::Server& server, ServerContext& ctx) {
  server.Post("/v1/embeddings", [&ctx](const httplib::Request& req, httplib::Response& res) {
    handle_openai(req, res, ctx);
  });
  server.Post("/api/embed", [&ctx](const httplib::Request& req, httplib::Response& res) {
    handle_ollama(req, res, ctx, false);
  });
  server.Post("/api/embeddings", [&ctx](const httplib::Request& req, httplib::Response& res) {
    handle_ollama(req, res, ctx, true);
  });
}

}  // namespace hearth::server
