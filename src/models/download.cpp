// See download.h. One libcurl easy handle per request, owned by a unique_ptr; the partial
// file's descriptor by a small RAII wrapper. Built without libcurl (HEARTH_HAVE_CURL 0), every
// entry point returns an error saying how to get it.
#include "models/download.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "core/sha256.h"

#if HEARTH_HAVE_CURL
#include <curl/curl.h>
#endif

namespace hearth::models {

std::filesystem::path partial_path(const std::filesystem::path& dest) {
  return std::filesystem::path(dest.string() + ".partial");
}

#if !HEARTH_HAVE_CURL

bool download_supported() { return false; }
static Error no_curl() {
  return Error{"this hearth was built without libcurl, so it cannot download: install libcurl4-openssl-dev "
               "(scripts/install-deps.sh) and rebuild, or copy the .gguf into the models folder yourself"};
}
Result<DownloadResult> download_file(const DownloadOptions&) { return no_curl(); }
Result<std::string> fetch_text(const std::string&, const std::string&, size_t) { return no_curl(); }

#else

bool download_supported() { return true; }

namespace {

using Clock = std::chrono::steady_clock;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
using CurlHandle = std::unique_ptr<CURL, CurlDeleter>;

std::string errno_text() { return std::strerror(errno); }

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(uint8_t(c)));
  return s;
}

// An ETag as huggingface_hub normalises it: W/ prefix and quotes dropped.
std::string normalize_etag(std::string v) {
  if (v.rfind("W/", 0) == 0) v = v.substr(2);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  return lower(v);
}

// What the headers of the responses of one request said. A request that is redirected (a
// Hugging Face file: 302 to its CDN) gets several header blocks; each starts with a status line.
struct Headers {
  long status = 0;              // of the latest block
  bool block_is_hf = false;     // the latest block carried X-Repo-Commit (a Hub response)
  std::string block_etag;
  std::string linked_sha256;    // X-Linked-Etag of any block, when it is a SHA-256
  std::string etag_sha256;      // a 64-hex ETag of a Hub response
  uint64_t range_start = 0, range_total = 0;  // Content-Range of the latest block
  bool has_range = false;
  uint64_t content_length = 0;  // of the latest block; 0: not given
};

void on_header_line(Headers& h, std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.rfind("HTTP/", 0) == 0) {  // a new response: forget the previous block's fields
    const size_t sp = line.find(' ');
    h.status = sp == std::string_view::npos ? 0 : std::atol(std::string(line.substr(sp + 1, 3)).c_str());
    h.block_is_hf = false;
    h.block_etag.clear();
    h.has_range = false;
    h.content_length = 0;
    return;
  }
  if (line.empty()) {  // end of a block
    if (h.block_is_hf && is_sha256_hex(h.block_etag)) h.etag_sha256 = h.block_etag;
    return;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return;
  const std::string name = lower(std::string(line.substr(0, colon)));
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (name == "x-linked-etag") {
    const std::string v = normalize_etag(std::string(value));
    if (is_sha256_hex(v)) h.linked_sha256 = v;
  } else if (name == "etag") {
    h.block_etag = normalize_etag(std::string(value));
  } else if (name == "content-length") {
    h.content_length = std::strtoull(std::string(value).c_str(), nullptr, 10);
  } else if (name == "x-repo-commit") {
    h.block_is_hf = true;
  } else if (name == "content-range") {
    // "bytes 100-999/1000" or, with 416, "bytes */1000".
    const std::string v(value);
    unsigned long long a = 0, b = 0, total = 0;
    if (std::sscanf(v.c_str(), "bytes %llu-%llu/%llu", &a, &b, &total) == 3) {
      h.range_start = a;
      h.range_total = total;
      h.has_range = true;
    } else if (std::sscanf(v.c_str(), "bytes */%llu", &total) == 1) {
      h.range_start = 0;
      h.range_total = total;
      h.has_range = true;
    }
  }
}

