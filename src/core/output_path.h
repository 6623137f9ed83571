// Checks made before a long write, so a bad output path fails at once, not after minutes of work.
#pragma once

#include <filesystem>
#include <string_view>

#include "core/status.h"

namespace hearth {

// An Error when `out` is `source` itself (named by `source_role`, e.g. "input", "vocab"), a
// directory, or in a directory that is missing or not writable.
Status check_output_path(const std::filesystem::path& out, const std::filesystem::path& source,
                         std::string_view source_role);

}  // namespace hearth
