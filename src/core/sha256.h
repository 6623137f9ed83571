// SHA-256 (FIPS 180-4), incremental: `hearth pull` hashes a download as it arrives (and the
// bytes of a partial file it resumes) so a multi-gigabyte model is not read twice. Plain C++:
// the Pi 4's Cortex-A72 (BCM2711) has no SHA extensions to use, and a few hundred MB/s of
// scalar hashing is well above what the board downloads at.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace hearth {

class Sha256 {
 public:
  Sha256() { reset(); }
  void reset();
  void update(std::span<const uint8_t> bytes);
  void update(std::string_view text) {
    update(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  }
  // The digest of everything updated so far; the object may not be updated afterwards.
  std::array<uint8_t, 32> finish();
  // Lower-case hex of finish().
  std::string finish_hex();

 private:
  void compress(const uint8_t* block);  // one 64-byte block into state_
  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> buffer_;
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

// SHA-256 of `text` as lower-case hex.
std::string sha256_hex(std::string_view text);
// True when `s` is 64 hex digits (either case).
bool is_sha256_hex(std::string_view s);

}  // namespace hearth