size_t header_cb(char* data, size_t size, size_t n, void* user) {
  on_header_line(*static_cast<Headers*>(user), std::string_view(data, size * n));
  return size * n;
}

// One request's body going into the partial file.
struct Transfer {
  int fd = -1;
  Sha256* hasher = nullptr;
  uint64_t offset = 0;          // file size when the request was made (the Range start)
  uint64_t written = 0;         // body bytes of this request in the file
  Headers headers;
  bool decided = false;         // the final response's status was acted on
  bool restarted = false;       // 200 to a Range request: the file was truncated
  std::string error_body;       // start of a non-2xx body, for the message
  std::string abort_reason;     // why the write callback stopped the transfer
  bool not_gguf = false;
  uint8_t head[4] = {};
  // Progress.
  const DownloadOptions* options = nullptr;
  uint64_t session_bytes_before = 0;  // of earlier requests of this pull
  uint64_t total_hint = 0;
  Clock::time_point started, last_report;
};

// Acts on the final response's status before its first body byte is stored.
bool decide(Transfer& t) {
  t.decided = true;
  const long s = t.headers.status;
  if (s == 206) {
    if (!t.headers.has_range || t.headers.range_start != t.offset) {
      t.abort_reason = "the server answered a Range request for byte " + std::to_string(t.offset) +
                       " with a different range";
      return false;
    }
    t.total_hint = t.headers.range_total;
  } else if (s == 200 && t.offset > 0) {
    // The server ignores Range and sends the whole file: start the partial file over.
    if (::ftruncate(t.fd, 0) != 0) {
      t.abort_reason = "cannot truncate the partial file: " + errno_text();
      return false;
    }
    t.hasher->reset();
    t.offset = 0;
    t.restarted = true;
  }
  if (s == 200) t.total_hint = t.headers.content_length;  // for the progress bar only
  return true;
}

size_t write_cb(char* data, size_t size, size_t n, void* user) {
  Transfer& t = *static_cast<Transfer*>(user);
  const size_t len = size * n;
  if (!t.decided && !decide(t)) return 0;  // 0: curl stops with CURLE_WRITE_ERROR
  const long s = t.headers.status;
  if (s != 200 && s != 206) {  // an error page: keep its start for the message, store nothing
    if (t.error_body.size() < 2048) t.error_body.append(data, std::min(len, 2048 - t.error_body.size()));
    return len;
  }
  // A file that does not start with the GGUF magic is refused as soon as its first 4 bytes are in.
  for (size_t i = 0; i < len && t.offset + t.written + i < 4; ++i) t.head[t.offset + t.written + i] = uint8_t(data[i]);
  if (t.offset == 0 && t.written < 4 && t.written + len >= 4 && std::memcmp(t.head, "GGUF", 4) != 0) {
    t.not_gguf = true;
    t.abort_reason = "not a GGUF file";
    return 0;
  }
  size_t done = 0;
  while (done < len) {
    const ssize_t w = ::pwrite(t.fd, data + done, len - done, off_t(t.offset + t.written + done));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      t.abort_reason = "cannot write the partial file: " + errno_text();
      return 0;
    }
    done += size_t(w);
  }
  t.hasher->update(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data), len));
  t.written += len;
  if (t.options->on_progress) {
    const auto now = Clock::now();
    if (now - t.last_report >= std::chrono::milliseconds(200)) {
      t.last_report = now;
      DownloadProgress p;
      p.bytes_done = t.offset + t.written;
      p.bytes_total = t.total_hint;
      p.bytes_session = t.session_bytes_before + t.written;
      p.seconds = std::chrono::duration<double>(now - t.started).count();
      t.options->on_progress(p);
    }
  }
  return len;
}

