// JSON Schema → grammar (grammar.h text form), for structured output: OpenAI's
// response_format json_schema and Ollama's `format` schema. What is supported, and what is
// refused or ignored, is listed in docs/server.md "Structured output".
//
// Output shape: no whitespace before the root value or after it (generation ends on the last
// brace), at most `max_ws` whitespace characters between tokens, declared properties only, in
// declared order (a random or weak model cannot wander off into extra keys), optional
// properties in any subset. Numbers have at most 16 digits per part, so every value the
// grammar allows is also one a JSON parser reads back exactly.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"
#include "sampling/grammar.h"

namespace hearth::sampling {

struct JsonGrammarOptions {
  int max_ws = 20;  // whitespace characters allowed at each place JSON allows whitespace
};

// Errors name the schema location and the keyword ("schema.properties.age: 'multipleOf' is
// not supported").
// nlohmann::json sorts object keys; pass an ordered_json (parsed from the request text) to
// keep the declared order of `properties`, which is the order the output follows.
Result<std::string> json_schema_to_grammar(const nlohmann::json& schema,
                                           const JsonGrammarOptions& options = {});
Result<std::string> json_schema_to_grammar(const nlohmann::ordered_json& schema,
                                           const JsonGrammarOptions& options = {});
Result<std::shared_ptr<const Grammar>> compile_json_schema(const nlohmann::json& schema,
                                                           const JsonGrammarOptions& options = {});
Result<std::shared_ptr<const Grammar>> compile_json_schema(const nlohmann::ordered_json& schema,
                                                           const JsonGrammarOptions& options = {});
// Any JSON object (OpenAI json_object, Ollama format "json").
std::string json_object_grammar(const JsonGrammarOptions& options = {});
std::shared_ptr<const Grammar> compile_json_object(const JsonGrammarOptions& options = {});

}  // namespace hearth::sampling
