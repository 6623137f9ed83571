// The OpenAI-compatible routes of `hearth serve` (/v1/chat/completions, /v1/completions,
// /v1/models) and the request parsing behind them, exposed for tests.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "chat/chat_template.h"
#include "core/status.h"
#include "server/model_registry.h"
#include "server/scheduler.h"
#include "server/server_context.h"
#include "server/tool_calls.h"

namespace hearth::server {

void register_openai_routes(httplib::Server& server, ServerContext& context);

// A client error in OpenAI's shape: {"error": {"message", "type", "param", "code"}}.
struct ApiError {
  int status = 400;
  std::string message;
  std::string type = "invalid_request_error";
  std::string param;  // the offending field ("" : null)
  std::string code;   // "" : null
};
nlohmann::json error_body(const ApiError& e);
// A model the registry could not hand out, in OpenAI's shape (404 names `model`).
ApiError acquire_error(const AcquireError& e);

// The fields of a chat or text completion request, validated (types, ranges) with errors
// naming the field. `chat`: messages are required, else prompt.
struct OpenAiRequest {
  std::string model;
  std::vector<chat::Message> messages;  // chat
  // chat: the messages in the template shape, with tool calls and tool results
  // (tool_calls.h tool_chat_context); used when tools are offered or tool messages present.
  nlohmann::ordered_json template_messages = nlohmann::ordered_json::array();
  bool has_tool_messages = false;
  std::vector<std::string> prompts;     // completions: a string or a list of strings
  bool stream = false;
  bool include_usage = false;           // stream_options.include_usage
  bool echo = false;                    // completions
  int64_t max_tokens = -1;
  std::vector<std::string> stop;
  sampling::SamplerParams sampling;
  int top_logprobs = -1;                // < 0: no logprobs
  bool ignore_eos = false;              // llama.cpp's extension: never stop at an EOG token
  // response_format json_object / json_schema, compiled (sampling/json_schema.h); null: text.
  // tool_choice required / named: the grammar of one call (tool_calls.h tool_call_grammar).
  std::shared_ptr<const sampling::Grammar> grammar;
  // Tools (openai_tools.h): as the request wrote them; null when none are offered (absent,
  // empty, or tool_choice "none").
  nlohmann::ordered_json tools;
  std::vector<ToolSpec> tool_specs;
  ToolChoice tool_choice;
  bool parallel_tool_calls = true;
  bool parse_tool_calls = false;  // split the answer into content and tool_calls
};
Result<OpenAiRequest> parse_openai_request(const nlohmann::json& body, bool chat, ApiError& error);

}  // namespace hearth::server
