#include "system/machine.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>

#include <fmt/format.h>

namespace hearth::system {
namespace fs = std::filesystem;

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && (std::isspace(static_cast<unsigned char>(s.back())) || s.back() == '\0'))
    s.remove_suffix(1);
  return s;
}

// A whole trimmed decimal integer ("45123\n"); nullopt for anything else ("abc", "12x", "").
std::optional<int64_t> parse_int(std::string_view text) {
  text = trim(text);
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

// What a garbage file held, short enough for one log line.
std::string shown(std::string_view text) {
  text = trim(text);
  std::string out(text.substr(0, 24));
  for (char& c : out)
    if (!std::isprint(static_cast<unsigned char>(c))) c = '?';
  return "'" + out + (text.size() > 24 ? "...'" : "'");
}

// Numbered entries "<prefix><n>" of a directory (thermal_zone0, cpu3, ...), sorted by n.
std::vector<std::pair<int, fs::path>> numbered_entries(const fs::path& dir, std::string_view prefix) {
  std::vector<std::pair<int, fs::path>> out;
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    const auto n = parse_int(std::string_view(name).substr(prefix.size()));
    if (!n || name.find_first_not_of("0123456789", prefix.size()) != std::string::npos) continue;
    out.emplace_back(int(*n), it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool names_a_cpu(std::string type) {
  std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  for (const char* word : {"cpu", "soc", "x86_pkg", "coretemp", "k10temp", "tctl"})
    if (type.find(word) != std::string::npos) return true;
  return false;
}

// cpufreq holds kHz; "<unsupported>" or garbage gives a problem naming the file.
std::optional<double> read_khz_as_mhz(const fs::path& file, std::vector<std::string>& problems) {
  const auto text = read_text(file);
  if (!text) return std::nullopt;
  const auto khz = parse_int(*text);
  if (!khz || *khz <= 0) {
    problems.push_back(fmt::format("{}: {} is not a clock in kHz", file.string(), shown(*text)));
    return std::nullopt;
  }
  return double(*khz) / 1000.0;
}


bool has_field(std::string_view text, std::string_view key) {
  return text.substr(0, key.size() + 1) == std::string(key) + ":" ||
         text.find("\n" + std::string(key) + ":") != std::string_view::npos;
}

// The firmware node's get_throttled: soc/soc:firmware on the Pi 4 kernels; on others the
// soc node has another name, so look one level into every platform node that names a soc.
std::optional<fs::path> find_get_throttled(const SystemRoot& root) {
  const fs::path platform = root.sys() / "devices" / "platform";
  const fs::path classic = platform / "soc" / "soc:firmware" / "get_throttled";
  std::error_code ec;
  if (fs::exists(classic, ec)) return classic;
  for (auto it = fs::directory_iterator(platform, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.find("soc") == std::string::npos && name.find("firmware") == std::string::npos) continue;
    if (fs::exists(it->path() / "get_throttled", ec)) return it->path() / "get_throttled";
    std::error_code ec2;
    for (auto sub = fs::directory_iterator(it->path(), ec2); !ec2 && sub != fs::directory_iterator();
         sub.increment(ec2)) {
      const std::string sn = sub->path().filename().string();
      if (sn.find("firmware") != std::string::npos && fs::exists(sub->path() / "get_throttled", ec))
        return sub->path() / "get_throttled";
    }
  }
  return std::nullopt;
}

// vcgencmd from PATH, without a shell message when it is not installed.
std::optional<std::string> run_vcgencmd_get_throttled() {
  const char* path_env = std::getenv("PATH");
  std::string_view path = path_env ? path_env : "/usr/bin:/bin";
  std::string found;
  while (!path.empty() && found.empty()) {
    const size_t colon = path.find(':');
    const std::string dir(path.substr(0, colon));
    path = colon == std::string_view::npos ? std::string_view() : path.substr(colon + 1);
    const std::string candidate = (dir.empty() ? std::string(".") : dir) + "/vcgencmd";
    if (::access(candidate.c_str(), X_OK) == 0) found = candidate;
  }
  if (found.empty()) return std::nullopt;
  FILE* p = ::popen(("'" + found + "' get_throttled 2>/dev/null").c_str(), "r");
  if (!p) return std::nullopt;
  std::string out;
  char buf[256];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0 && out.size() < 4096) out.append(buf, n);
  if (::pclose(p) != 0) return std::nullopt;
  return out;
}

}  // namespace

std::optional<uint64_t> kib_field(std::string_view text, std::string_view key) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    const std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.size() <= key.size() || line.substr(0, key.size()) != key || line[key.size()] != ':') continue;
    std::string_view rest = trim(line.substr(key.size() + 1));
    if (rest.size() >= 2 && rest.substr(rest.size() - 2) == "kB") rest = trim(rest.substr(0, rest.size() - 2));
    const auto kb = parse_int(rest);
    if (!kb || *kb < 0) return std::nullopt;
    return uint64_t(*kb) * 1024;
  }
  return std::nullopt;
}

