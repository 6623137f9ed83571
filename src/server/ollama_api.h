// PLACEHOLDER until the Ollama API lands: the /api routes of `hearth serve`.
#pragma once

#include "server/server_context.h"

namespace hearth::server {

void register_ollama_routes(httplib::Server& server, ServerContext& context);

}  // namespace hearth::server
