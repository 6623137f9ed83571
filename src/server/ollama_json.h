// The Ollama API's JSON, without HTTP: request parsing (options, keep_alive, messages with tool
// calls), response shapes (created_at, the nanosecond timing fields, /api/tags details,
// /api/show model_info). Tool calls in generated text: tool_calls.h. Field names and
// defaults follow Ollama's docs/api.md; routes live in ollama_api.cpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/chat_template.h"
#include "core/status.h"
#include "gguf/reader.h"
#include "sampling/grammar.h"
#include "sampling/sampler.h"
#include "server/scheduler.h"

namespace hearth::server::ollama {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

// A client error: Ollama answers {"error": "..."} with this status.
struct ApiError {
  int status = 400;
  std::string message;
};
json error_body(std::string_view message);

// ---- durations and times -----------------------------------------------------------------
// keep_alive as Ollama reads it: a number of seconds, or a Go duration string ("5m", "1h30m",
// "300ms", "-1s"); negative means "forever". nullopt: absent or null (the server's default).
// Returned as milliseconds; forever is kKeepAliveForever.
inline constexpr std::chrono::milliseconds kKeepAliveForever{-1};
Result<std::optional<std::chrono::milliseconds>> parse_keep_alive(const json& value);
// Go's time.ParseDuration grammar: [-+]?(number unit)+ with units ns us µs ms s m h, or "0".
Result<std::chrono::nanoseconds> parse_go_duration(std::string_view text);
// RFC 3339 in UTC with nanoseconds, trailing zeros trimmed, as Go's RFC3339Nano prints
// ("2023-08-04T19:22:45.499127Z").
std::string rfc3339(std::chrono::system_clock::time_point t);
std::string rfc3339(std::filesystem::file_time_type t);
int64_t ms_to_ns(double ms);

// ---- requests ----------------------------------------------------------------------------
// The `options` object (Modelfile parameters). Unknown keys are ignored as Ollama does; keys
// with the wrong type are errors naming the option.
struct Options {
  sampling::SamplerParams sampling;
  bool seeded = false;          // options.seed given (else each request draws one)
  int64_t num_predict = -1;     // < 0: until EOG or the context is full (-2 too)
  int64_t num_ctx = 0;          // 0: the server's context
  std::vector<std::string> stop;
};
// Ollama's defaults: temperature 0.8, top_k 40, top_p 0.9, min_p 0, repeat_penalty 1.1 over
// the last 64 tokens.
Options default_options();
Status parse_options(const json& options, Options& out);

enum class Format { kNone, kJson, kSchema };

struct ChatRequest {
  std::string model;
  ordered_json messages = ordered_json::array();  // as the template sees them (tool_calls...)
  std::vector<chat::Message> plain;               // role + content, for templates without tools
  ordered_json tools;                             // null: none
  bool has_tool_messages = false;                 // tool results or assistant tool_calls
  bool stream = true;
  std::optional<std::chrono::milliseconds> keep_alive;
  Options options;
  Format format = Format::kNone;
  std::shared_ptr<const sampling::Grammar> grammar;  // `format` compiled (null: kNone)
  bool think = false;
};

struct GenerateRequest {
  std::string model;
  std::string prompt;
  std::string suffix;
  std::string system;
  std::string template_override;  // Go template text: not supported when non-empty
  bool raw = false;
  std::vector<int32_t> context;   // token ids returned by an earlier /api/generate
  bool stream = true;
  std::optional<std::chrono::milliseconds> keep_alive;
  Options options;
  Format format = Format::kNone;
  std::shared_ptr<const sampling::Grammar> grammar;  // `format` compiled (null: kNone)
  bool think = false;
};

// Validation errors are 400 with a message naming the field. Requests hearth cannot honour
// (images, a Go `template`, `suffix`, a `format` schema keyword the grammar compiler does not
// support) are also 400, saying so. `think` is accepted and recorded: no served model has a
// thinking mode, so it changes nothing (Ollama answers a model without one the same way).
Result<ChatRequest> parse_chat_request(const json& body);
Result<GenerateRequest> parse_generate_request(const json& body);
// The model name a client sends, minus a ":latest" tag; the names /api/tags lists.
std::string display_name(std::string_view alias);

// ---- responses ---------------------------------------------------------------------------
// The statistics of a finished generation, in Ollama's nanosecond fields.
struct Timings {
  int64_t total_ns = 0;
  int64_t load_ns = 0;
  int64_t prompt_eval_count = 0;
  int64_t prompt_eval_ns = 0;
  int64_t eval_count = 0;
  int64_t eval_ns = 0;
};
// load_ms: time spent acquiring (loading) the model; setup_ms: rendering and tokenizing.
Timings timings_from(const CompletionResult& r, double load_ms, double setup_ms);
void add_timings(json& j, const Timings& t);
// "stop" or "length".
const char* done_reason(const CompletionResult& r);

// One NDJSON line of /api/chat (content, done:false) and the final one.
json chat_chunk(std::string_view model, std::string_view created_at, std::string_view content);
json chat_final(std::string_view model, std::string_view created_at, const json& message,
                std::string_view reason, const Timings& t);
json generate_chunk(std::string_view model, std::string_view created_at,
                    std::string_view response);
json generate_final(std::string_view model, std::string_view created_at,
                    std::string_view response, std::string_view reason, const Timings& t,
                    const std::vector<int32_t>* context);
// JSON text for the wire: one line, invalid UTF-8 replaced, never thrown on.
std::string dump_line(const json& j);

// ---- model descriptions ------------------------------------------------------------------
// What /api/tags, /api/show and /api/ps say about a GGUF file, from its metadata alone.
struct ModelFacts {
  std::string architecture;        // general.architecture
  std::string parameter_size;      // "1.1B", "494.03M"
  std::string quantization_level;  // "Q4_K_M", "F16", ...
  uint64_t parameter_count = 0;
  int64_t context_length = 0;
  std::string license;
  std::string chat_template;       // tokenizer.chat_template ("" when absent)
  json model_info = json::object();  // general.*, <arch>.*, tokenizer.ggml.* scalars
};
ModelFacts model_facts(const gguf::File& file);
std::string format_parameter_size(uint64_t n);
// llama.cpp's file type ids (general.file_type) by name; "" when unknown.
std::string file_type_name(uint64_t file_type);
json details_json(const ModelFacts& facts);
// A stable 64-hex-digit identifier of a file version (size, mtime, path): Ollama's digest
// field, without hashing gigabytes on every /api/tags.
std::string file_digest(std::string_view path, uint64_t size, int64_t mtime_ns);

}  // namespace hearth::server::ollama
