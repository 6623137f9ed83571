#include "bench/system_monitor.h"

#include <charconv>
#include <fstream>
#include <sstream>
#include <system_error>

#include <fmt/format.h>

namespace hearth::bench {
namespace {

std::optional<std::string> read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The first integer in `text` (leading blanks skipped); nullopt when there is none.
std::optional<int64_t> parse_leading_int(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data() + i, text.data() + text.size(), v);
  if (ec != std::errc() || end == text.data() + i) return std::nullopt;
  return v;
}

std::optional<int64_t> read_int_file(const std::filesystem::path& path) {
  const auto text = read_text(path);
  if (!text) return std::nullopt;
  return parse_leading_int(*text);
}

// "VmRSS:\t  1234 kB" → bytes.
std::optional<uint64_t> status_field_bytes(std::string_view text, std::string_view key) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    const std::string_view line = text.substr(pos, eol - pos);
    if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ':') {
      const auto kb = parse_leading_int(line.substr(key.size() + 1));
      if (!kb || *kb < 0) return std::nullopt;
      return static_cast<uint64_t>(*kb) * 1024;
    }
    pos = eol + 1;
  }
  return std::nullopt;
}

// Numbered entries "<prefix><n>" of a directory (thermal_zone0, cpu3, ...), in no order.
template <class Fn>
void for_each_numbered(const std::filesystem::path& dir, std::string_view prefix, Fn&& fn) {
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(dir, ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    if (name.find_first_not_of("0123456789", prefix.size()) != std::string::npos) continue;
    fn(it->path());
  }
}

void keep_min(std::optional<double>& slot, double v) {
  if (!slot || v < *slot) slot = v;
}
void keep_max(std::optional<double>& slot, double v) {
  if (!slot || v > *slot) slot = v;
}

}  // namespace

MemoryUsage parse_proc_status(std::string_view text) {
  return {status_field_bytes(text, "VmRSS"), status_field_bytes(text, "VmHWM")};
}

MemoryUsage read_memory_usage(const std::filesystem::path& status) {
  const auto text = read_text(status);
  if (!text) return {};
  return parse_proc_status(*text);
}

bool reset_peak_rss(const std::filesystem::path& clear_refs) {
  std::ofstream out(clear_refs);
  if (!out) return false;
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

ThermalSample read_thermal_sample(const std::filesystem::path& sys_root) {
  ThermalSample s;
  for_each_numbered(sys_root / "class" / "thermal", "thermal_zone", [&](const std::filesystem::path& zone) {
    // Some zones report nonsense (negative, or 0 for an absent sensor); a CPU is never below -40 °C.
    if (const auto milli = read_int_file(zone / "temp"); milli && *milli > -40000)
      keep_max(s.temp_c, double(*milli) / 1000.0);
  });
  for_each_numbered(sys_root / "devices" / "system" / "cpu", "cpu", [&](const std::filesystem::path& cpu) {
    if (const auto khz = read_int_file(cpu / "cpufreq" / "scaling_cur_freq"); khz && *khz > 0) {
      keep_min(s.freq_min_mhz, double(*khz) / 1000.0);
      keep_max(s.freq_max_mhz, double(*khz) / 1000.0);
    }
  });
  return s;
}

void ThermalRange::add(const ThermalSample& s) {
  ++n_samples;
  if (s.temp_c) {
    keep_min(temp_min_c, *s.temp_c);
    keep_max(temp_max_c, *s.temp_c);
  }
  if (s.freq_min_mhz) keep_min(freq_min_mhz, *s.freq_min_mhz);
  if (s.freq_max_mhz) keep_max(freq_max_mhz, *s.freq_max_mhz);
}

std::string format_optional(const std::optional<double>& v, int decimals) {
  return v ? fmt::format("{:.{}f}", *v, decimals) : std::string("n/a");
}

ThermalSampler::ThermalSampler(std::filesystem::path sys_root, int interval_ms)
    : sys_root_(std::move(sys_root)), interval_ms_(interval_ms > 0 ? interval_ms : 1) {
  range_.add(read_thermal_sample(sys_root_));
  thread_ = std::thread([this] { loop(); });
}

ThermalSampler::~ThermalSampler() { stop(); }

void ThermalSampler::loop() {
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, std::chrono::milliseconds(interval_ms_), [this] { return stopping_; })) {
    lock.unlock();
    const ThermalSample s = read_thermal_sample(sys_root_);
    lock.lock();
    range_.add(s);
  }
}

ThermalRange ThermalSampler::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return range_;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  const ThermalSample last = read_thermal_sample(sys_root_);
  std::lock_guard lock(mutex_);
  range_.add(last);
  return range_;
}

ThermalRange ThermalSampler::range() const {
  std::lock_guard lock(mutex_);
  return range_;
}

}  // namespace hearth::bench
