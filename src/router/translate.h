// Ollama API ↔ OpenAI API, for Ollama clients of an upstream that speaks only OpenAI:
// /api/chat and /api/generate requests become /chat/completions (or /completions for a raw
// generate), and the answer comes back as Ollama's JSON — NDJSON lines when streaming, built
// from the upstream's server-sent events as they arrive.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/status.h"

namespace hearth::router {

struct TranslatedRequest {
  std::string path;      // relative to the upstream's base URL: "/chat/completions" or "/completions"
  nlohmann::json body;   // the OpenAI request
  bool stream = true;    // Ollama streams unless "stream": false
};
// `generate`: /api/generate (else /api/chat). `model`: the upstream's model name.
Result<TranslatedRequest> ollama_to_openai(const nlohmann::json& ollama, bool generate, const std::string& model);

// Splits server-sent events as bytes arrive and turns each into zero or more NDJSON lines.
class SseToNdjson {
 public:
  // `model`: the name the client asked for (echoed back); `generate`: /api/generate's shape.
  SseToNdjson(std::string model, bool generate);
  // Feeds upstream bytes; returns the NDJSON lines now complete.
  std::string feed(std::string_view bytes);
  // The closing `"done": true` line (once; "" afterwards).
  std::string finish();
  bool finished() const { return finished_; }
  int64_t tokens_completion() const { return eval_count_; }
  int64_t tokens_prompt() const { return prompt_eval_count_; }

 private:
  std::string event_lines(std::string_view event);
  std::string model_;
  bool generate_;
  std::string buf_;
  std::string done_reason_ = "stop";
  int64_t prompt_eval_count_ = 0;
  int64_t eval_count_ = 0;
  bool usage_seen_ = false;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
};

// A whole (non-streaming) OpenAI answer as Ollama's single JSON object.
nlohmann::json openai_to_ollama(const nlohmann::json& openai, const std::string& model, bool generate,
                                double total_seconds);

// Complete SSE events found in `buf` (removed from it), each the concatenated data lines.
std::vector<std::string> take_sse_events(std::string& buf);

std::string rfc3339_now();

}  // namespace hearth::router
