// Request bodies are parsed with nlohmann::json, whose parser copes with any depth but whose
// copy, dump() and destructor-free traversals recurse once per level: a 200 KB body of nested
// brackets overflows a worker thread's stack. Bodies are checked before any parse.
#pragma once

#include <string>
#include <string_view>

namespace hearth::server {

// Deepest nesting a request body may have; real OpenAI/Ollama requests (tools with nested
// schemas included) stay far below it.
inline constexpr int kMaxJsonDepth = 64;

// True when no array/object in `text` nests deeper than max_depth. A scan of the bytes that
// skips string literals (with their escapes); it does not validate the JSON otherwise.
inline bool json_nesting_within(std::string_view text, int max_depth = kMaxJsonDepth) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

// What a route answers (with a 400) for a body json_nesting_within refuses.
inline std::string json_too_deep_message() {
  return "the request body nests arrays/objects deeper than " + std::to_string(kMaxJsonDepth) + " levels";
}

}  // namespace hearth::server
