// See codec.h.
#include "wyoming/codec.h"

#include "server/json_limits.h"  // nesting checked before nlohmann's recursive parser runs

namespace hearth::wyoming {
namespace {

using nlohmann::json;

// A length field: absent or null is 0; anything but a non-negative integer within `max` is an
// error (a negative or fractional length cannot be read as bytes).
std::optional<size_t> read_length(const json& header, const char* key, size_t max, std::string& why) {
  auto it = header.find(key);
  if (it == header.end() || it->is_null()) return size_t(0);
  if (!it->is_number_integer() && !it->is_number_unsigned()) {
    why = std::string("'") + key + "' must be a non-negative integer";
    return std::nullopt;
  }
  if (it->is_number_integer() && it->get<int64_t>() < 0) {
    why = std::string("'") + key + "' must be a non-negative integer";
    return std::nullopt;
  }
  const uint64_t v = it->get<uint64_t>();
  if (v > max) {
    why = std::string("'") + key + "' of " + std::to_string(v) + " bytes is over the limit of " +
          std::to_string(max);
    return std::nullopt;
  }
  return size_t(v);
}

}  // namespace

std::string encode(const Event& event) {
  json header = {{"type", event.type}, {"version", kProtocolVersion}};
  std::string data;
  // Data goes after the header (as the Python package writes it), so the header line stays
  // short whatever the data holds.
  if (event.data.is_object() && !event.data.empty()) data = event.data.dump(-1, ' ', false, json::error_handler_t::replace);
  if (!data.empty()) header["data_length"] = data.size();
  if (!event.payload.empty()) header["payload_length"] = event.payload.size();
  std::string out = header.dump(-1, ' ', false, json::error_handler_t::replace);
  out += '\n';
  out += data;
  out += event.payload;
  return out;
}

bool Decoder::fail(std::string message) {
  error_ = std::move(message);
  buffer_.clear();
  pending_.reset();
  return false;
}

bool Decoder::feed(std::string_view bytes) {
  if (failed()) return false;
  buffer_.append(bytes);
  // A header still without its newline: refuse as soon as it is too long, not when (if ever)
  // the newline arrives, so a peer cannot make us buffer without bound.
  if (!pending_ && buffer_.find('\n') == std::string::npos && buffer_.size() > limits_.max_header_bytes)
    return fail("header line longer than " + std::to_string(limits_.max_header_bytes) + " bytes");
  return true;
}

bool Decoder::parse_header(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (!server::json_nesting_within(line, limits_.max_depth)) return fail("header JSON nested too deeply");
  json header = json::parse(line, nullptr, false);
  if (header.is_discarded()) return fail("header is not JSON");
  if (!header.is_object()) return fail("header is not a JSON object");
  auto type = header.find("type");
  if (type == header.end() || !type->is_string() || type->get_ref<const std::string&>().empty())
    return fail("header has no 'type' string");
  Event e;
  e.type = type->get<std::string>();
  if (auto d = header.find("data"); d != header.end() && !d->is_null()) {
    if (!d->is_object()) return fail("'data' must be a JSON object");
    e.data = *d;
  }
  std::string why;
  std::optional<size_t> dl = read_length(header, "data_length", limits_.max_data_bytes, why);
  if (!dl) return fail(why);
  std::optional<size_t> pl = read_length(header, "payload_length", limits_.max_payload_bytes, why);
  if (!pl) return fail(why);
  data_length_ = *dl;
  payload_length_ = *pl;
  pending_ = std::move(e);
  return true;
}

std::optional<Event> Decoder::next() {
  if (failed()) return std::nullopt;
  if (!pending_) {
    const size_t nl = buffer_.find('\n');
    if (nl == std::string::npos) return std::nullopt;
    if (nl > limits_.max_header_bytes) {
      fail("header line longer than " + std::to_string(limits_.max_header_bytes) + " bytes");
      return std::nullopt;
    }
    const std::string line = buffer_.substr(0, nl);
    buffer_.erase(0, nl + 1);
    if (!parse_header(line)) return std::nullopt;
  }
  if (buffer_.size() < data_length_ + payload_length_) return std::nullopt;
  Event e = std::move(*pending_);
  pending_.reset();
  if (data_length_ > 0) {
    const std::string_view text(buffer_.data(), data_length_);
    if (!server::json_nesting_within(text, limits_.max_depth)) {
      fail("data JSON nested too deeply");
      return std::nullopt;
    }
    json data = json::parse(text, nullptr, false);
    if (data.is_discarded() || !data.is_object()) {
      fail("data is not a JSON object");
      return std::nullopt;
    }
    // The data bytes take precedence over the header's inline "data" (the reference reader
    // updates the header's dict with them).
    for (auto& [k, v] : data.items()) e.data[k] = std::move(v);
  }
  e.payload = buffer_.substr(data_length_, payload_length_);
  buffer_.erase(0, data_length_ + payload_length_);
  data_length_ = payload_length_ = 0;
  return e;
}

}  // namespace hearth::wyoming
