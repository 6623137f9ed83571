// Wyoming protocol framing (the rhasspy/wyoming Python package is the reference peer): an event
// is one JSON header line
//   {"type": "...", "data": {...}, "data_length": N, "payload_length": M, "version": "..."}\n
// followed by N bytes of JSON object data (its keys merged over the header's "data") and M bytes
// of opaque payload (audio, for the services that stream it).
//
// The decoder is incremental (bytes arrive in any split) and strict: a header line longer than
// max_header_bytes, lengths past their bounds, bytes that are not JSON, or JSON that is not an
// object are errors, after which the connection is to be closed (the stream cannot be
// resynchronised). Nothing here throws or allocates more than the limits allow.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace hearth::wyoming {

// The protocol version written in our headers (the Python package's 1.x line, whose readers
// accept data either inline or through data_length).
inline constexpr const char* kProtocolVersion = "1.5.4";

struct Event {
  std::string type;
  nlohmann::json data = nlohmann::json::object();
  std::string payload;
};

struct CodecLimits {
  size_t max_header_bytes = 16 * 1024;   // one header line, newline excluded
  size_t max_data_bytes = 256 * 1024;    // data_length
  size_t max_payload_bytes = 1 << 20;    // payload_length (we never need audio; bounded anyway)
  int max_depth = 32;                    // JSON nesting in header and data
};

// Bytes of one event: the header line (with data_length / payload_length when non-empty),
// then the data JSON, then the payload.
std::string encode(const Event& event);

class Decoder {
 public:
  explicit Decoder(CodecLimits limits = {}) : limits_(limits) {}

  // Appends received bytes. Returns false once the stream is broken (see error()); further
  // input is ignored.
  bool feed(std::string_view bytes);
  // The next complete event, if one is buffered. Call until empty after each feed().
  std::optional<Event> next();
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  // Bytes held for an incomplete event (bounded by the limits).
  size_t buffered() const { return buffer_.size(); }

 private:
  bool fail(std::string message);
  bool parse_header(std::string_view line);

  CodecLimits limits_;
  std::string buffer_;
  std::string error_;
  // The header of the event being read, while its data/payload bytes are still arriving.
  std::optional<Event> pending_;
  size_t data_length_ = 0;
  size_t payload_length_ = 0;
};

}  // namespace hearth::wyoming
