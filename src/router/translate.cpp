// See translate.h.
#include "router/translate.h"

#include <ctime>
#include <vector>

namespace hearth::router {
namespace {

using json = nlohmann::json;

std::string dump_line(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n"; }

int64_t ns_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t).count();
}

// The text of a message content: a string, or OpenAI-style parts.
std::string content_text(const json& c) {
  if (c.is_string()) return c.get<std::string>();
  return {};
}

}  // namespace

std::string rfc3339_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  const long us = long(std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() % 1000000);
  char out[64];
  std::snprintf(out, sizeof out, "%s.%06ldZ", buf, us);
  return out;
}

Result<TranslatedRequest> ollama_to_openai(const json& in, bool generate, const std::string& model) {
  if (!in.is_object()) return Error{"the request body must be a JSON object"};
  TranslatedRequest out;
  out.stream = !in.contains("stream") || !in["stream"].is_boolean() || in["stream"].get<bool>();
  json body = json::object();
  body["model"] = model;
  body["stream"] = out.stream;
  if (out.stream) body["stream_options"] = {{"include_usage", true}};
  if (generate) {
    if (in.contains("prompt") && !in["prompt"].is_string()) return Error{"'prompt' must be a string"};
    const std::string prompt = in.value("prompt", "");
    const bool raw = in.contains("raw") && in["raw"].is_boolean() && in["raw"].get<bool>();
    if (raw) {
      out.path = "/completions";
      body["prompt"] = prompt;
    } else {
      out.path = "/chat/completions";
      json messages = json::array();
      if (in.contains("system") && in["system"].is_string() && !in["system"].get<std::string>().empty())
        messages.push_back({{"role", "system"}, {"content", in["system"]}});
      messages.push_back({{"role", "user"}, {"content", prompt}});
      body["messages"] = std::move(messages);
    }
  } else {
    out.path = "/chat/completions";
    if (!in.contains("messages") || !in["messages"].is_array()) return Error{"'messages' must be a list"};
    json messages = json::array();
    for (const json& m : in["messages"]) {
      if (!m.is_object()) return Error{"each message must be an object"};
      json om = {{"role", m.value("role", "user")}, {"content", m.contains("content") ? m["content"] : json("")}};
      if (m.contains("tool_calls")) om["tool_calls"] = m["tool_calls"];
      messages.push_back(std::move(om));
    }
    body["messages"] = std::move(messages);
    if (in.contains("tools")) body["tools"] = in["tools"];
  }
  if (in.contains("format") && in["format"] == "json") body["response_format"] = {{"type", "json_object"}};
  if (in.contains("options") && in["options"].is_object()) {
    const json& o = in["options"];
    static const std::pair<const char*, const char*> kSame[] = {
        {"temperature", "temperature"}, {"top_p", "top_p"},       {"seed", "seed"},
        {"stop", "stop"},               {"num_predict", "max_tokens"}, {"presence_penalty", "presence_penalty"},
        {"frequency_penalty", "frequency_penalty"}};
    for (const auto& [from, to] : kSame)
      if (o.contains(from) && !o[from].is_null()) body[to] = o[from];
    if (body.contains("max_tokens") && body["max_tokens"].is_number_integer() && body["max_tokens"].get<int64_t>() < 0)
      body.erase("max_tokens");  // Ollama's -1: no limit
  }
  out.body = std::move(body);
  return out;
}

std::vector<std::string> take_sse_events(std::string& buf) {
  std::vector<std::string> events;
  for (;;) {
    size_t end = buf.find("\n\n");
    size_t sep = 2;
    const size_t crlf = buf.find("\r\n\r\n");
    if (crlf != std::string::npos && (end == std::string::npos || crlf < end)) {
      end = crlf;
      sep = 4;
    }
    if (end == std::string::npos) return events;
    const std::string raw = buf.substr(0, end);
    buf.erase(0, end + sep);
    std::string data;
    size_t pos = 0;
    while (pos <= raw.size()) {
      size_t eol = raw.find('\n', pos);
      if (eol == std::string::npos) eol = raw.size();
      std::string line = raw.substr(pos, eol - pos);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.rfind("data:", 0) == 0) {
        std::string v = line.substr(5);
        if (!v.empty() && v[0] == ' ') v.erase(0, 1);
        if (!data.empty()) data += "\n";
        data += v;
      }
      pos = eol + 1;
    }
    if (!data.empty()) events.push_back(std::move(data));
  }
}

