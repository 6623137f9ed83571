// See openai_api.h. Field semantics follow OpenAI's API reference; where hearth differs:
// n must be 1; top_k / min_p / repeat_penalty are accepted as llama.cpp's server does; without
// a seed each request draws one; response_format json_schema is always enforced (as with
// strict: true), within what sampling/json_schema.h supports (else a 400 naming the keyword).
#include "server/openai_api.h"

#include <httplib.h>

#include <random>

#include "server/metrics.h"
#include "sampling/json_schema.h"
#include "server/json_limits.h"
#include "server/model_registry.h"
#include "server/openai_tools.h"
#include "server/rag_chat.h"
#include "server/sse.h"

namespace hearth::server {
namespace {

using json = nlohmann::json;

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string random_id(std::string_view prefix) {
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::random_device rd;
  std::mt19937_64 rng((uint64_t(rd()) << 32) ^ rd());
  std::string id(prefix);
  for (int i = 0; i < 24; ++i) id += kChars[rng() % (sizeof(kChars) - 1)];
  return id;
}

ApiError invalid(std::string param, std::string message) {
  ApiError e;
  e.message = std::move(message);
  e.param = std::move(param);
  return e;
}

// Typed field readers: absent or null leaves `out` unchanged; a wrong type is an error naming
// the field.
bool read_number(const json& body, const char* key, double lo, double hi, double& out, ApiError& err) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return true;
  if (!it->is_number()) {
    err = invalid(key, std::string("'") + key + "' must be a number");
    return false;
  }
  const double v = it->get<double>();
  if (!(v >= lo && v <= hi)) {
    err = invalid(key, std::string("'") + key + "' must be between " + json(lo).dump() + " and " +
                           json(hi).dump() + ", got " + it->dump());
    return false;
  }
  out = v;
  return true;
}

bool read_integer(const json& body, const char* key, int64_t lo, int64_t hi, int64_t& out, ApiError& err) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return true;
  if (!it->is_number_integer() && !(it->is_number_float() && it->get<double>() == std::floor(it->get<double>()))) {
    err = invalid(key, std::string("'") + key + "' must be an integer");
    return false;
  }
  const double d = it->get<double>();
  if (d < double(lo) || d > double(hi)) {
    err = invalid(key, std::string("'") + key + "' must be between " + std::to_string(lo) + " and " +
                           std::to_string(hi) + ", got " + it->dump());
    return false;
  }
  out = it->is_number_unsigned() ? int64_t(it->get<uint64_t>()) : it->get<int64_t>();
  if (it->is_number_float()) out = int64_t(d);
  return true;
}

bool read_bool(const json& body, const char* key, bool& out, ApiError& err) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return true;
  if (!it->is_boolean()) {
    err = invalid(key, std::string("'") + key + "' must be a boolean");
    return false;
  }
  out = it->get<bool>();
  return true;
}

// Message content: a string, null, or a list of parts of which the text parts are joined.
bool read_content(const json& v, const std::string& param, std::string& out, ApiError& err) {
  if (v.is_null()) return true;
  if (v.is_string()) {
    out = v.get<std::string>();
    return true;
  }
  if (v.is_array()) {
    for (size_t i = 0; i < v.size(); ++i) {
      const json& part = v[i];
      const std::string p = param + "[" + std::to_string(i) + "]";
      if (!part.is_object() || !part.contains("type") || !part["type"].is_string()) {
        err = invalid(p, "'" + p + "' must be an object with a 'type'");
        return false;
      }
      if (part["type"] != "text") {
        err = invalid(p + ".type", "only text content parts are supported, got '" +
                                       part["type"].get<std::string>() + "'");
        return false;
      }
      if (!part.contains("text") || !part["text"].is_string()) {
        err = invalid(p + ".text", "'" + p + ".text' must be a string");
        return false;
      }
      out += part["text"].get<std::string>();
    }
    return true;
  }
  err = invalid(param, "'" + param + "' must be a string or a list of content parts");
  return false;
}

