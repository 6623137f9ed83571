// See ollama_json.h. Where hearth differs from Ollama: `num_ctx` is validated but the context
// of a slot is fixed when the model loads (--ctx-size), so it only informs; images, `suffix`,
// a Go `template` override are refused with a 400 that says so rather than silently ignored;
// `think` is accepted and changes nothing (the models served have no thinking mode).
// `format` ("json" or a JSON schema) becomes a grammar (sampling/json_schema.h).
#include "server/ollama_json.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>
#include <map>
#include <random>

#include "quant/ggml_type.h"
#include "sampling/json_schema.h"
#include "server/tool_calls.h"

namespace hearth::server::ollama {

namespace {

Error field_error(const std::string& message) { return Error{message}; }

uint64_t random_seed() {
  std::random_device rd;
  return (uint64_t(rd()) << 32) ^ rd();
}

// Typed option readers: absent or null leave `out` alone.
Status read_number(const json& o, const char* key, double& out) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return {};
  if (!it->is_number() || !std::isfinite(it->get<double>()))
    return field_error(std::string("option \"") + key + "\" must be a number");
  out = it->get<double>();
  return {};
}

Status read_int(const json& o, const char* key, int64_t& out) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return {};
  if (it->is_number_integer()) {
    out = it->is_number_unsigned()
              ? int64_t(std::min<uint64_t>(it->get<uint64_t>(), uint64_t(INT64_MAX)))
              : it->get<int64_t>();
    return {};
  }
  // Python and JavaScript clients send 8192.0 for a whole number now and then.
  if (it->is_number_float()) {
    const double d = it->get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.2e18) {
      out = int64_t(d);
      return {};
    }
  }
  return field_error(std::string("option \"") + key + "\" must be an integer");
}

Status read_bool(const json& o, const char* key, bool& out, const char* what = "field") {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return {};
  if (!it->is_boolean()) return field_error(std::string(what) + " \"" + key + "\" must be a boolean");
  out = it->get<bool>();
  return {};
}

Status read_string(const json& o, const char* key, std::string& out) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return {};
  if (!it->is_string()) return field_error(std::string("field \"") + key + "\" must be a string");
  out = it->get<std::string>();
  return {};
}

// `format`: its kind, and the grammar the output must follow.
Status read_format(const json& body, Format& format,
                   std::shared_ptr<const sampling::Grammar>& grammar) {
  auto it = body.find("format");
  format = Format::kNone;
  if (it == body.end() || it->is_null() || (it->is_string() && it->get<std::string>().empty()))
    return {};
  if (it->is_string() && it->get<std::string>() == "json") {
    format = Format::kJson;
    grammar = sampling::compile_json_object();
    return {};
  }
  if (!it->is_object()) return field_error("field \"format\" must be \"json\" or a JSON schema object");
  format = Format::kSchema;
  Result<std::shared_ptr<const sampling::Grammar>> g = sampling::compile_json_schema(*it);
  if (!g) return field_error("field \"format\": " + g.error().message);
  grammar = *g;
  return {};
}

Result<bool> read_think(const json& body) {
  auto it = body.find("think");
  if (it == body.end() || it->is_null()) return false;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_string()) return true;  // "low", "medium", "high": asking for thinking
  return field_error("field \"think\" must be a boolean or a level string");
}

Status read_keep_alive(const json& body, std::optional<std::chrono::milliseconds>& out) {
  auto it = body.find("keep_alive");
  if (it == body.end()) return {};
  Result<std::optional<std::chrono::milliseconds>> k = parse_keep_alive(*it);
  if (!k) return k.error();
  out = *k;
  return {};
}

Status read_common(const json& body, std::string& model, bool& stream,
                   std::optional<std::chrono::milliseconds>& keep_alive, Options& options) {
  auto it = body.find("model");
  if (it == body.end() || it->is_null() || (it->is_string() && it->get<std::string>().empty()))
    return field_error("model is required");
  if (!it->is_string()) return field_error("field \"model\" must be a string");
  model = it->get<std::string>();
  if (Status s = read_bool(body, "stream", stream); !s) return s;
  if (Status s = read_keep_alive(body, keep_alive); !s) return s;
  options = default_options();
  if (auto o = body.find("options"); o != body.end() && !o->is_null()) {
    if (!o->is_object()) return field_error("field \"options\" must be an object");
    if (Status s = parse_options(*o, options); !s) return s;
  }
  return {};
}