SseToNdjson::SseToNdjson(std::string model, bool generate)
    : model_(std::move(model)), generate_(generate), start_(std::chrono::steady_clock::now()) {}

std::string SseToNdjson::event_lines(std::string_view event) {
  if (event == "[DONE]") return finish();
  json j = json::parse(event, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return {};
  if (j.contains("usage") && j["usage"].is_object()) {
    prompt_eval_count_ = j["usage"].value("prompt_tokens", prompt_eval_count_);
    eval_count_ = j["usage"].value("completion_tokens", eval_count_);
    usage_seen_ = true;
  }
  std::string out;
  if (!j.contains("choices") || !j["choices"].is_array()) return out;
  for (const json& c : j["choices"]) {
    std::string text;
    if (c.contains("delta") && c["delta"].is_object() && c["delta"].contains("content"))
      text = content_text(c["delta"]["content"]);
    else if (c.contains("text"))
      text = content_text(c["text"]);
    if (c.contains("finish_reason") && c["finish_reason"].is_string()) done_reason_ = c["finish_reason"];
    if (text.empty()) continue;
    if (!usage_seen_) ++eval_count_;  // one event per token until the usage says otherwise
    json line = {{"model", model_}, {"created_at", rfc3339_now()}};
    if (generate_)
      line["response"] = text;
    else
      line["message"] = {{"role", "assistant"}, {"content", text}};
    line["done"] = false;
    out += dump_line(line);
  }
  return out;
}

std::string SseToNdjson::feed(std::string_view bytes) {
  buf_.append(bytes);
  std::string out;
  for (const std::string& e : take_sse_events(buf_)) {
    if (finished_) break;
    out += event_lines(e);
  }
  return out;
}

std::string SseToNdjson::finish() {
  if (finished_) return {};
  finished_ = true;
  json line = {{"model", model_}, {"created_at", rfc3339_now()}};
  if (generate_)
    line["response"] = "";
  else
    line["message"] = {{"role", "assistant"}, {"content", ""}};
  line["done"] = true;
  line["done_reason"] = done_reason_ == "length" ? "length" : "stop";
  line["total_duration"] = ns_since(start_);
  line["prompt_eval_count"] = prompt_eval_count_;
  line["eval_count"] = eval_count_;
  return dump_line(line);
}

json openai_to_ollama(const json& in, const std::string& model, bool generate, double total_seconds) {
  std::string text, reason = "stop";
  if (in.contains("choices") && in["choices"].is_array() && !in["choices"].empty()) {
    const json& c = in["choices"][0];
    if (c.contains("message") && c["message"].is_object() && c["message"].contains("content"))
      text = content_text(c["message"]["content"]);
    else if (c.contains("text"))
      text = content_text(c["text"]);
    if (c.contains("finish_reason") && c["finish_reason"] == "length") reason = "length";
  }
  json out = {{"model", model}, {"created_at", rfc3339_now()}};
  if (generate)
    out["response"] = text;
  else
    out["message"] = {{"role", "assistant"}, {"content", text}};
  out["done"] = true;
  out["done_reason"] = reason;
  out["total_duration"] = int64_t(total_seconds * 1e9);
  if (in.contains("usage") && in["usage"].is_object()) {
    out["prompt_eval_count"] = in["usage"].value("prompt_tokens", 0);
    out["eval_count"] = in["usage"].value("completion_tokens", 0);
  }
  return out;
}

}  // namespace hearth::router
