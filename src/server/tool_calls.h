// Tool calls in generated text, shared by the OpenAI and Ollama routes: the parser that splits
// an answer into prose and calls, the streaming hold-back that keeps a possible call from being
// sent as text, and the grammar that forces a call (tool_choice required / named).
//
// Formats (each a row of the table in tool_calls.cpp, from the model families' chat templates
// and docs):
//   hermes     <tool_call>{"name", "arguments"}</tool_call>, anywhere, repeatable (Qwen 2.5,
//              Hermes 2/3, SmolLM3)
//   phi4       <|tool_call|>[{"name", "arguments"}]<|/tool_call|> (Phi-4-mini)
//   functools  functools[{"name", "arguments"}] (Phi-3 function-calling finetunes)
//   mistral    [TOOL_CALLS] [{"name", "arguments"}], or [TOOL_CALLS]name[ARGS]{...} (v11+)
//   llama3     <|python_tag|>{"name", "parameters"} (Llama 3.1/3.2; several joined by ";")
//   json       the whole answer one JSON object or a list of them with "name" and
//              "arguments" | "parameters" (Llama 3.x's JSON convention, any model prompted
//              with the fallback below), optionally inside a ``` fence
// Anything that does not parse as calls stays content: a malformed call is text, never an
// error, and no input can make the parser throw or recurse without bound.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "sampling/grammar.h"
#include "sampling/json_schema.h"

namespace hearth::server {

struct ToolCall {
  std::string name;
  nlohmann::ordered_json arguments = nlohmann::ordered_json::object();  // always an object
};

struct ToolCallSplit {
  std::string content;          // the prose around the calls (trimmed when calls were found)
  std::vector<ToolCall> calls;  // in the order written
  std::string format;           // the table row that matched ("" : none)
};

ToolCallSplit parse_tool_calls(std::string_view text);

// Streams text while holding back anything that may be a tool call: from an opener at the
// start (a brace, a fence, any format's tag) or a tag later in the text, everything is kept
// until the end, then split. Prose before it is released as it comes.
class ToolCallStreamer {
 public:
  // Text safe to send now (possibly empty).
  std::string feed(std::string_view text);
  // At the end: the held-back text, split.
  ToolCallSplit finish();
  bool capturing() const { return capturing_; }

 private:
  std::string held_;
  bool started_ = false;    // some non-space text was sent: only tags open a call now
  bool capturing_ = false;
};

// ---- requests ----------------------------------------------------------------------------
// A tool the client offers: {"type": "function", "function": {"name", "description",
// "parameters"}}. Validated with errors naming the field ("tools[1].function.name").
struct ToolSpec {
  std::string name;
  nlohmann::ordered_json parameters;  // a JSON schema (null: none given)
};
// `where` names the list in errors ("tools"). Empty list: no tools.
Result<std::vector<ToolSpec>> parse_tools(const nlohmann::ordered_json& tools,
                                          std::string_view where = "tools");

// tool_choice: "auto" | "none" | "required" | {"type": "function", "function": {"name"}}.
struct ToolChoice {
  enum class Mode { kAuto, kNone, kRequired, kNamed };
  Mode mode = Mode::kAuto;
  std::string name;  // kNamed
};
// Errors name `tool_choice`; a named tool that is not among `tools` is one.
Result<ToolChoice> parse_tool_choice(const nlohmann::json& value,
                                     const std::vector<ToolSpec>& tools);

// The grammar of one call in the generic JSON form, {"name": <a tool>, "arguments": <valid for
// that tool's parameters>}: for required, an anyOf over every tool; for named, that one.
// Tools without parameters take any object. Errors: a tool's schema the compiler refuses.
Result<std::shared_ptr<const sampling::Grammar>> tool_call_grammar(
    const std::vector<ToolSpec>& tools, const ToolChoice& choice,
    const sampling::JsonGrammarOptions& options = {});

// Where a chat template cannot render tools (no `tools` in its source), the tool list goes
// into the system prompt in this text, which asks for the generic JSON form.
std::string tool_system_prompt(const nlohmann::ordered_json& tools);
// The chat template context for messages in the template shape (role, content, tool_calls
// [{type, function: {name, arguments: {...}}}], tool messages with name / tool_call_id) and the
// request's tools: {"messages", "tools", "add_generation_prompt": true}. A template that does
// not render tools gets plain messages instead: the tool list in the system prompt
// (tool_system_prompt), an assistant's calls as their JSON text, a tool result as a user
// message "Tool result (name): ...".
nlohmann::ordered_json tool_chat_context(std::string_view template_source,
                                         nlohmann::ordered_json messages,
                                         const nlohmann::ordered_json& tools);
// True when the template source refers to tools (renders definitions itself).
bool template_renders_tools(std::string_view template_source);

}  // namespace hearth::server
