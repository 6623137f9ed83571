// `hearth serve --config FILE`: server options and models from a TOML file (the format is in
// docs/server.md). Command-line flags given explicitly override the file.
#pragma once

#include <chrono>
#include <filesystem>
#include <string_view>

#include "core/status.h"
#include "server/model_registry.h"
#include "server/server_context.h"

namespace hearth::server {

// Reads `path` into the options (fields absent from the file keep their values).
Status load_server_config(const std::filesystem::path& path, ServerOptions& server,
                          RegistryOptions& registry);
// The same from TOML text (`origin` names it in errors); for tests.
Status parse_server_config(std::string_view toml_text, std::string_view origin,
                           ServerOptions& server, RegistryOptions& registry);

// A keep_alive as Ollama writes it: seconds as a number, or "300", "30s", "5m", "1h", "1h30m";
// negative means forever.
Result<std::chrono::seconds> parse_duration(std::string_view text);

}  // namespace hearth::server