bool read_stop(const json& body, std::vector<std::string>& out, ApiError& err) {
  auto it = body.find("stop");
  if (it == body.end() || it->is_null()) return true;
  if (it->is_string()) {
    out.push_back(it->get<std::string>());
    return true;
  }
  if (it->is_array() && it->size() <= 16) {
    for (const json& s : *it) {
      if (!s.is_string()) {
        err = invalid("stop", "'stop' must be a string or a list of strings");
        return false;
      }
      out.push_back(s.get<std::string>());
    }
    return true;
  }
  err = invalid("stop", "'stop' must be a string or a list of at most 16 strings");
  return false;
}

// response_format: {type: text | json_object | json_schema, json_schema: {name, schema, strict}}.
bool read_response_format(const json& body, std::shared_ptr<const sampling::Grammar>& out,
                          ApiError& err) {
  auto it = body.find("response_format");
  if (it == body.end() || it->is_null()) return true;
  if (!it->is_object() || !it->contains("type") || !(*it)["type"].is_string()) {
    err = invalid("response_format", "'response_format' must be an object with a string 'type'");
    return false;
  }
  const std::string type = (*it)["type"].get<std::string>();
  if (type == "text") return true;
  if (type == "json_object") {
    out = sampling::compile_json_object();
    return true;
  }
  if (type != "json_schema") {
    err = invalid("response_format.type",
                  "'response_format.type' must be 'text', 'json_object' or 'json_schema', got '" +
                      type + "'");
    return false;
  }
  auto js = it->find("json_schema");
  if (js == it->end() || !js->is_object()) {
    err = invalid("response_format.json_schema",
                  "'response_format.json_schema' must be an object with a 'schema'");
    return false;
  }
  if (js->contains("name") && !(*js)["name"].is_string()) {
    err = invalid("response_format.json_schema.name", "'response_format.json_schema.name' must be a string");
    return false;
  }
  if (js->contains("strict") && !(*js)["strict"].is_null() && !(*js)["strict"].is_boolean()) {
    err = invalid("response_format.json_schema.strict", "'response_format.json_schema.strict' must be a boolean");
    return false;
  }
  auto schema = js->find("schema");
  if (schema == js->end() || schema->is_null()) {  // no schema: any JSON object
    out = sampling::compile_json_object();
    return true;
  }
  Result<std::shared_ptr<const sampling::Grammar>> g = sampling::compile_json_schema(*schema);
  if (!g) {
    err = invalid("response_format.json_schema.schema",
                  "'response_format.json_schema.schema': " + g.error().message);
    return false;
  }
  out = *g;
  return true;
}

}  // namespace

json error_body(const ApiError& e) {
  return {{"error",
           {{"message", e.message},
            {"type", e.type},
            {"param", e.param.empty() ? json(nullptr) : json(e.param)},
            {"code", e.code.empty() ? json(nullptr) : json(e.code)}}}};
}

ApiError acquire_error(const AcquireError& error) {
  ApiError e;
  e.status = error.http_status;
  e.message = error.message;
  if (e.status == 404) {
    e.param = "model";
    e.code = "model_not_found";
  } else {
    e.type = "server_error";
  }
  return e;
}