bool has_images(const json& o) {
  auto it = o.find("images");
  return it != o.end() && !it->is_null() && !(it->is_array() && it->empty());
}

// One tool call of an assistant message, as chat templates expect it:
// {"type": "function", "function": {"name", "arguments": {...}}}.
Result<ordered_json> template_tool_call(const json& call, const std::string& where) {
  if (!call.is_object()) return field_error(where + " must be an object");
  const json* fn = &call;
  if (auto f = call.find("function"); f != call.end()) fn = &*f;
  if (!fn->is_object() || !fn->contains("name") || !(*fn)["name"].is_string())
    return field_error(where + ".function.name must be a string");
  json args = fn->value("arguments", json::object());
  if (args.is_string()) {
    json parsed = json::parse(args.get<std::string>(), nullptr, false);
    if (!parsed.is_discarded()) args = std::move(parsed);
  }
  if (args.is_null()) args = json::object();
  ordered_json out = {{"type", "function"},
                      {"function", {{"name", (*fn)["name"]}, {"arguments", ordered_json(args)}}}};
  return out;
}

}  // namespace

json error_body(std::string_view message) { return {{"error", std::string(message)}}; }

// ---- durations and times -------------------------------------------------------------------

Result<std::chrono::nanoseconds> parse_go_duration(std::string_view s) {
  const std::string original(s);
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return std::chrono::nanoseconds(0);
  if (s.empty()) return Error{"invalid duration \"" + original + "\""};
  long double total = 0;
  while (!s.empty()) {
    size_t i = 0;
    bool digits = false;
    long double v = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') v = v * 10 + (s[i++] - '0'), digits = true;
    if (i < s.size() && s[i] == '.') {
      ++i;
      long double scale = 0.1L;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        v += (s[i++] - '0') * scale;
        scale /= 10;
        digits = true;
      }
    }
    if (!digits) return Error{"invalid duration \"" + original + "\""};
    size_t j = i;
    while (j < s.size() && !(s[j] >= '0' && s[j] <= '9') && s[j] != '.') ++j;
    const std::string_view unit = s.substr(i, j - i);
    long double ns_per;
    if (unit == "ns") ns_per = 1;
    else if (unit == "us" || unit == "\xc2\xb5s" || unit == "\xce\xbcs") ns_per = 1e3L;
    else if (unit == "ms") ns_per = 1e6L;
    else if (unit == "s") ns_per = 1e9L;
    else if (unit == "m") ns_per = 60e9L;
    else if (unit == "h") ns_per = 3600e9L;
    else if (unit.empty()) return Error{"missing unit in duration \"" + original + "\""};
    else return Error{"unknown unit \"" + std::string(unit) + "\" in duration \"" + original + "\""};
    total += v * ns_per;
    if (total > 9.2e18L) return Error{"invalid duration \"" + original + "\" (overflow)"};
    s.remove_prefix(j);
  }
  const int64_t ns = int64_t(total);
  return std::chrono::nanoseconds(negative ? -ns : ns);
}

Result<std::optional<std::chrono::milliseconds>> parse_keep_alive(const json& v) {
  using std::chrono::milliseconds;
  if (v.is_null()) return std::optional<milliseconds>();
  double seconds = 0;
  if (v.is_number()) {
    seconds = v.get<double>();
  } else if (v.is_string()) {
    const std::string s = v.get<std::string>();
    // A bare number in a string ("300", "-1") is seconds; Go would refuse it for lack of a unit,
    // but clients send it.
    char* end = nullptr;
    const double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end && *end == '\0') {
      seconds = d;
    } else {
      Result<std::chrono::nanoseconds> ns = parse_go_duration(s);
      if (!ns) return Error{"keep_alive: " + ns.error().message};
      seconds = double(ns->count()) / 1e9;
    }
  } else {
    return Error{"field \"keep_alive\" must be a duration string (\"5m\") or a number of seconds"};
  }
  if (!std::isfinite(seconds) || seconds < 0) return std::optional<milliseconds>(kKeepAliveForever);
  // Anything beyond a century is forever too (and cannot overflow a clock).
  if (seconds > 3.15e9) return std::optional<milliseconds>(kKeepAliveForever);
  return std::optional<milliseconds>(milliseconds(int64_t(std::llround(seconds * 1000))));
}

