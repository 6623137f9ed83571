// The Generate callback of the Wyoming handler on a real model: the registry's model (loaded on
// first use), its chat template, its Scheduler (the same queue and slots as the HTTP APIs).
#pragma once

#include <cstdint>

#include "server/model_registry.h"
#include "wyoming/handler.h"

namespace hearth::wyoming {

// `max_tokens_limit` > 0 caps the config's max_tokens (the server's --max-tokens).
Generate registry_generate(server::ModelRegistry& registry, int64_t max_tokens_limit);

}  // namespace hearth::wyoming
