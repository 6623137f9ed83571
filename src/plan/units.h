// Parsing the quantities a user types on the `hearth plan` command line: sizes ("8G", "512MiB"),
// rates ("6GB/s"), parameter counts ("3.8B", "1100M") and durations of power (watts). Memory
// sizes are binary (a Pi sold as "8 GB" has 8 GiB); bandwidth is decimal, as STREAM reports it.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/status.h"

namespace hearth::plan {

// "8G", "8GB", "8GiB", "512M", "4096" (bytes) → bytes, binary multiples.
Result<uint64_t> parse_bytes(std::string_view text);
// "6GB/s", "6G", "6", "5500MB/s" → bytes per second, decimal multiples; a bare number is GB/s.
Result<double> parse_bandwidth(std::string_view text);
// "3.8B", "1.1b", "500M", "3800000000" → parameter count.
Result<double> parse_params(std::string_view text);
// "1.8", "1.8GHz", "1800MHz" → GHz.
Result<double> parse_ghz(std::string_view text);

}  // namespace hearth::plan
