// The embedding routes of `hearth serve`: OpenAI's POST /v1/embeddings and Ollama's
// POST /api/embed and legacy POST /api/embeddings, over any loaded model (a bert encoder, or a
// decoder whose hidden states are pooled). Request parsing and response shapes are exposed
// here without HTTP, for tests; docs/server.md describes the fields.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "model/config.h"
#include "server/openai_api.h"
#include "server/server_context.h"

namespace hearth::server {

void register_embedding_routes(httplib::Server& server, ServerContext& context);

// One input as the client gave it: text to tokenize, or token ids already.
struct EmbeddingInput {
  std::string text;
  std::optional<std::vector<int32_t>> ids;
};

// POST /v1/embeddings. input: a string, a list of strings, a list of token ids, or a list of
// such lists (never empty). encoding_format: "float" (default) or "base64". dimensions: must
// equal the model's width (checked once the model is known). pooling: a hearth extension
// ("mean", "cls", "last"; default the model's own, mean for decoders).
struct OpenAiEmbeddingRequest {
  std::string model;
  std::vector<EmbeddingInput> inputs;
  bool base64 = false;
  std::optional<int64_t> dimensions;
  std::optional<Pooling> pooling;
};
// Errors name the field (param) in OpenAI's shape.
bool parse_openai_embedding_request(const nlohmann::json& body, OpenAiEmbeddingRequest& out, ApiError& err);

// The little-endian float32 bytes of v, base64-encoded (what the openai clients decode).
std::string base64_floats(const std::vector<float>& v);

// {"object": "list", "data": [{"object": "embedding", "index", "embedding"}], "model", "usage"}
nlohmann::json openai_embedding_response(const std::string& model, const std::vector<std::vector<float>>& vectors,
                                         bool base64, int64_t prompt_tokens);

// POST /api/embed: input a string or a list of strings; truncate (default true) cuts inputs to
// the context instead of refusing them. POST /api/embeddings (legacy): prompt, one string.
struct OllamaEmbedRequest {
  std::string model;
  std::vector<std::string> inputs;
  bool truncate = true;
  bool legacy = false;  // /api/embeddings: prompt → embedding
  std::optional<int64_t> dimensions;
  std::optional<Pooling> pooling;
};
// Errors are messages naming the field (Ollama's {"error": "..."}).
Result<OllamaEmbedRequest> parse_ollama_embed_request(const nlohmann::json& body, bool legacy);

}  // namespace hearth::server
