// Wake-on-LAN: the magic packet (6 × 0xFF, then the target's MAC 16 times: 102 bytes) sent as
// one UDP datagram. A sleeping NIC matches the pattern anywhere in any frame it sees, so the
// usual carrier is a UDP broadcast to port 9 (discard) or 7 on the box's subnet.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace hearth::router {

std::vector<uint8_t> magic_packet(const std::array<uint8_t, 6>& mac);

// A UDP socket with SO_BROADCAST set, closed by the destructor.
class UdpSocket {
 public:
  static Result<UdpSocket> open();
  UdpSocket(UdpSocket&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  UdpSocket& operator=(UdpSocket&& other) noexcept;
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;
  ~UdpSocket();

  // `address`: a dotted IPv4 address (a broadcast address such as 192.168.1.255 included).
  Status send_to(const std::string& address, int port, const std::vector<uint8_t>& bytes);
  int fd() const { return fd_; }

 private:
  explicit UdpSocket(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// One magic packet for `mac` to address:port.
Status send_magic_packet(const std::array<uint8_t, 6>& mac, const std::string& address, int port);

}  // namespace hearth::router
