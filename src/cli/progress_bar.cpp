#include "cli/progress_bar.h"

#include <cstdio>

#include <fmt/format.h>

namespace hearth::cli {

std::string format_duration(double seconds) {
  const long s = seconds < 0 ? 0 : long(seconds + 0.5);
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

void draw_progress_bar(const ProgressLine& p) {
  const double eta = p.eta_seconds >= 0 ? p.eta_seconds
                   : p.fraction > 0 ? p.seconds * (1 - p.fraction) / p.fraction : 0.0;
  constexpr int kWidth = 24;
  const int filled = int(p.fraction * kWidth + 0.5);
  std::string bar(size_t(filled), '#');
  bar.append(size_t(kWidth - filled), '-');
  std::string name(p.name);
  if (name.size() > 32) name = "..." + name.substr(name.size() - 29);
  const std::string unit(p.unit);
  // \x1b[K clears what a longer previous line left behind.
  std::fprintf(stderr, "\r[%4zu/%zu] [%s] %3d%% %7.1f %s ETA %s  %s\x1b[K", p.index + 1, p.count,
               bar.c_str(), int(p.fraction * 100), p.rate, unit.c_str(), format_duration(eta).c_str(),
               name.c_str());
  std::fflush(stderr);
}

}  // namespace hearth::cli