Result<OpenAiRequest> parse_openai_request(const json& body, bool chat, ApiError& err) {
  if (!body.is_object()) {
    err = invalid("", "the request body must be a JSON object");
    return Error{err.message};
  }
  OpenAiRequest r;
  // OpenAI's defaults: the plain distribution (no top-k, top-p or min-p), temperature 1.
  r.sampling.temperature = 1.0f;
  r.sampling.top_k = 0;
  r.sampling.top_p = 1.0f;
  r.sampling.min_p = 0.0f;
  const auto fail = [&]() -> Result<OpenAiRequest> { return Error{err.message}; };

  if (auto it = body.find("model"); it != body.end() && !it->is_null()) {
    if (!it->is_string()) return err = invalid("model", "'model' must be a string"), fail();
    r.model = it->get<std::string>();
  }
  if (chat) {
    auto it = body.find("messages");
    if (it == body.end()) return err = invalid("messages", "'messages' is required"), fail();
    if (!it->is_array() || it->empty())
      return err = invalid("messages", "'messages' must be a non-empty list"), fail();
    std::vector<std::pair<std::string, std::string>> call_names;  // tool_call id → function
    for (size_t i = 0; i < it->size(); ++i) {
      const json& m = (*it)[i];
      const std::string p = "messages[" + std::to_string(i) + "]";
      if (!m.is_object()) return err = invalid(p, "'" + p + "' must be an object"), fail();
      if (!m.contains("role") || !m["role"].is_string())
        return err = invalid(p + ".role", "'" + p + ".role' must be a string"), fail();
      chat::Message msg;
      msg.role = m["role"].get<std::string>();
      if (msg.role == "developer") msg.role = "system";  // OpenAI's newer name for it
      if (m.contains("content") && !read_content(m["content"], p + ".content", msg.content, err))
        return fail();
      nlohmann::ordered_json tm = {{"role", msg.role}, {"content", msg.content}};
      if (!read_message_tools(m, p, tm, call_names, err)) return fail();
      if (msg.role == "tool" || tm.contains("tool_calls")) r.has_tool_messages = true;
      r.template_messages.push_back(std::move(tm));
      r.messages.push_back(std::move(msg));
    }
  } else {
    auto it = body.find("prompt");
    if (it == body.end()) return err = invalid("prompt", "'prompt' is required"), fail();
    if (it->is_string()) {
      r.prompts.push_back(it->get<std::string>());
    } else if (it->is_array() && !it->empty() && it->size() <= 16) {
      for (const json& p : *it) {
        if (!p.is_string())
          return err = invalid("prompt", "'prompt' must be a string or a list of strings"), fail();
        r.prompts.push_back(p.get<std::string>());
      }
    } else {
      return err = invalid("prompt", "'prompt' must be a string or a list of 1 to 16 strings"), fail();
    }
    if (!read_bool(body, "echo", r.echo, err)) return fail();
  }
  if (!read_bool(body, "stream", r.stream, err)) return fail();
  if (!read_bool(body, "ignore_eos", r.ignore_eos, err)) return fail();
  if (auto it = body.find("stream_options"); it != body.end() && !it->is_null()) {
    if (!it->is_object()) return err = invalid("stream_options", "'stream_options' must be an object"), fail();
    if (!read_bool(*it, "include_usage", r.include_usage, err)) {
      err.param = "stream_options.include_usage";
      return fail();
    }
  }
  int64_t n = 1;
  if (!read_integer(body, "n", 1, 128, n, err)) return fail();
  if (n != 1) return err = invalid("n", "only n = 1 is supported"), fail();
  constexpr int64_t kMaxInt = int64_t(1) << 31;
  if (!read_integer(body, "max_tokens", 1, kMaxInt, r.max_tokens, err)) return fail();
  if (!read_integer(body, "max_completion_tokens", 1, kMaxInt, r.max_tokens, err)) return fail();
  double v = r.sampling.temperature;
  if (!read_number(body, "temperature", 0, 2, v, err)) return fail();
  r.sampling.temperature = float(v);
  v = r.sampling.top_p;
  if (!read_number(body, "top_p", 0, 1, v, err)) return fail();
  r.sampling.top_p = float(v);
  v = 0;
  if (!read_number(body, "presence_penalty", -2, 2, v, err)) return fail();
  r.sampling.presence_penalty = float(v);
  v = 0;
  if (!read_number(body, "frequency_penalty", -2, 2, v, err)) return fail();
  r.sampling.frequency_penalty = float(v);
  v = r.sampling.min_p;
  if (!read_number(body, "min_p", 0, 1, v, err)) return fail();
  r.sampling.min_p = float(v);
  v = r.sampling.repeat_penalty;
  if (!read_number(body, "repeat_penalty", 0, 10, v, err)) return fail();
  r.sampling.repeat_penalty = float(v);
  int64_t k = r.sampling.top_k;
  if (!read_integer(body, "top_k", 0, 1 << 20, k, err)) return fail();
  r.sampling.top_k = int32_t(k);
  int64_t seed = -1;
  if (!read_integer(body, "seed", std::numeric_limits<int64_t>::min(),
                    std::numeric_limits<int64_t>::max(), seed, err))
    return fail();
  if (body.contains("seed") && !body["seed"].is_null()) {
    r.sampling.seed = uint64_t(seed);
  } else {
    std::random_device rd;
    r.sampling.seed = (uint64_t(rd()) << 32) ^ rd();
  }
  if (!read_stop(body, r.stop, err)) return fail();
  if (!read_response_format(body, r.grammar, err)) return fail();
  if (chat && !read_tools(body, r, err)) return fail();
  if (chat) {
    bool logprobs = false;
    if (!read_bool(body, "logprobs", logprobs, err)) return fail();
    int64_t top = 0;
    if (!read_integer(body, "top_logprobs", 0, 20, top, err)) return fail();
    if (body.contains("top_logprobs") && !body["top_logprobs"].is_null() && !logprobs)
      return err = invalid("top_logprobs", "'top_logprobs' needs 'logprobs': true"), fail();
    if (logprobs) r.top_logprobs = int(top);
  } else {
    int64_t top = -1;
    if (!read_integer(body, "logprobs", 0, 5, top, err)) return fail();
    r.top_logprobs = int(top);
  }
  return r;
}

