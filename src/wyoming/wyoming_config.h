// The [wyoming] section of `hearth serve --config FILE` (docs/home-assistant.md), read here with
// its own toml++ pass like the router's tables, so server_config only has to accept the name.
#pragma once

#include <filesystem>
#include <string_view>

#include "core/status.h"
#include "wyoming/handler.h"

namespace hearth::wyoming {

// Fills `config` from the TOML text's [wyoming] table and its [[wyoming.intents]] (absent:
// unchanged). Unknown keys are errors naming their line.
Status parse_wyoming_config(std::string_view toml_text, std::string_view origin, WyomingConfig& config);
Status load_wyoming_config(const std::filesystem::path& path, WyomingConfig& config);

}  // namespace hearth::wyoming