// The options every request shares.
Status setup_handle(CURL* c, const std::string& url, const std::string& bearer_token, char* errbuf) {
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM for DNS timeouts: safe with threads
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  // Only HTTP(S), also after a redirect: a URL must not turn into file:// or another scheme.
  if (curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
      curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK)
    return Error{"libcurl refuses to limit the protocols to http and https"};
  curl_easy_setopt(c, CURLOPT_USERAGENT, "hearth/" HEARTH_VERSION);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
  if (!bearer_token.empty()) {
    // libcurl sends credentials only to the host of the first URL, never to the CDN a Hugging
    // Face download is redirected to (unless CURLOPT_UNRESTRICTED_AUTH, which we do not set).
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, long(CURLAUTH_BEARER));
    curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER, bearer_token.c_str());
  }
  return {};
}

std::string first_line(std::string_view body) {
  std::string s(body.substr(0, std::min(body.find('\n'), size_t(200))));
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

Error http_error(long status, const std::string& url, const std::string& body, bool sent_token) {
  const std::string where = "HTTP " + std::to_string(status) + " from " + url;
  if (status == 401 || status == 403)
    return Error{where + (sent_token ? ": the access token in HF_TOKEN was refused for this repo (accept the "
                                       "model's license on its Hugging Face page, and check the token can read it)"
                                     : ": the repo is gated or private; accept its license on its Hugging Face "
                                       "page and set HF_TOKEN to an access token (https://huggingface.co/settings/tokens)")};
  if (status == 404) return Error{where + ": no such file (check the owner, repo and file name)"};
  const std::string line = first_line(body);
  return Error{where + (line.empty() ? std::string() : ": " + line)};
}

bool retryable(CURLcode rc) {
  switch (rc) {
    case CURLE_PARTIAL_FILE: case CURLE_RECV_ERROR: case CURLE_SEND_ERROR: case CURLE_OPERATION_TIMEDOUT:
    case CURLE_GOT_NOTHING: case CURLE_HTTP2: case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

Status hash_existing(int fd, uint64_t bytes, Sha256& hasher) {
  std::vector<uint8_t> buf(1 << 20);
  for (uint64_t pos = 0; pos < bytes;) {
    const ssize_t r = ::pread(fd, buf.data(), size_t(std::min<uint64_t>(buf.size(), bytes - pos)), off_t(pos));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return Error{"cannot read the partial file: " + (r < 0 ? errno_text() : std::string("it shrank"))};
    hasher.update(std::span<const uint8_t>(buf.data(), size_t(r)));
    pos += uint64_t(r);
  }
  return {};
}

Status fsync_dir(const std::filesystem::path& dir) {
  const Fd d(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d.get() < 0 || ::fsync(d.get()) != 0) return Error{"cannot sync the folder " + dir.string() + ": " + errno_text()};
  return {};
}

uint64_t file_size_of(int fd) {
  const off_t end = ::lseek(fd, 0, SEEK_END);
  return end < 0 ? 0 : uint64_t(end);
}

}  // namespace

Result<DownloadResult> download_file(const DownloadOptions& o) {
  std::error_code ec;
  if (std::filesystem::exists(o.dest, ec)) return Error{o.dest.string() + " already exists"};
  const std::filesystem::path part = partial_path(o.dest);
  const Fd fd(::open(part.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (fd.get() < 0) return Error{"cannot open " + part.string() + ": " + errno_text()};
  // Two pulls of one file would interleave their bytes.
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0)
    return Error{"another hearth pull is writing " + part.string()};

  // A request that failed before any byte arrived (404, 401, refused) leaves no empty partial.
  struct DropEmpty {
    const std::filesystem::path& path;
    int fd;
    ~DropEmpty() {
      if (fd >= 0 && ::lseek(fd, 0, SEEK_END) == 0) ::unlink(path.c_str());
    }
  } drop_empty{part, fd.get()};

  DownloadResult result;
  Sha256 hasher;
  uint64_t have = file_size_of(fd.get());
  result.resumed = have > 0;
  if (have > 0)
    if (Status s = hash_existing(fd.get(), have, hasher); !s) return s.error();

  const auto started = Clock::now();
  uint64_t session_bytes = 0, total = 0;
  std::string linked_sha, etag_sha;
  std::string last_failure;
  bool complete = false;
  for (int attempt = 1; attempt <= std::max(1, o.max_attempts) && !complete; ++attempt) {
    if (attempt > 1 && o.retry_delay_ms > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(int64_t(o.retry_delay_ms) * (attempt - 1)));
    result.attempts = attempt;
    have = file_size_of(fd.get());
    CurlHandle c(curl_easy_init());
    if (!c) return Error{"libcurl could not create a handle"};
    char errbuf[CURL_ERROR_SIZE] = {};
    if (Status s = setup_handle(c.get(), o.url, o.bearer_token, errbuf); !s) return s.error();
    Transfer t;
    t.fd = fd.get();
    t.hasher = &hasher;
    t.offset = have;
    t.options = &o;
    t.session_bytes_before = session_bytes;
    t.started = started;
    t.last_report = Clock::now() - std::chrono::seconds(1);
    const std::string range = std::to_string(have) + "-";
    if (have > 0) curl_easy_setopt(c.get(), CURLOPT_RANGE, range.c_str());
    curl_easy_setopt(c.get(), CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(c.get(), CURLOPT_HEADERDATA, &t.headers);
    curl_easy_setopt(c.get(), CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(c.get(), CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c.get(), CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c.get(), CURLOPT_LOW_SPEED_TIME, o.low_speed_seconds);
    const CURLcode rc = curl_easy_perform(c.get());
    session_bytes += t.written;
    if (!t.headers.linked_sha256.empty()) linked_sha = t.headers.linked_sha256;
    if (!t.headers.etag_sha256.empty()) etag_sha = t.headers.etag_sha256;
    if (!t.decided && rc == CURLE_OK && !decide(t)) return Error{t.abort_reason + " (" + o.url + ")"};
    result.restarted = result.restarted || t.restarted;
    if (t.not_gguf) {
      ::unlink(part.c_str());
      return Error{o.url + " is not a GGUF file (it does not start with the bytes 'GGUF'; is it an HTML page "
                           "or a safetensors file?); nothing was kept"};
    }
    if (!t.abort_reason.empty()) return Error{t.abort_reason + " (" + o.url + ")"};
    const long status = t.headers.status;
    if (rc == CURLE_OK && status == 416 && have > 0) {
      // Our Range starts at or past the end: either the partial file is already whole, or the
      // remote file changed size. Done in the first case; start over in the second.
      if (t.headers.has_range && t.headers.range_total == have) {
        total = have;
        complete = true;
        break;
      }
      if (::ftruncate(fd.get(), 0) != 0) return Error{"cannot truncate " + part.string() + ": " + errno_text()};
      hasher.reset();
      last_failure = "the partial file was longer than the remote file; started over";
      continue;
    }
    if (rc == CURLE_OK && status != 200 && status != 206)
      return http_error(status, o.url, t.error_body, !o.bearer_token.empty());
    if (rc != CURLE_OK) {
      last_failure = std::string(errbuf[0] ? errbuf : curl_easy_strerror(rc));
      if (retryable(rc)) continue;
      return Error{"cannot download " + o.url + ": " + last_failure};
    }
    // The body ended without a transport error; check it is all there.
    if (status == 206) {
      total = t.headers.range_total;
    } else {
      curl_off_t length = -1;
      curl_easy_getinfo(c.get(), CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
      total = length >= 0 ? uint64_t(length) : t.offset + t.written;
    }
    const uint64_t now_have = t.offset + t.written;
    if (total != 0 && now_have < total) {
      last_failure = "the connection ended after " + std::to_string(now_have) + " of " + std::to_string(total) + " bytes";
      continue;
    }
    if (now_have > total) {
      ::unlink(part.c_str());
      return Error{o.url + " sent " + std::to_string(now_have) + " bytes but announced " + std::to_string(total) +
                   "; nothing was kept"};
    }
    complete = true;
  }
  if (!complete)
    return Error{"download of " + o.url + " interrupted after " + std::to_string(file_size_of(fd.get())) +
                 (total ? " of " + std::to_string(total) : std::string()) + " bytes (" + last_failure + ", " +
                 std::to_string(result.attempts) + " attempts); run the same hearth pull again to resume from " +
                 part.string()};

  result.bytes = file_size_of(fd.get());
  result.sha256 = hasher.finish_hex();
  std::string expected = lower(o.expected_sha256);
  result.sha256_source = expected.empty() ? "" : o.expected_sha256_source;
  if (expected.empty() && !linked_sha.empty()) expected = linked_sha, result.sha256_source = "X-Linked-Etag";
  if (expected.empty() && !etag_sha.empty()) expected = etag_sha, result.sha256_source = "ETag";
  if (!expected.empty() && expected != result.sha256) {
    ::unlink(part.c_str());
    return Error{"SHA-256 mismatch for " + o.url + ": expected " + expected + " (" + result.sha256_source + "), got " +
                 result.sha256 + "; the download was deleted"};
  }
  uint8_t magic[4] = {};
  if (::pread(fd.get(), magic, 4, 0) != 4 || std::memcmp(magic, "GGUF", 4) != 0) {
    ::unlink(part.c_str());
    return Error{o.url + " is not a GGUF file (it does not start with the bytes 'GGUF'); nothing was kept"};
  }
  // Data on disk before the name: after a power cut the final name never points at a hole.
  if (::fsync(fd.get()) != 0) return Error{"cannot sync " + part.string() + ": " + errno_text()};
  if (std::filesystem::exists(o.dest, ec)) return Error{o.dest.string() + " appeared while downloading; kept " + part.string()};
  if (::rename(part.c_str(), o.dest.c_str()) != 0)
    return Error{"cannot rename " + part.string() + " to " + o.dest.string() + ": " + errno_text()};
  if (Status s = fsync_dir(o.dest.parent_path()); !s) return s.error();
  if (o.on_progress) {
    DownloadProgress p;
    p.bytes_done = p.bytes_total = result.bytes;
    p.bytes_session = session_bytes;
    p.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    o.on_progress(p);
  }
  return result;
}

namespace {
size_t text_cb(char* data, size_t size, size_t n, void* user) {
  auto* out = static_cast<std::pair<std::string, size_t>*>(user);
  if (out->first.size() + size * n > out->second) return 0;
  out->first.append(data, size * n);
  return size * n;
}
}  // namespace

Result<std::string> fetch_text(const std::string& url, const std::string& bearer_token, size_t max_bytes) {
  CurlHandle c(curl_easy_init());
  if (!c) return Error{"libcurl could not create a handle"};
  char errbuf[CURL_ERROR_SIZE] = {};
  if (Status s = setup_handle(c.get(), url, bearer_token, errbuf); !s) return s.error();
  std::pair<std::string, size_t> body{std::string(), max_bytes};
  curl_easy_setopt(c.get(), CURLOPT_WRITEFUNCTION, text_cb);
  curl_easy_setopt(c.get(), CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(c.get(), CURLOPT_TIMEOUT, 120L);
  const CURLcode rc = curl_easy_perform(c.get());
  if (rc == CURLE_WRITE_ERROR) return Error{url + " answered more than " + std::to_string(max_bytes) + " bytes"};
  if (rc != CURLE_OK) return Error{"cannot fetch " + url + ": " + (errbuf[0] ? errbuf : curl_easy_strerror(rc))};
  long status = 0;
  curl_easy_getinfo(c.get(), CURLINFO_RESPONSE_CODE, &status);
  if (status != 200) return http_error(status, url, body.first, !bearer_token.empty());
  return body.first;
}

#endif  // HEARTH_HAVE_CURL

}  // namespace hearth::models