Result<SystemRoot> system_root_at(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return Error{"--sysfs-root " + dir + ": no such folder"};
  return SystemRoot{dir};
}

std::optional<std::string> read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return std::nullopt;  // e.g. EIO from a sysfs file the driver refuses
  return ss.str();
}

std::optional<std::string> read_line(const fs::path& path) {
  auto text = read_text(path);
  if (!text) return std::nullopt;
  const std::string_view first = std::string_view(*text).substr(0, text->find('\n'));
  return std::string(trim(first));
}

// ---- temperature -------------------------------------------------------------------------

Temperature read_cpu_temperature(const SystemRoot& root) {
  Temperature t;
  const fs::path dir = root.sys() / "class" / "thermal";
  const auto zones = numbered_entries(dir, "thermal_zone");
  std::optional<double> cpu_best, any_best;
  std::string cpu_zone, any_zone;
  std::vector<std::string> problems;
  for (const auto& [n, zone] : zones) {
    const auto text = read_text(zone / "temp");
    if (!text) continue;  // a zone whose sensor is off refuses the read (EINVAL, ENODATA)
    const auto milli = parse_int(*text);
    const std::string type = read_line(zone / "type").value_or("");
    const std::string label = zone.filename().string() + (type.empty() ? "" : " (" + type + ")");
    if (!milli) {
      problems.push_back(fmt::format("{}: {} is not millidegrees", (zone / "temp").string(), shown(*text)));
      continue;
    }
    const double c = double(*milli) / 1000.0;
    if (c < -40 || c > 150) continue;  // -273 °C or a disconnected sensor's huge value
    const bool cpu = names_a_cpu(type);
    auto& best = cpu ? cpu_best : any_best;
    if (!best || c > *best) {
      best = c;
      (cpu ? cpu_zone : any_zone) = label;
    }
  }
  if (cpu_best) {
    t.celsius = cpu_best, t.zone = cpu_zone;
  } else if (any_best) {
    t.celsius = any_best, t.zone = any_zone;
  }
  if (!problems.empty()) {
    t.problem = problems.front();
  } else if (!t.celsius) {
    t.problem = zones.empty() ? fmt::format("no thermal zones under {}", dir.string())
                              : fmt::format("no readable temperature in {} thermal zones under {}", zones.size(),
                                            dir.string());
  }
  return t;
}

// ---- clocks ------------------------------------------------------------------------------

Clocks read_clocks(const SystemRoot& root) {
  Clocks c;
  for (const auto& [n, cpu] : numbered_entries(root.sys() / "devices" / "system" / "cpu", "cpu")) {
    const fs::path f = cpu / "cpufreq";
    std::error_code ec;
    if (!fs::is_directory(f, ec)) continue;
    CoreClock core;
    core.cpu = n;
    core.cur_mhz = read_khz_as_mhz(f / "scaling_cur_freq", c.problems);
    core.min_mhz = read_khz_as_mhz(f / "cpuinfo_min_freq", c.problems);
    core.max_mhz = read_khz_as_mhz(f / "cpuinfo_max_freq", c.problems);
    core.governor = read_line(f / "scaling_governor").value_or("");
    c.cores.push_back(std::move(core));
  }
  return c;
}

