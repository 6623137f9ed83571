// PLACEHOLDER until the Ollama API lands (owned by the Ollama API helper).
#include "server/ollama_api.h"

namespace hearth::server {

void register_ollama_routes(httplib::Server&, ServerContext&) {}

}  // namespace hearth::server
