// The Ollama-compatible routes of `hearth serve`: POST /api/chat, /api/generate, /api/show,
// GET /api/tags, /api/ps, /api/version, and GET / ("Ollama is running", which some clients
// probe). /api/embed and /api/embeddings are in embeddings_api.h; generate and chat on an
// embedding-only model (bert) answer 400. The model-management routes (pull, push, create,
// copy, delete) answer 501: hearth serves the GGUF files it was given. Request parsing and response shapes are in ollama_json.h.
#pragma once

#include "server/server_context.h"

namespace hearth::server {

void register_ollama_routes(httplib::Server& server, ServerContext& context);

}  // namespace hearth::server
