#include "plan/units.h"

#include <cctype>
#include <cmath>
#include <string>

namespace hearth::plan {
namespace {

std::string lower(std::string_view s) {
  std::string out;
  for (char c : s)
    if (!std::isspace(static_cast<unsigned char>(c))) out += char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Splits "3.8gb/s" into 3.8 and "gb/s"; false when no number leads or it is not finite/positive.
bool split_number(const std::string& s, double& value, std::string& unit) {
  size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  if (i == 0) return false;
  const std::string number = s.substr(0, i);
  if (number.find('.') != number.rfind('.') || number == ".") return false;
  value = std::stod(number);
  unit = s.substr(i);
  return std::isfinite(value) && value > 0;
}

}  // namespace

Result<uint64_t> parse_bytes(std::string_view text) {
  const std::string s = lower(text);
  double v = 0;
  std::string unit;
  const Error bad{"cannot read the size '" + std::string(text) + "' (examples: 8G, 512M, 4GiB)"};
  if (!split_number(s, v, unit)) return bad;
  if (unit.ends_with("ib")) unit.resize(unit.size() - 2);
  else if (unit.size() > 1 && unit.ends_with("b")) unit.resize(unit.size() - 1);
  double scale = 0;
  if (unit.empty() || unit == "b") scale = 1;
  else if (unit == "k") scale = 1024.0;
  else if (unit == "m") scale = 1024.0 * 1024;
  else if (unit == "g") scale = 1024.0 * 1024 * 1024;
  else if (unit == "t") scale = 1024.0 * 1024 * 1024 * 1024;
  else return bad;
  const double bytes = v * scale;
  if (bytes < 1 || bytes > 1.8e19) return bad;
  return static_cast<uint64_t>(bytes);
}

Result<double> parse_bandwidth(std::string_view text) {
  std::string s = lower(text);
  double v = 0;
  std::string unit;
  const Error bad{"cannot read the bandwidth '" + std::string(text) + "' (examples: 6GB/s, 5500MB/s)"};
  if (!split_number(s, v, unit)) return bad;
  if (unit.ends_with("/s")) unit.resize(unit.size() - 2);
  if (unit.ends_with("b")) unit.resize(unit.size() - 1);
  double scale = 0;
  if (unit.empty() || unit == "g") scale = 1e9;
  else if (unit == "m") scale = 1e6;
  else if (unit == "t") scale = 1e12;
  else return bad;
  if (v * scale > 1e14) return bad;
  return v * scale;
}

Result<double> parse_params(std::string_view text) {
  const std::string s = lower(text);
  double v = 0;
  std::string unit;
  const Error bad{"cannot read the parameter count '" + std::string(text) + "' (examples: 3.8B, 500M)"};
  if (!split_number(s, v, unit)) return bad;
  double scale = 0;
  if (unit.empty()) scale = 1;
  else if (unit == "k") scale = 1e3;
  else if (unit == "m") scale = 1e6;
  else if (unit == "b" || unit == "g") scale = 1e9;
  else if (unit == "t") scale = 1e12;
  else return bad;
  const double n = v * scale;
  if (n < 1e6 || n > 1e13) return Error{"the parameter count '" + std::string(text) + "' is out of range (1M to 10T)"};
  return n;
}

Result<double> parse_ghz(std::string_view text) {
  const std::string s = lower(text);
  double v = 0;
  std::string unit;
  const Error bad{"cannot read the clock '" + std::string(text) + "' (examples: 1.8, 2.4GHz, 1500MHz)"};
  if (!split_number(s, v, unit)) return bad;
  if (unit == "mhz") v /= 1000;
  else if (!unit.empty() && unit != "ghz") return bad;
  if (v < 0.01 || v > 10) return bad;
  return v;
}

}  // namespace hearth::plan
