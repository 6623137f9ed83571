#include "router/wake_on_lan.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace hearth::router {
namespace {

TEST(WakeOnLan, MagicPacketLayout) {
  const std::array<uint8_t, 6> mac = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab};
  const std::vector<uint8_t> p = magic_packet(mac);
  ASSERT_EQ(p.size(), 102u);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(p[i], 0xFF);
  for (int r = 0; r < 16; ++r)
    for (int i = 0; i < 6; ++i) EXPECT_EQ(p[6 + 6 * r + i], mac[i]) << r << " " << i;
}

TEST(WakeOnLan, RefusesBadAddresses) {
  Result<UdpSocket> s = UdpSocket::open();
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_FALSE(s->send_to("gpu-box.lan", 9, {1}));
  EXPECT_FALSE(s->send_to("127.0.0.1", 0, {1}));
}

// Sent only to loopback: a listener on 127.0.0.1 receives exactly the magic packet.
TEST(WakeOnLan, LoopbackListenerReceivesThePacket) {
  const int rx = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(rx, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(rx, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ASSERT_EQ(::getsockname(rx, reinterpret_cast<sockaddr*>(&a), &len), 0);
  const int port = ntohs(a.sin_port);

  const std::array<uint8_t, 6> mac = {0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
  ASSERT_TRUE(send_magic_packet(mac, "127.0.0.1", port));
  pollfd p{rx, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 10000), 1);
  uint8_t buf[256];
  const ssize_t n = ::recv(rx, buf, sizeof buf, 0);
  ::close(rx);
  ASSERT_EQ(n, 102);
  EXPECT_EQ(std::vector<uint8_t>(buf, buf + n), magic_packet(mac));
}

}  // namespace
}  // namespace hearth::router