std::optional<double> Clocks::cur_min_mhz() const {
  std::optional<double> v;
  for (const CoreClock& k : cores)
    if (k.cur_mhz && (!v || *k.cur_mhz < *v)) v = k.cur_mhz;
  return v;
}
std::optional<double> Clocks::cur_max_mhz() const {
  std::optional<double> v;
  for (const CoreClock& k : cores)
    if (k.cur_mhz && (!v || *k.cur_mhz > *v)) v = k.cur_mhz;
  return v;
}
std::optional<double> Clocks::max_mhz() const {
  std::optional<double> v;
  for (const CoreClock& k : cores)
    if (k.max_mhz && (!v || *k.max_mhz > *v)) v = k.max_mhz;
  return v;
}
std::vector<std::string> Clocks::governors() const {
  std::vector<std::string> out;
  for (const CoreClock& k : cores)
    if (!k.governor.empty() && std::find(out.begin(), out.end(), k.governor) == out.end()) out.push_back(k.governor);
  return out;
}

int count_online_cpus(const SystemRoot& root) {
  const fs::path cpu_dir = root.sys() / "devices" / "system" / "cpu";
  if (const auto online = read_line(cpu_dir / "online")) {
    // "0-3" or "0,2-3": ranges separated by commas.
    int count = 0;
    bool ok = !online->empty();
    std::string_view s = *online;
    while (ok && !s.empty()) {
      const size_t comma = s.find(',');
      const std::string_view part = s.substr(0, comma);
      s = comma == std::string_view::npos ? std::string_view() : s.substr(comma + 1);
      const size_t dash = part.find('-');
      const auto a = parse_int(part.substr(0, dash));
      const auto b = dash == std::string_view::npos ? a : parse_int(part.substr(dash + 1));
      if (!a || !b || *b < *a || *b - *a > 4096) ok = false;
      else count += int(*b - *a + 1);
    }
    if (ok && count > 0) return count;
  }
  return int(numbered_entries(cpu_dir, "cpu").size());
}

// ---- throttling --------------------------------------------------------------------------

const std::vector<ThrottleFlagInfo>& throttle_flag_table() {
  static const std::vector<ThrottleFlagInfo> table = {
      {kUnderVoltageNow, "under_voltage_now", "under-voltage now"},
      {kFreqCappedNow, "freq_capped_now", "ARM frequency capped now"},
      {kThrottledNow, "throttled_now", "currently throttled"},
      {kSoftTempLimitNow, "soft_temp_limit_now", "soft temperature limit active"},
      {kUnderVoltageOccurred, "under_voltage_since_boot", "under-voltage since boot"},
      {kFreqCappedOccurred, "freq_capped_since_boot", "ARM frequency capped since boot"},
      {kThrottledOccurred, "throttled_since_boot", "throttled since boot"},
      {kSoftTempLimitOccurred, "soft_temp_limit_since_boot", "soft temperature limit since boot"},
  };
  return table;
}

std::string describe_throttle_bits(uint32_t bits) {
  std::string out;
  for (const ThrottleFlagInfo& f : throttle_flag_table())
    if (bits & f.bit) out += (out.empty() ? "" : ", ") + std::string(f.description);
  return out.empty() ? "none" : out;
}

Result<uint32_t> parse_throttled_hex(std::string_view text) {
  std::string_view s = trim(text);
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
  uint32_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size())
    return Error{fmt::format("{} is not a hexadecimal throttled word", shown(text))};
  return v;
}

Result<uint32_t> parse_vcgencmd_throttled(std::string_view text) {
  const std::string_view s = trim(text);
  if (s.substr(0, 10) != "throttled=")
    return Error{fmt::format("vcgencmd get_throttled printed {}, not throttled=0x...", shown(text))};
  return parse_throttled_hex(s.substr(10));
}

