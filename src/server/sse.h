// Server-sent events as OpenAI streams them: each event one `data: <json>` line and a blank
// line; the stream ends with `data: [DONE]`. JSON is written on one line (no newline can split
// an event) and invalid UTF-8 is replaced, never thrown on.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace hearth::server {

inline std::string sse_data(const nlohmann::json& j) {
  return "data: " + j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n\n";
}

inline std::string sse_done() { return "data: [DONE]\n\n"; }

}  // namespace hearth::server
