// The tool-call parts of OpenAI's chat completions, kept out of openai_api.cpp: the request's
// `tools`, `tool_choice`, `parallel_tool_calls`, messages with `tool_calls` and `role: tool`,
// and the reply's `message.tool_calls` / streamed `delta.tool_calls`.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "server/tool_calls.h"

namespace hearth::server {

struct ApiError;
struct OpenAiRequest;

// A message's tool fields into `tm` (the template shape, tool_calls.h tool_chat_context):
// an assistant's `tool_calls` ([{id, type, function: {name, arguments (a JSON string)}}], the
// arguments decoded to an object), a tool message's `tool_call_id` (and its function's name,
// found among the earlier calls). `p` is the message's path for errors ("messages[3]").
// `call_names`: the ids seen so far and their function names.
bool read_message_tools(const nlohmann::json& m, const std::string& p, nlohmann::ordered_json& tm,
                        std::vector<std::pair<std::string, std::string>>& call_names,
                        ApiError& err);

// tools, tool_choice, parallel_tool_calls into `r` (tool grammar compiled for required/named).
bool read_tools(const nlohmann::json& body, OpenAiRequest& r, ApiError& err);
// Again from the body text in key order (declared property order in the forced call).
void order_tools(const nlohmann::ordered_json& body, OpenAiRequest& r);

// OpenAI's ids for the calls of one answer ("call_" + 24 random characters).
std::vector<std::string> tool_call_ids(size_t n);
// message.tool_calls: [{id, type: "function", function: {name, arguments: "<JSON text>"}}].
nlohmann::json openai_tool_calls(const std::vector<ToolCall>& calls,
                                 const std::vector<std::string>& ids);
// The streamed deltas of the calls, as OpenAI sends them: per call one delta with index, id,
// type, function.name and arguments "", then the arguments text in pieces (whole UTF-8
// characters, at most `piece` bytes each). Each element is a `delta` object.
// `whole`: one delta per call with everything, arguments complete (ServerOptions
// tool_call_deltas_whole).
std::vector<nlohmann::json> tool_call_deltas(const std::vector<ToolCall>& calls,
                                             const std::vector<std::string>& ids,
                                             size_t piece = 48, bool whole = false);

}  // namespace hearth::server