std::string rfc3339(std::chrono::system_clock::time_point t) {
  const auto ns_total =
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  int64_t secs = ns_total / 1000000000;
  int64_t frac = ns_total % 1000000000;
  if (frac < 0) frac += 1000000000, --secs;
  const std::time_t tt = std::time_t(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  std::string out = buf;
  if (frac != 0) {
    std::snprintf(buf, sizeof buf, ".%09lld", static_cast<long long>(frac));
    std::string f = buf;
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  return out + "Z";
}

std::string rfc3339(std::filesystem::file_time_type t) {
  return rfc3339(std::chrono::time_point_cast<std::chrono::system_clock::duration>(
      std::chrono::file_clock::to_sys(t)));
}

int64_t ms_to_ns(double ms) {
  if (!(ms > 0)) return 0;
  return int64_t(std::llround(ms * 1e6));
}

// ---- requests ------------------------------------------------------------------------------

Options default_options() {
  Options o;
  o.sampling.temperature = 0.8f;
  o.sampling.top_k = 40;
  o.sampling.top_p = 0.9f;
  o.sampling.min_p = 0.0f;
  o.sampling.repeat_penalty = 1.1f;
  o.sampling.penalty_last_n = 64;
  o.sampling.presence_penalty = 0.0f;
  o.sampling.frequency_penalty = 0.0f;
  o.sampling.seed = random_seed();
  return o;
}

Status parse_options(const json& o, Options& out) {
  double d = 0;
  int64_t i = 0;
  struct FloatOpt {
    const char* key;
    float* dst;
    double lo, hi;
  };
  const FloatOpt floats[] = {
      {"temperature", &out.sampling.temperature, 0, 100},
      {"top_p", &out.sampling.top_p, 0, 1},
      {"min_p", &out.sampling.min_p, 0, 1},
      {"repeat_penalty", &out.sampling.repeat_penalty, 0, 100},
      {"presence_penalty", &out.sampling.presence_penalty, -100, 100},
      {"frequency_penalty", &out.sampling.frequency_penalty, -100, 100},
  };
  for (const FloatOpt& f : floats) {
    d = *f.dst;
    if (Status s = read_number(o, f.key, d); !s) return s;
    if (d < f.lo || d > f.hi)
      return field_error(std::string("option \"") + f.key + "\" must be between " +
                         json(f.lo).dump() + " and " + json(f.hi).dump());
    *f.dst = float(d);
  }
  i = out.sampling.top_k;
  if (Status s = read_int(o, "top_k", i); !s) return s;
  out.sampling.top_k = int32_t(std::clamp<int64_t>(i, -1, 1 << 30));
  i = out.sampling.penalty_last_n;
  if (Status s = read_int(o, "repeat_last_n", i); !s) return s;
  if (i < -1) return field_error("option \"repeat_last_n\" must be -1 or more");
  out.sampling.penalty_last_n = int32_t(std::min<int64_t>(i, 1 << 30));
  if (o.contains("seed") && !o["seed"].is_null()) {
    i = 0;
    if (Status s = read_int(o, "seed", i); !s) return s;
    // Ollama: a negative seed (its default, -1) means a random one.
    if (i >= 0) {
      out.sampling.seed = uint64_t(i);
      out.seeded = true;
    }
  }
  i = out.num_predict;
  if (Status s = read_int(o, "num_predict", i); !s) return s;
  out.num_predict = i < 0 ? -1 : i;  // -1 infinite, -2 fill the context: both until it is full
  i = out.num_ctx;
  if (Status s = read_int(o, "num_ctx", i); !s) return s;
  if (i < 0) return field_error("option \"num_ctx\" must be positive");
  out.num_ctx = i;
  if (auto it = o.find("stop"); it != o.end() && !it->is_null()) {
    out.stop.clear();
    if (it->is_string()) {
      out.stop.push_back(it->get<std::string>());
    } else if (it->is_array()) {
      for (const json& s : *it) {
        if (!s.is_string()) return field_error("option \"stop\" must be a list of strings");
        if (!s.get<std::string>().empty()) out.stop.push_back(s.get<std::string>());
      }
    } else {
      return field_error("option \"stop\" must be a list of strings");
    }
  }
  return {};
}

Result<ChatRequest> parse_chat_request(const json& body) {
  if (!body.is_object()) return Error{"the request body must be a JSON object"};
  ChatRequest r;
  if (Status s = read_common(body, r.model, r.stream, r.keep_alive, r.options); !s)
    return s.error();
  if (auto it = body.find("messages"); it != body.end() && !it->is_null()) {
    if (!it->is_array()) return Error{"field \"messages\" must be a list"};
    for (size_t i = 0; i < it->size(); ++i) {
      const json& m = (*it)[i];
      const std::string where = "messages[" + std::to_string(i) + "]";
      if (!m.is_object()) return Error{where + " must be an object"};
      auto role = m.find("role");
      if (role == m.end() || !role->is_string() || role->get<std::string>().empty())
        return Error{where + ".role must be a string"};
      std::string content;
      if (Status s = read_string(m, "content", content); !s)
        return Error{where + ".content must be a string"};
      if (has_images(m)) return Error{where + ": images are not supported by hearth"};
      ordered_json tm = {{"role", role->get<std::string>()}, {"content", content}};
      if (auto tc = m.find("tool_calls"); tc != m.end() && !tc->is_null()) {
        if (!tc->is_array()) return Error{where + ".tool_calls must be a list"};
        ordered_json calls = ordered_json::array();
        for (size_t k = 0; k < tc->size(); ++k) {
          Result<ordered_json> c =
              template_tool_call((*tc)[k], where + ".tool_calls[" + std::to_string(k) + "]");
          if (!c) return c.error();
          calls.push_back(std::move(*c));
        }
        if (!calls.empty()) {
          tm["tool_calls"] = std::move(calls);
          r.has_tool_messages = true;
        }
      }
      std::string tool_name;
      if (Status s = read_string(m, "tool_name", tool_name); !s)
        return Error{where + ".tool_name must be a string"};
      if (!tool_name.empty()) tm["name"] = tool_name;
      if (role->get<std::string>() == "tool") r.has_tool_messages = true;
      r.plain.push_back({role->get<std::string>(), content});
      r.messages.push_back(std::move(tm));
    }
  }
  if (auto it = body.find("tools"); it != body.end() && !it->is_null()) {
    if (!it->is_array()) return Error{"field \"tools\" must be a list"};
    Result<std::vector<ToolSpec>> specs = parse_tools(ordered_json(*it));
    if (!specs) return specs.error();
    if (!it->empty()) r.tools = ordered_json(*it);
  }
  if (Status s = read_format(body, r.format, r.grammar); !s) return s.error();
  Result<bool> think = read_think(body);
  if (!think) return think.error();
  r.think = *think;  // accepted; no served model thinks (see the header)
  return r;
}

Result<GenerateRequest> parse_generate_request(const json& body) {
  if (!body.is_object()) return Error{"the request body must be a JSON object"};
  GenerateRequest r;
  if (Status s = read_common(body, r.model, r.stream, r.keep_alive, r.options); !s)
    return s.error();
  if (Status s = read_string(body, "prompt", r.prompt); !s) return s.error();
  if (Status s = read_string(body, "suffix", r.suffix); !s) return s.error();
  if (Status s = read_string(body, "system", r.system); !s) return s.error();
  if (Status s = read_string(body, "template", r.template_override); !s) return s.error();
  if (Status s = read_bool(body, "raw", r.raw); !s) return s.error();
  if (auto it = body.find("context"); it != body.end() && !it->is_null()) {
    if (!it->is_array()) return Error{"field \"context\" must be a list of token ids"};
    for (const json& t : *it) {
      if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() > INT32_MAX)
        return Error{"field \"context\" must be a list of token ids"};
      r.context.push_back(int32_t(t.get<int64_t>()));
    }
  }
  if (has_images(body)) return Error{"images are not supported by hearth"};
  if (!r.suffix.empty()) return Error{"\"suffix\" (fill-in-the-middle) is not supported by hearth"};
  if (!r.template_override.empty())
    return Error{"\"template\" (a Go template) is not supported by hearth; the model's own chat "
                 "template is used, or send \"raw\": true with a formatted prompt"};
  if (Status s = read_format(body, r.format, r.grammar); !s) return s.error();
  Result<bool> think = read_think(body);
  if (!think) return think.error();
  r.think = *think;  // accepted; no served model thinks (see the header)
  return r;
}

std::string display_name(std::string_view alias) {
  std::string name(alias);
  // A name without a tag is shown with Ollama's default one, which clients (Home Assistant)
  // compare against.
  if (name.find(':') == std::string::npos) name += ":latest";
  return name;
}

// ---- responses -----------------------------------------------------------------------------

Timings timings_from(const CompletionResult& r, double load_ms, double setup_ms) {
  Timings t;
  t.load_ns = ms_to_ns(load_ms);
  t.total_ns = ms_to_ns(load_ms + setup_ms + r.total_ms);
  t.prompt_eval_count = r.tokens_prompt;
  t.prompt_eval_ns = ms_to_ns(r.prefill_ms);
  t.eval_count = r.tokens_generated;
  // The first token is sampled from the prompt's logits; every later one costs a decode.
  t.eval_ns = ms_to_ns(r.generate_ms);
  if (t.eval_count > 0 && t.eval_ns == 0) t.eval_ns = 1;  // clients divide by it
  return t;
}

void add_timings(json& j, const Timings& t) {
  j["total_duration"] = t.total_ns;
  j["load_duration"] = t.load_ns;
  j["prompt_eval_count"] = t.prompt_eval_count;
  j["prompt_eval_duration"] = t.prompt_eval_ns;
  j["eval_count"] = t.eval_count;
  j["eval_duration"] = t.eval_ns;
}

const char* done_reason(const CompletionResult& r) {
  return r.finish == FinishReason::kLength ? "length" : "stop";
}

json chat_chunk(std::string_view model, std::string_view created_at, std::string_view content) {
  return {{"model", model},
          {"created_at", created_at},
          {"message", {{"role", "assistant"}, {"content", content}}},
          {"done", false}};
}

json chat_final(std::string_view model, std::string_view created_at, const json& message,
                std::string_view reason, const Timings& t) {
  json j = {{"model", model},
            {"created_at", created_at},
            {"message", message},
            {"done_reason", reason},
            {"done", true}};
  add_timings(j, t);
  return j;
}

json generate_chunk(std::string_view model, std::string_view created_at,
                    std::string_view response) {
  return {{"model", model}, {"created_at", created_at}, {"response", response}, {"done", false}};
}

json generate_final(std::string_view model, std::string_view created_at,
                    std::string_view response, std::string_view reason, const Timings& t,
                    const std::vector<int32_t>* context) {
  json j = {{"model", model},
            {"created_at", created_at},
            {"response", response},
            {"done", true},
            {"done_reason", reason}};
  if (context) j["context"] = *context;
  add_timings(j, t);
  return j;
}

std::string dump_line(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

// ---- model descriptions --------------------------------------------------------------------

std::string format_parameter_size(uint64_t n) {
  char buf[32];
  if (n >= 1000000000ull) std::snprintf(buf, sizeof buf, "%.1fB", double(n) / 1e9);
  else if (n >= 1000000ull) std::snprintf(buf, sizeof buf, "%.2fM", double(n) / 1e6);
  else if (n >= 1000ull) std::snprintf(buf, sizeof buf, "%.1fK", double(n) / 1e3);
  else std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(n));
  return buf;
}

std::string file_type_name(uint64_t t) {
  // llama.cpp's llama_ftype ids (the values converters write to general.file_type).
  static const std::map<uint64_t, const char*> kNames = {
      {0, "F32"},      {1, "F16"},     {2, "Q4_0"},    {3, "Q4_1"},     {7, "Q8_0"},
      {8, "Q5_0"},     {9, "Q5_1"},    {10, "Q2_K"},   {11, "Q3_K_S"},  {12, "Q3_K_M"},
      {13, "Q3_K_L"},  {14, "Q4_K_S"}, {15, "Q4_K_M"}, {16, "Q5_K_S"},  {17, "Q5_K_M"},
      {18, "Q6_K"},    {19, "IQ2_XXS"}, {20, "IQ2_XS"}, {21, "Q2_K_S"}, {22, "IQ3_XS"},
      {23, "IQ3_XXS"}, {24, "IQ1_S"},  {25, "IQ4_NL"}, {26, "IQ3_S"},   {27, "IQ3_M"},
      {28, "IQ2_S"},   {29, "IQ2_M"},  {30, "IQ4_XS"}, {31, "IQ1_M"},   {32, "BF16"},
      {36, "TQ1_0"},   {37, "TQ2_0"}};
  auto it = kNames.find(t);
  return it == kNames.end() ? std::string() : it->second;
}

ModelFacts model_facts(const gguf::File& file) {
  ModelFacts f;
  if (auto a = file.get_string("general.architecture")) f.architecture = *a;
  if (auto l = file.get_string("general.license")) f.license = *l;
  if (auto t = file.get_string("tokenizer.chat_template")) f.chat_template = *t;
  if (auto c = file.get_uint(f.architecture + ".context_length")) f.context_length = int64_t(*c);
  if (auto p = file.get_uint("general.parameter_count")) {
    f.parameter_count = *p;
  } else {
    for (const gguf::TensorInfo& t : file.tensors()) f.parameter_count += uint64_t(t.n_elements());
  }
  f.parameter_size = format_parameter_size(f.parameter_count);
  if (auto ft = file.get_uint("general.file_type")) f.quantization_level = file_type_name(*ft);
  if (f.quantization_level.empty()) {
    // No (known) file type: name the type holding most of the weights.
    std::map<std::string, uint64_t> by_type;
    for (const gguf::TensorInfo& t : file.tensors()) {
      if (const TypeTraits* tt = type_traits(uint32_t(t.type)))
        by_type[std::string(tt->name)] += uint64_t(t.n_elements());
    }
    uint64_t best = 0;
    for (const auto& [name, n] : by_type)
      if (n > best) best = n, f.quantization_level = name;
  }
  for (const auto& [key, v] : file.metadata()) {
    if (key == "tokenizer.chat_template") continue;
    if (const std::string* s = v.as_string()) f.model_info[key] = *s;
    else if (v.type == gguf::ValueType::kBool) f.model_info[key] = v.as_bool().value_or(false);
    else if (v.is_float()) f.model_info[key] = v.as_f64().value_or(0);
    else if (auto i = v.as_i64()) f.model_info[key] = *i;
    else if (auto u = v.as_u64()) f.model_info[key] = *u;
    else if (v.as_array()) f.model_info[key] = nullptr;  // Ollama: only with verbose
  }
  if (!f.model_info.contains("general.parameter_count"))
    f.model_info["general.parameter_count"] = f.parameter_count;
  return f;
}

json details_json(const ModelFacts& f) {
  return {{"parent_model", ""},
          {"format", "gguf"},
          {"family", f.architecture},
          {"families", f.architecture.empty() ? json(nullptr) : json::array({f.architecture})},
          {"parameter_size", f.parameter_size},
          {"quantization_level", f.quantization_level}};
}

std::string file_digest(std::string_view path, uint64_t size, int64_t mtime_ns) {
  // FNV-1a over the identity, four lanes with different offsets: 256 bits of hex.
  std::string key(path);
  key += '\0' + std::to_string(size) + '\0' + std::to_string(mtime_ns);
  std::string out;
  for (uint64_t lane = 0; lane < 4; ++lane) {
    uint64_t h = 0xcbf29ce484222325ull ^ (lane * 0x9e3779b97f4a7c15ull);
    for (unsigned char c : key) h = (h ^ c) * 0x100000001b3ull;
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    out += buf;
  }
  return out;
}

}  // namespace hearth::server::ollama