namespace {

void send_error(httplib::Response& res, const ApiError& e) {
  res.status = e.status;
  res.set_content(error_body(e).dump(), "application/json");
}

ApiError rejection_error(const Submission& s, const std::string& prompt_param) {
  ApiError e;
  e.message = s.message;
  switch (s.rejection) {
    case Rejection::kQueueFull:
      e.status = 429;
      e.type = "rate_limit_exceeded";
      e.code = "rate_limit_exceeded";
      break;
    case Rejection::kPromptTooLong:
      e.param = prompt_param;
      e.code = "context_length_exceeded";
      break;
    case Rejection::kStopping:
      e.status = 503;
      e.type = "server_error";
      break;
    default:
      e.param = prompt_param;
      break;
  }
  return e;
}

json usage_json(int64_t prompt, int64_t completion, int64_t cached) {
  return {{"prompt_tokens", prompt},
          {"completion_tokens", completion},
          {"total_tokens", prompt + completion},
          {"prompt_tokens_details", {{"cached_tokens", cached}}}};
}

json bytes_json(const std::string& s) {
  json b = json::array();
  for (unsigned char c : s) b.push_back(int(c));
  return b;
}

// Token text as JSON may carry: a token that is part of a UTF-8 character is shown replaced.
std::string valid_text(const std::string& s) {
  return json::parse(json(s).dump(-1, ' ', false, json::error_handler_t::replace)).get<std::string>();
}

json chat_logprobs(const std::vector<TokenLogprob>& lps) {
  json content = json::array();
  for (const TokenLogprob& lp : lps) {
    json top = json::array();
    for (const TopLogprob& t : lp.top)
      top.push_back({{"token", valid_text(t.text)}, {"logprob", t.logprob}, {"bytes", bytes_json(t.text)}});
    content.push_back({{"token", valid_text(lp.text)},
                       {"logprob", lp.logprob},
                       {"bytes", bytes_json(lp.text)},
                       {"top_logprobs", top}});
  }
  return {{"content", content}};
}

json completion_logprobs(const std::vector<TokenLogprob>& lps, size_t offset0) {
  json tokens = json::array(), logprobs = json::array(), tops = json::array(), offsets = json::array();
  size_t offset = offset0;
  for (const TokenLogprob& lp : lps) {
    tokens.push_back(valid_text(lp.text));
    logprobs.push_back(lp.logprob);
    json top = json::object();
    for (const TopLogprob& t : lp.top) top[valid_text(t.text)] = t.logprob;
    tops.push_back(top);
    offsets.push_back(offset);
    offset += lp.text.size();
  }
  return {{"tokens", tokens}, {"token_logprobs", logprobs}, {"top_logprobs", tops}, {"text_offset", offsets}};
}

const char* finish_name(const CompletionResult& r) {
  return r.finish == FinishReason::kLength ? "length" : "stop";
}

// What a route needs once the request is valid: the model, the jobs, the response framing.
struct Exchange {
  std::shared_ptr<LoadedModel> model;
  OpenAiRequest request;
  std::vector<std::vector<int32_t>> prompts;  // one per choice
  std::vector<std::shared_ptr<CompletionJob>> jobs;
  std::string id;
  int64_t created = 0;
  bool chat = true;
  bool whole_tool_deltas = false;  // ServerOptions::tool_call_deltas_whole
  std::shared_ptr<const RagPlan> rag;  // answered from a collection (rag_chat.h)
};

ApiError rag_error(const RagFailure& f) {
  ApiError e = invalid(f.param, f.message);
  e.status = f.status;
  if (f.status == 404) e.code = "model_not_found";
  if (f.status >= 500) e.type = "server_error";
  return e;
}

// Submits every choice's job; on a rejection, cancels those already queued.
bool submit_all(Exchange& x, httplib::Response& res, const ServerContext& ctx) {
  for (std::vector<int32_t>& prompt : x.prompts) {
    CompletionRequest cr;
    cr.prompt = std::move(prompt);
    cr.sampling = x.request.sampling;
    cr.max_tokens = x.request.max_tokens;
    if (ctx.options.max_tokens_limit > 0 &&
        (cr.max_tokens < 0 || cr.max_tokens > ctx.options.max_tokens_limit))
      cr.max_tokens = ctx.options.max_tokens_limit;
    cr.stop = x.request.stop;
    cr.top_logprobs = x.request.top_logprobs;
    cr.ignore_eos = x.request.ignore_eos;
    cr.grammar = x.request.grammar;
    Submission s = x.model->scheduler().submit(std::move(cr));
    if (!s.job) {
      for (auto& j : x.jobs) j->cancel();
      const ApiError e = rejection_error(s, x.chat ? "messages" : "prompt");
      if (ctx.metrics && s.rejection == Rejection::kQueueFull) ctx.metrics->record_rejected("queue_full");
      if (ctx.metrics && s.rejection == Rejection::kPromptTooLong) ctx.metrics->record_rejected("prompt_too_long");
      if (e.status == 429 || e.status == 503) res.set_header("Retry-After", "1");
      send_error(res, e);
      return false;
    }
    x.jobs.push_back(std::move(s.job));
  }
  return true;
}

json chunk_base(const Exchange& x) {
  return {{"id", x.id},
          {"object", x.chat ? "chat.completion.chunk" : "text_completion"},
          {"created", x.created},
          {"model", x.model->alias()},
          {"system_fingerprint", "hearth-" HEARTH_VERSION}};
}

void respond_streaming(std::shared_ptr<Exchange> x, httplib::Response& res) {
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  struct State {
    size_t choice = 0;
    bool started = false;
    int64_t prompt = 0, completion = 0, cached = 0;
    size_t text_offset = 0;
    ToolCallStreamer tools;  // chat with tools (one choice: n is 1)
  };
  auto st = std::make_shared<State>();
  res.set_chunked_content_provider(
      "text/event-stream",
      [x, st](size_t, httplib::DataSink& sink) -> bool {
        CompletionJob& job = *x->jobs[st->choice];
        const auto write = [&](const json& j) {
          const std::string frame = sse_data(j);
          if (sink.write(frame.data(), frame.size())) return true;
          for (auto& jb : x->jobs) jb->cancel();
          return false;
        };
        if (x->chat && !st->started) {
          st->started = true;
          json c = chunk_base(*x);
          c["choices"] = json::array({{{"index", 0},
                                       {"delta", {{"role", "assistant"}, {"content", ""}}},
                                       {"logprobs", nullptr},
                                       {"finish_reason", nullptr}}});
          return write(c);
        }
        CompletionEvent ev;
        while (!job.next(ev, std::chrono::milliseconds(100))) {
          if (!sink.is_writable()) {
            for (auto& jb : x->jobs) jb->cancel();
            return false;
          }
        }
        json choice = {{"index", st->choice}, {"logprobs", nullptr}, {"finish_reason", nullptr}};
        if (!ev.logprobs.empty())
          choice["logprobs"] = x->chat ? chat_logprobs(ev.logprobs)
                                       : completion_logprobs(ev.logprobs, st->text_offset);
        st->text_offset += ev.text.size();
        // With tools, text that may be a call is held back until the end decides it.
        std::string text = x->request.parse_tool_calls ? st->tools.feed(ev.text) : ev.text;
        std::vector<json> tool_deltas;
        if (ev.done && x->request.parse_tool_calls && ev.done->finish != FinishReason::kError &&
            ev.done->finish != FinishReason::kCancelled) {
          ToolCallSplit split = st->tools.finish();
          if (!x->request.parallel_tool_calls && split.calls.size() > 1) split.calls.resize(1);
          text += split.content;
          tool_deltas = tool_call_deltas(split.calls, tool_call_ids(split.calls.size()), 48,
                                         x->whole_tool_deltas);
        }
        if (x->chat)
          choice["delta"] = text.empty() ? json::object() : json{{"content", text}};
        else
          choice["text"] = text;
        if (!tool_deltas.empty()) {
          // OpenAI's order: any content, then each call's deltas, then a chunk that only
          // carries finish_reason "tool_calls".
          if (!text.empty() || !ev.logprobs.empty()) {
            json c = chunk_base(*x);
            c["choices"] = json::array({choice});
            if (x->request.include_usage) c["usage"] = nullptr;
            if (!write(c)) return false;
          }
          for (json& d : tool_deltas) {
            json c = chunk_base(*x);
            c["choices"] = json::array({{{"index", st->choice}, {"delta", std::move(d)},
                                         {"logprobs", nullptr}, {"finish_reason", nullptr}}});
            if (x->request.include_usage) c["usage"] = nullptr;
            if (!write(c)) return false;
          }
          choice["delta"] = json::object();
          choice["logprobs"] = nullptr;
          text.clear();
        }
        if (ev.done) {
          const CompletionResult& r = *ev.done;
          if (r.finish == FinishReason::kError || r.finish == FinishReason::kCancelled) {
            ApiError e;
            e.status = 500;
            e.type = "server_error";
            e.message = r.finish == FinishReason::kError ? r.error : "generation was cancelled";
            write(error_body(e));
            const std::string done = sse_done();
            sink.write(done.data(), done.size());
            sink.done();
            return true;
          }
          choice["finish_reason"] = tool_deltas.empty() ? finish_name(r) : "tool_calls";
          if (x->rag && tool_deltas.empty() && !x->rag->footer.empty()) {
            text += x->rag->footer;  // the sources, after the answer
            choice["delta"] = json{{"content", text}};
          }
          st->prompt += r.tokens_prompt;
          st->completion += r.tokens_generated;
          st->cached += r.tokens_cached;
        }
        if (!text.empty() || !ev.logprobs.empty() || ev.done) {
          json c = chunk_base(*x);
          c["choices"] = json::array({choice});
          if (x->request.include_usage) c["usage"] = nullptr;
          if (ev.done && x->rag) add_rag_fields(c, *x->rag);
          if (!write(c)) return false;
        }
        if (!ev.done) return true;
        if (++st->choice < x->jobs.size()) {
          st->text_offset = 0;
          return true;
        }
        if (x->request.include_usage) {
          json c = chunk_base(*x);
          c["choices"] = json::array();
          c["usage"] = usage_json(st->prompt, st->completion, st->cached);
          if (!write(c)) return false;
        }
        const std::string done = sse_done();
        if (!sink.write(done.data(), done.size())) return false;
        sink.done();
        return true;
      },
      [x](bool) {
        for (auto& j : x->jobs) j->cancel();  // no-op when they have ended
      });
}

// Non-streaming answers are written as one chunked body once complete, so that while the
// answer is generated the connection can still be watched for a client that left.
void respond_whole(std::shared_ptr<Exchange> x, httplib::Response& res) {
  res.set_chunked_content_provider(
      "application/json",
      [x](size_t, httplib::DataSink& sink) -> bool {
        json choices = json::array();
        int64_t prompt = 0, completion = 0, cached = 0;
        for (size_t i = 0; i < x->jobs.size(); ++i) {
          CollectedCompletion c =
              Scheduler::collect(*x->jobs[i], [&sink] { return sink.is_writable(); });
          const CompletionResult& r = c.result;
          // Cancelled: the client left (nothing to write), or a drain ran out of time.
          if (r.finish == FinishReason::kCancelled && !sink.is_writable()) return false;
          if (r.finish == FinishReason::kError || r.finish == FinishReason::kCancelled) {
            ApiError e;
            e.status = 500;
            e.type = "server_error";
            e.message = r.finish == FinishReason::kError ? r.error : "generation was cancelled: the server is shutting down";
            const std::string body = error_body(e).dump();
            sink.write(body.data(), body.size());
            sink.done();
            return true;
          }
          prompt += r.tokens_prompt;
          completion += r.tokens_generated;
          cached += r.tokens_cached;
          json choice = {{"index", i}, {"logprobs", nullptr}, {"finish_reason", finish_name(r)}};
          if (x->chat) {
            if (x->rag) c.text += x->rag->footer;  // the sources, after the answer
            choice["message"] = {{"role", "assistant"}, {"content", c.text}, {"refusal", nullptr}};
            if (x->request.parse_tool_calls) {
              ToolCallSplit split = parse_tool_calls(c.text);
              if (!x->request.parallel_tool_calls && split.calls.size() > 1) split.calls.resize(1);
              if (!split.calls.empty()) {
                // OpenAI: content null when the answer is only calls.
                choice["message"]["content"] = split.content.empty() ? json(nullptr) : json(split.content);
                choice["message"]["tool_calls"] =
                    openai_tool_calls(split.calls, tool_call_ids(split.calls.size()));
                choice["finish_reason"] = "tool_calls";
              }
            }
            if (x->request.top_logprobs >= 0) choice["logprobs"] = chat_logprobs(c.logprobs);
          } else {
            const std::string& p = x->request.prompts[i];
            choice["text"] = x->request.echo ? p + c.text : c.text;
            if (x->request.top_logprobs >= 0)
              choice["logprobs"] = completion_logprobs(c.logprobs, x->request.echo ? p.size() : 0);
          }
          choices.push_back(choice);
        }
        json body = {{"id", x->id},
                     {"object", x->chat ? "chat.completion" : "text_completion"},
                     {"created", x->created},
                     {"model", x->model->alias()},
                     {"system_fingerprint", "hearth-" HEARTH_VERSION},
                     {"choices", choices},
                     {"usage", usage_json(prompt, completion, cached)}};
        if (x->rag) add_rag_fields(body, *x->rag);
        const std::string s = body.dump(-1, ' ', false, json::error_handler_t::replace);
        if (!sink.write(s.data(), s.size())) return false;
        sink.done();
        return true;
      },
      [x](bool) {
        for (auto& j : x->jobs) j->cancel();
      });
}

void handle_completion(const httplib::Request& req, httplib::Response& res, ServerContext& ctx,
                       bool chat) {
  if (ctx.route_hook && ctx.route_hook(req, res)) return;  // routed upstream (docs/router.md)
  if (!json_nesting_within(req.body)) return send_error(res, invalid("", json_too_deep_message()));
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded()) {
    ApiError e = invalid("", "the request body is not valid JSON");
    return send_error(res, e);
  }
  ApiError err;
  Result<OpenAiRequest> parsed = parse_openai_request(body, chat, err);
  if (!parsed) return send_error(res, err);
  auto x = std::make_shared<Exchange>();
  x->chat = chat;
  x->whole_tool_deltas = ctx.options.tool_call_deltas_whole;
  x->request = std::move(*parsed);
  if (x->request.grammar && body.contains("response_format") && body["response_format"].is_object() &&
      body["response_format"].value("type", "") == "json_schema") {
    // Again from the text in key order: the output follows the declared property order.
    const auto ordered = nlohmann::ordered_json::parse(req.body, nullptr, false);
    const auto& schema = ordered["response_format"]["json_schema"];
    if (schema.contains("schema") && !schema["schema"].is_null())
      if (auto g = sampling::compile_json_schema(schema["schema"])) x->request.grammar = *g;
  }
  if (x->request.parse_tool_calls) order_tools(nlohmann::ordered_json::parse(req.body, nullptr, false), x->request);
  std::optional<RagRequest> rag;  // model rag:<collection>, or a "rag" field (rag_chat.h)
  RagFailure rag_failure;
  if (chat && ctx.rag) {
    Result<std::optional<RagRequest>> r = resolve_rag_request(*ctx.rag, body, x->request.model, rag_failure);
    if (!r) return send_error(res, rag_error(rag_failure));
    rag = std::move(*r);
  }
  Acquired a = ctx.registry->acquire(x->request.model);
  if (!a.model) return send_error(res, acquire_error(a.error));
  x->model = std::move(a.model);
  if (x->model->embedding_only()) {
    ApiError e = invalid("model", "model '" + x->model->alias() +
                                      "' is an embedding model and does not support " +
                                      (chat ? "chat completions" : "completions") + "; use /v1/embeddings");
    e.code = "model_not_supported";
    return send_error(res, e);
  }
  if (chat) {
    // Tools and tool messages go through the template as JSON (tool_calls.h); a RAG request
    // adds its sources as the system message.
    const auto render = [&x](const std::string& sources) {
      return x->request.parse_tool_calls || x->request.has_tool_messages
                 ? x->model->render_chat_context(tool_chat_context(x->model->template_source(),
                                                                   with_sources(x->request.template_messages, sources),
                                                                   x->request.tools))
                 : x->model->render_chat(with_sources(x->request.messages, sources));
    };
    if (rag) {
      int64_t answer = x->request.max_tokens;
      if (ctx.options.max_tokens_limit > 0 && (answer < 0 || answer > ctx.options.max_tokens_limit))
        answer = ctx.options.max_tokens_limit;
      Result<RagPlan> plan = ctx.rag->prepare(*rag, *x->model, x->request.messages, answer, render, rag_failure);
      if (!plan) return send_error(res, rag_error(rag_failure));
      x->prompts.push_back(std::move(plan->prompt));
      x->rag = std::make_shared<const RagPlan>(std::move(*plan));
    } else {
      Result<std::vector<int32_t>> ids = render("");
      if (!ids) return send_error(res, invalid("messages", ids.error().message));
      x->prompts.push_back(std::move(*ids));
    }
  } else {
    for (const std::string& p : x->request.prompts) {
      std::vector<int32_t> ids = x->model->tokenize_prompt(p);
      if (ids.empty() && x->model->vocab().valid(x->model->vocab().bos())) ids.push_back(x->model->vocab().bos());
      if (ids.empty()) {
        ApiError e = invalid("prompt", "the prompt is empty");
        return send_error(res, e);
      }
      x->prompts.push_back(std::move(ids));
    }
  }
  x->id = random_id(chat ? "chatcmpl-" : "cmpl-");
  x->created = unix_now();
  if (!submit_all(*x, res, ctx)) return;
  res.status = 200;
  if (x->request.stream)
    respond_streaming(x, res);
  else
    respond_whole(x, res);
}

}  // namespace

