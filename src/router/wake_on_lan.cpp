// See wake_on_lan.h.
#include "router/wake_on_lan.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace hearth::router {

std::vector<uint8_t> magic_packet(const std::array<uint8_t, 6>& mac) {
  std::vector<uint8_t> p(6, 0xFF);
  p.reserve(6 + 16 * 6);
  for (int i = 0; i < 16; ++i) p.insert(p.end(), mac.begin(), mac.end());
  return p;
}

Result<UdpSocket> UdpSocket::open() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error{std::string("cannot open a UDP socket: ") + std::strerror(errno)};
  UdpSocket s(fd);
  const int on = 1;
  if (::setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof on) != 0)
    return Error{std::string("cannot enable UDP broadcast: ") + std::strerror(errno)};
  return s;
}

UdpSocket& UdpSocket::operator=(UdpSocket&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

UdpSocket::~UdpSocket() {
  if (fd_ >= 0) ::close(fd_);
}

Status UdpSocket::send_to(const std::string& address, int port, const std::vector<uint8_t>& bytes) {
  sockaddr_in to{};
  to.sin_family = AF_INET;
  if (port < 1 || port > 65535) return Error{"UDP port out of range: " + std::to_string(port)};
  to.sin_port = htons(uint16_t(port));
  if (::inet_pton(AF_INET, address.c_str(), &to.sin_addr) != 1)
    return Error{"not an IPv4 address: '" + address + "'"};
  const ssize_t n = ::sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  if (n < 0) return Error{"sending to " + address + ":" + std::to_string(port) + ": " + std::strerror(errno)};
  if (size_t(n) != bytes.size()) return Error{"short UDP send to " + address};
  return {};
}

Status send_magic_packet(const std::array<uint8_t, 6>& mac, const std::string& address, int port) {
  Result<UdpSocket> s = UdpSocket::open();
  if (!s) return s.error();
  return s->send_to(address, port, magic_packet(mac));
}

}  // namespace hearth::router
