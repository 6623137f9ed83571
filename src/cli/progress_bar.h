// The one-line progress bar long-running commands draw on a terminal's stderr.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace hearth::cli {

// "1:05" or "1:02:03".
std::string format_duration(double seconds);

struct ProgressLine {
  size_t index = 0;          // 0-based item being worked on
  size_t count = 0;          // items in all
  double fraction = 0;       // of the whole job, 0..1
  double rate = 0;           // units per second, already scaled (e.g. MB/s)
  std::string_view unit;     // printed after the rate: "MB/s"
  double seconds = 0;        // elapsed, for the ETA
  std::string_view name;     // the item, shortened from the left to fit
  double eta_seconds = -1;   // time left when the caller knows better (a resumed download);
                             // < 0: from `seconds` and `fraction`
};

// Redraws the bar in place (\r, clear to end of line).
void draw_progress_bar(const ProgressLine& line);

}  // namespace hearth::cli
