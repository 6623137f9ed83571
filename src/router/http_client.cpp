// See http_client.h.
#include "router/http_client.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

namespace hearth::router {
namespace {

using Clock = std::chrono::steady_clock;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return std::tolower(x) == std::tolower(y); });
}

int ms_until(Clock::time_point deadline) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return int(std::clamp<int64_t>(ms, 0, 1 << 30));
}

// Waits for `events` on fd until the deadline: 1 ready, 0 timed out, -1 error.
int wait_fd(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int r = ::poll(&p, 1, ms_until(deadline));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    return r == 0 ? 0 : 1;
  }
}

Result<int> connect_to(const HttpUrl& url, double timeout_s) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(url.port);
  if (int e = ::getaddrinfo(url.host.c_str(), port.c_str(), &hints, &res); e != 0)
    return Error{"cannot resolve " + url.host + ": " + ::gai_strerror(e)};
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(res, &::freeaddrinfo);
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s));
  std::string last = "no address";
  for (addrinfo* a = res; a; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) continue;
    int r = ::connect(fd, a->ai_addr, a->ai_addrlen);
    if (r != 0 && errno == EINPROGRESS) {
      const int w = wait_fd(fd, POLLOUT, deadline);
      int err = 0;
      socklen_t len = sizeof err;
      if (w == 1 && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)
        r = 0;
      else
        last = w == 0 ? "timed out" : std::strerror(err ? err : errno);
    } else if (r != 0) {
      last = std::strerror(errno);
    }
    if (r == 0) {
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      return fd;
    }
    ::close(fd);
  }
  return Error{"cannot connect to " + url.host + ":" + port + ": " + last};
}

Status send_all(int fd, std::string_view data, double timeout_s) {
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s));
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(size_t(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (wait_fd(fd, POLLOUT, deadline) != 1) return Error{"timed out sending the request"};
      continue;
    }
    return Error{std::string("sending the request: ") + std::strerror(errno)};
  }
  return {};
}

}  // namespace

Result<HttpUrl> parse_http_url(std::string_view url) {
  constexpr std::string_view kHttp = "http://";
  if (url.rfind("https://", 0) == 0) return Error{"https upstreams are not supported (no TLS): " + std::string(url)};
  if (url.rfind(kHttp, 0) != 0) return Error{"not an http:// URL: '" + std::string(url) + "'"};
  std::string_view rest = url.substr(kHttp.size());
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  HttpUrl u;
  u.path = slash == std::string_view::npos ? "" : std::string(rest.substr(slash));
  while (!u.path.empty() && u.path.back() == '/') u.path.pop_back();
  if (!authority.empty() && authority.front() == '[') {  // [v6]:port
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return Error{"bad IPv6 host in '" + std::string(url) + "'"};
    u.host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    if (!authority.empty() && authority.front() != ':') return Error{"bad host in '" + std::string(url) + "'"};
  } else {
    const size_t colon = authority.find(':');
    u.host = std::string(authority.substr(0, colon));
    authority = colon == std::string_view::npos ? std::string_view() : authority.substr(colon);
  }
  if (!authority.empty()) {
    const std::string port(authority.substr(1));
    if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit) ||
        std::stoi(port) < 1 || std::stoi(port) > 65535)
      return Error{"bad port in '" + std::string(url) + "'"};
    u.port = std::stoi(port);
  }
  if (u.host.empty()) return Error{"no host in '" + std::string(url) + "'"};
  return u;
}

Result<std::unique_ptr<HttpConnection>> HttpConnection::request(const HttpUrl& url, std::string_view method,
                                                                std::string_view path, const HttpHeaders& headers,
                                                                std::string_view body, const HttpTimeouts& timeouts) {
  Result<int> fd = connect_to(url, timeouts.connect_s);
  if (!fd) return fd.error();
  std::unique_ptr<HttpConnection> c(new HttpConnection(*fd, timeouts));
  std::string head;
  head.reserve(256 + body.size());
  head.append(method).append(" ").append(path.empty() ? "/" : path).append(" HTTP/1.1\r\n");
  head.append("Host: ").append(url.host);
  if (url.port != 80) head.append(":").append(std::to_string(url.port));
  head.append("\r\nConnection: close\r\n");
  for (const auto& [k, v] : headers) head.append(k).append(": ").append(v).append("\r\n");
  if (!body.empty() || method == "POST") head.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  head.append("\r\n");
  head.append(body);
  if (Status s = send_all(c->fd_, head, timeouts.read_s); !s) return s.error();
  if (Status s = c->read_head(); !s) return s.error();
  return c;
}

HttpConnection::~HttpConnection() {
  if (fd_ >= 0) ::close(fd_);
}

std::string HttpConnection::header(std::string_view name) const {
  for (const auto& [k, v] : headers_)
    if (iequals(k, name)) return v;
  return {};
}

