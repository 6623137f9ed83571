// A Jinja2 subset, enough for the chat templates that ship in tokenizer_config.json files and in
// GGUF `tokenizer.chat_template`. It renders as HF transformers does (trim_blocks, lstrip_blocks,
// loop controls, its tojson and raise_exception). Templates come from files we do not trust:
// every error is a value with a line and column, and nesting depth, work and output size are
// bounded so a hostile template ends with an error rather than a crash or an endless render.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "chat/jinja_value.h"
#include "core/status.h"

namespace hearth::jinja {

struct Node;

struct RenderLimits {
  size_t max_output_bytes = size_t{16} << 20;
  uint64_t max_steps =
      2'000'000;  // real templates need a few thousand  // evaluated nodes and loop iterations
  int max_call_depth = 48;  // macro recursion
};

struct RenderOptions {
  RenderLimits limits;
  // Seconds since the Unix epoch for strftime_now (UTC); < 0 reads the clock. Tests pin it.
  int64_t now_unix = -1;
};

class Template {
 public:
  static Result<Template> parse(const std::string& source);

  // `context` is a dict of the template's globals (messages, add_generation_prompt, ...).
  Result<std::string> render(const Value& context, const RenderOptions& options = {}) const;

 private:
  struct Program;
  explicit Template(std::shared_ptr<const Program> program) : program_(std::move(program)) {}
  std::shared_ptr<const Program> program_;
};

}  // namespace hearth::jinja