Throttle read_throttle(const SystemRoot& root, bool allow_vcgencmd) {
  Throttle t;
  if (const auto file = find_get_throttled(root)) {
    t.source = file->string();
    const auto text = read_text(*file);
    if (!text) {
      t.problem = fmt::format("{} is not readable", file->string());
    } else if (Result<uint32_t> bits = parse_throttled_hex(*text); bits) {
      t.bits = *bits;
      return t;
    } else {
      t.problem = fmt::format("{}: {}", file->string(), bits.error().message);
    }
  }
  if (allow_vcgencmd && root.live()) {
    if (const auto out = run_vcgencmd_get_throttled()) {
      if (Result<uint32_t> bits = parse_vcgencmd_throttled(*out); bits) {
        t.bits = *bits, t.source = "vcgencmd get_throttled", t.problem.clear();
        return t;
      } else if (t.problem.empty()) {
        t.problem = bits.error().message;
      }
    }
  }
  // Mainline kernels: only the under-voltage alarm of the rpi_volt hwmon.
  std::error_code ec;
  for (const auto& [n, hw] : numbered_entries(root.sys() / "class" / "hwmon", "hwmon")) {
    if (read_line(hw / "name").value_or("") != "rpi_volt") continue;
    const fs::path alarm = hw / "in0_lcrit_alarm";
    const auto text = read_text(alarm);
    const auto v = text ? parse_int(*text) : std::nullopt;
    if (!v || (*v != 0 && *v != 1)) {
      if (t.problem.empty())
        t.problem = text ? fmt::format("{}: {} is not 0 or 1", alarm.string(), shown(*text))
                         : fmt::format("{} is not readable", alarm.string());
      continue;
    }
    t.bits = *v ? uint32_t(kUnderVoltageNow) : 0u;
    t.source = alarm.string();
    t.problem.clear();
    return t;
  }
  if (t.problem.empty())
    t.problem = "no Raspberry Pi firmware flags here (no get_throttled in " +
                (root.sys() / "devices" / "platform").string() + ", no vcgencmd, no rpi_volt hwmon)";
  return t;
}

// ---- memory ------------------------------------------------------------------------------

Result<MemInfo> parse_meminfo(std::string_view text, std::string_view file) {
  MemInfo m;
  const auto need = [&](std::string_view key, uint64_t& slot, bool required) -> Status {
    if (const auto v = kib_field(text, key)) {
      slot = *v;
      return {};
    }
    if (has_field(text, key)) return Error{fmt::format("{}: {} is not a size in kB", file, key)};
    if (required) return Error{fmt::format("{} has no {} line", file, key)};
    return {};
  };
  if (Status s = need("MemTotal", m.total, true); !s) return s.error();
  if (m.total == 0) return Error{fmt::format("{}: MemTotal is 0", file)};
  if (Status s = need("MemAvailable", m.available, false); !s) return s.error();
  if (!has_field(text, "MemAvailable")) {
    // Kernels before 3.14: free + page cache is the nearest estimate.
    m.available = kib_field(text, "MemFree").value_or(0) + kib_field(text, "Cached").value_or(0);
  }
  m.available = std::min(m.available, m.total);
  if (Status s = need("SwapTotal", m.swap_total, false); !s) return s.error();
  if (Status s = need("SwapFree", m.swap_free, false); !s) return s.error();
  m.swap_free = std::min(m.swap_free, m.swap_total);
  return m;
}

Result<MemInfo> read_meminfo(const SystemRoot& root) {
  const fs::path file = root.proc() / "meminfo";
  const auto text = read_text(file);
  if (!text) return Error{fmt::format("{} is not readable", file.string())};
  return parse_meminfo(*text, file.string());
}

ProcessMemory parse_proc_status(std::string_view text) {
  return {kib_field(text, "VmRSS"), kib_field(text, "VmHWM")};
}

ProcessMemory read_process_memory(const SystemRoot& root) {
  const auto text = read_text(root.proc() / "self" / "status");
  if (!text) return {};
  return parse_proc_status(*text);
}

bool reset_peak_rss(const SystemRoot& root) {
  std::ofstream out(root.proc() / "self" / "clear_refs");
  if (!out) return false;
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

std::string read_board_model(const SystemRoot& root) {
  const auto text = read_text(root.proc() / "device-tree" / "model");
  if (!text) return {};
  return std::string(trim(std::string_view(*text).substr(0, text->find('\0'))));
}

Health read_health(const SystemRoot& root, bool allow_vcgencmd) {
  return {read_cpu_temperature(root), read_clocks(root), read_throttle(root, allow_vcgencmd)};
}

}  // namespace hearth::system