Result<bool> HttpConnection::fill() {
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeouts_.read_s));
  char tmp[16384];
  for (;;) {
    const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n > 0) {
      buf_.append(tmp, size_t(n));
      return true;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      const int w = wait_fd(fd_, POLLIN, deadline);
      if (w == 0) {
        char msg[80];
        std::snprintf(msg, sizeof msg, "the upstream sent nothing for %g s", timeouts_.read_s);
        return Error{msg};
      }
      if (w < 0) return Error{std::string("waiting for the upstream: ") + std::strerror(errno)};
      continue;
    }
    return Error{std::string("reading from the upstream: ") + std::strerror(errno)};
  }
}

Result<std::string> HttpConnection::read_line() {
  for (;;) {
    const size_t eol = buf_.find("\r\n");
    if (eol != std::string::npos) {
      std::string line = buf_.substr(0, eol);
      buf_.erase(0, eol + 2);
      return line;
    }
    if (buf_.size() > 65536) return Error{"the upstream sent an over-long header line"};
    Result<bool> more = fill();
    if (!more) return more.error();
    if (!*more) return Error{"the upstream closed the connection"};
  }
}

Status HttpConnection::read_head() {
  Result<std::string> status_line = read_line();
  if (!status_line) return status_line.error();
  // HTTP/1.1 200 OK
  if (status_line->rfind("HTTP/1.", 0) != 0 || status_line->size() < 12)
    return Error{"not an HTTP response: '" + status_line->substr(0, 40) + "'"};
  status_ = std::atoi(status_line->c_str() + 9);
  if (status_ < 100 || status_ > 599) return Error{"bad HTTP status line: '" + *status_line + "'"};
  for (int i = 0;; ++i) {
    if (i > 200) return Error{"the upstream sent too many headers"};
    Result<std::string> line = read_line();
    if (!line) return line.error();
    if (line->empty()) break;
    const size_t colon = line->find(':');
    if (colon == std::string::npos) continue;
    std::string value = line->substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
    headers_.emplace_back(line->substr(0, colon), std::move(value));
  }
  const std::string te = header("Transfer-Encoding");
  const std::string cl = header("Content-Length");
  if (!te.empty() && te.find("chunked") != std::string::npos) {
    framing_ = Framing::kChunked;
    remaining_ = 0;
  } else if (!cl.empty()) {
    framing_ = Framing::kLength;
    remaining_ = std::strtoull(cl.c_str(), nullptr, 10);
    done_ = remaining_ == 0;
  } else {
    framing_ = Framing::kUntilClose;
  }
  if (status_ == 204 || status_ == 304) done_ = true;
  return {};
}

Result<bool> HttpConnection::read_some(std::string& out) {
  if (done_) return false;
  switch (framing_) {
    case Framing::kUntilClose: {
      if (buf_.empty()) {
        Result<bool> more = fill();
        if (!more) return more.error();
        if (!*more) {
          done_ = true;
          return false;
        }
      }
      out += buf_;
      buf_.clear();
      return true;
    }
    case Framing::kLength: {
      if (buf_.empty()) {
        Result<bool> more = fill();
        if (!more) return more.error();
        if (!*more) return Error{"the upstream closed the connection mid-body"};
      }
      const size_t n = size_t(std::min<uint64_t>(remaining_, buf_.size()));
      out.append(buf_, 0, n);
      buf_.erase(0, n);
      remaining_ -= n;
      if (remaining_ == 0) done_ = true;
      return true;
    }
    case Framing::kChunked: {
      if (remaining_ == 0) {
        Result<std::string> size_line = read_line();
        if (!size_line) return size_line.error();
        char* end = nullptr;
        remaining_ = std::strtoull(size_line->c_str(), &end, 16);
        if (end == size_line->c_str()) return Error{"bad chunk size from the upstream"};
        if (remaining_ == 0) {
          // Trailers until the blank line; a peer that closes instead is forgiven.
          for (;;) {
            Result<std::string> t = read_line();
            if (!t || t->empty()) break;
          }
          done_ = true;
          return false;
        }
      }
      if (buf_.empty()) {
        Result<bool> more = fill();
        if (!more) return more.error();
        if (!*more) return Error{"the upstream closed the connection mid-chunk"};
      }
      const size_t n = size_t(std::min<uint64_t>(remaining_, buf_.size()));
      out.append(buf_, 0, n);
      buf_.erase(0, n);
      remaining_ -= n;
      if (remaining_ == 0) {
        Result<std::string> crlf = read_line();
        if (!crlf) return crlf.error();
      }
      return true;
    }
  }
  return false;
}

Result<std::string> HttpConnection::read_all(size_t max_bytes) {
  std::string body;
  for (;;) {
    Result<bool> more = read_some(body);
    if (!more) return more.error();
    if (!*more) return body;
    if (body.size() > max_bytes) return Error{"the upstream's response is too large"};
  }
}

bool http_probe(const HttpUrl& url, std::string_view path, const HttpHeaders& headers, double timeout_s) {
  HttpTimeouts t{timeout_s, timeout_s};
  Result<std::unique_ptr<HttpConnection>> c = HttpConnection::request(url, "GET", path, headers, "", t);
  if (!c || (*c)->status() != 200) return false;
  Result<std::string> body = (*c)->read_all(1u << 20);
  return body.ok();
}

}  // namespace hearth::router