void register_openai_routes(httplib::Server& server, ServerContext& ctx) {
  server.Post("/v1/chat/completions", [&ctx](const httplib::Request& req, httplib::Response& res) {
    handle_completion(req, res, ctx, true);
  });
  server.Post("/v1/completions", [&ctx](const httplib::Request& req, httplib::Response& res) {
    handle_completion(req, res, ctx, false);
  });
  const auto models = [&ctx](const httplib::Request&, httplib::Response& res) {
    json data = json::array();
    const int64_t created =
        std::chrono::duration_cast<std::chrono::seconds>(ctx.start_time.time_since_epoch()).count();
    for (const ModelEntry& m : ctx.registry->list())
      data.push_back({{"id", m.alias}, {"object", "model"}, {"created", created}, {"owned_by", "hearth"}});
    if (ctx.rag)  // a collection answered by a served chat model (rag_chat.h)
      for (const RagChat::Listing& l : ctx.rag->listings())
        data.push_back({{"id", l.name}, {"object", "model"}, {"created", created}, {"owned_by", "hearth"}});
    res.set_content(json{{"object", "list"}, {"data", data}}.dump(), "application/json");
  };
  server.Get("/v1/models", models);
  server.Get(R"(/v1/models/(.+))", [&ctx](const httplib::Request& req, httplib::Response& res) {
    const std::string name = req.matches[1];
    std::vector<ModelEntry> entries = ctx.registry->list();
    if (ctx.rag)
      for (const RagChat::Listing& l : ctx.rag->listings()) entries.emplace_back().alias = l.name;
    for (const ModelEntry& m : entries) {
      if (m.alias != name) continue;
      const int64_t created =
          std::chrono::duration_cast<std::chrono::seconds>(ctx.start_time.time_since_epoch()).count();
      res.set_content(json{{"id", m.alias}, {"object", "model"}, {"created", created}, {"owned_by", "hearth"}}.dump(),
                      "application/json");
      return;
    }
    ApiError e;
    e.status = 404;
    e.message = "the model '" + name + "' does not exist";
    e.param = "model";
    e.code = "model_not_found";
    send_error(res, e);
  });
}

}  // namespace hearth::server
