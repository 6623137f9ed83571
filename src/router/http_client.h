// A small blocking HTTP/1.1 client for talking to upstreams: one request per connection
// (Connection: close), the body delivered piece by piece as it arrives (chunked or not), and a
// deadline on every wait (connect, each read), so a box that suspended under an open connection
// is noticed instead of hanging a request for ever.
//
// Why not httplib::Client: Debian's libcpp-httplib is compiled with OpenSSL support, which
// changes the layout of its Client classes; hearth includes the header without that option, so
// only the server side (whose objects the library alone creates) is safe to use.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace hearth::router {

struct HttpUrl {
  std::string host;
  int port = 80;
  std::string path;  // base path without a trailing '/', e.g. "/v1"
};
// http://host[:port][/path]; https is refused (no TLS here).
Result<HttpUrl> parse_http_url(std::string_view url);

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpTimeouts {
  double connect_s = 5;
  double read_s = 600;  // longest silence between two pieces of the response
};

class HttpConnection {
 public:
  // Connects, sends the request and reads the status line and headers.
  static Result<std::unique_ptr<HttpConnection>> request(const HttpUrl& url, std::string_view method,
                                                         std::string_view path, const HttpHeaders& headers,
                                                         std::string_view body, const HttpTimeouts& timeouts);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  int status() const { return status_; }
  // Case-insensitive; "" when absent.
  std::string header(std::string_view name) const;
  // Appends the next piece of the body to `out`; false once the body is complete. An error when
  // the connection broke, timed out or the framing is broken.
  Result<bool> read_some(std::string& out);
  // The rest of the body (at most max_bytes).
  Result<std::string> read_all(size_t max_bytes = 64u << 20);

 private:
  HttpConnection(int fd, HttpTimeouts t) : fd_(fd), timeouts_(t) {}
  Result<bool> fill();  // more bytes into buf_; false at EOF
  Result<std::string> read_line();
  Status read_head();

  int fd_ = -1;
  HttpTimeouts timeouts_;
  std::string buf_;  // received, not yet consumed
  int status_ = 0;
  HttpHeaders headers_;
  enum class Framing { kLength, kChunked, kUntilClose } framing_ = Framing::kUntilClose;
  uint64_t remaining_ = 0;  // kLength: body bytes left; kChunked: bytes left in this chunk
  bool done_ = false;
};

// GET {url}{path} with short timeouts: true when it answers 200.
bool http_probe(const HttpUrl& url, std::string_view path, const HttpHeaders& headers, double timeout_s);

}  // namespace hearth::router
