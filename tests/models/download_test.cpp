// hearth pull's downloader against a cpp-httplib server on 127.0.0.1 (an ephemeral port) that
// misbehaves on demand: drops the first connection mid-file, ignores Range, sends 404/401, an
// HTML page instead of a GGUF, a wrong X-Linked-Etag behind a Hugging Face-style redirect.
// Every loop is bounded by the downloader's max_attempts; nothing is timed. Sockets under
// qemu-aarch64 are slow and pointless: skipped in the cross build (as tests/router/proxy_test).
#include <httplib.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "cli/cli_process.h"
#include "core/sha256.h"
#include "models/download.h"

namespace hearth::models {
namespace {

namespace fs = std::filesystem;

bool cross_build() { return std::string(HEARTH_BINARY).find("hearth-emulated") != std::string::npos; }

#define SKIP_UNLESS_LOOPBACK_OK()                                                                  \
  if (cross_build()) GTEST_SKIP() << "loopback HTTP tests run on the native build only";         \
  if (!download_supported()) GTEST_SKIP() << "built without libcurl"

std::string make_blob(size_t n) {
  std::string b = "GGUF";
  uint32_t x = 12345;
  while (b.size() < n) {
    x = x * 1664525u + 1013904223u;  // LCG: reproducible, incompressible enough
    b += char(x >> 24);
  }
  return b;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class FakeHub {
 public:
  explicit FakeHub(std::string blob) : blob_(std::move(blob)) {
    server_.Get("/m.gguf", [this](const httplib::Request& req, httplib::Response& res) { serve(req, res); });
    // A Hugging Face LFS file: the Hub redirects to its CDN and names the SHA-256 on the way.
    server_.Get(R"(/o/r/resolve/main/(m|m-Q4_K_M)\.gguf)", [this](const httplib::Request& req, httplib::Response& res) {
      record(req);
      res.status = 302;
      res.set_header("Location", "/m.gguf");
      res.set_header("X-Repo-Commit", "0123456789abcdef0123456789abcdef01234567");
      res.set_header("X-Linked-Etag", "\"" + linked_etag + "\"");
      res.set_header("ETag", "\"abcd\"");
    });
    server_.Get("/api/models/o/r/tree/main", [this](const httplib::Request& req, httplib::Response& res) {
      record(req);
      res.set_content(R"([{"type":"file","path":"m-Q4_K_M.gguf","size":1,"lfs":{"oid":")" + sha256_hex(blob_) +
                          R"(","size":1}},{"type":"file","path":"m-Q8_0.gguf","size":1}])",
                      "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // bind_to_any_port already listens: connections queue until the thread accepts them.
  }
  ~FakeHub() {
    server_.stop();
    thread_.join();
  }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  std::vector<std::string> ranges() {
    std::lock_guard l(mu_);
    return ranges_;
  }
  std::vector<std::string> auths() {
    std::lock_guard l(mu_);
    return auths_;
  }
  int requests() const { return requests_.load(); }

  // Knobs, set before a download.
  std::atomic<bool> honor_range{true};
  std::atomic<size_t> cut_first_after{0};  // drop the first /m.gguf connection after this many bytes
  std::atomic<int> status{200};            // 404, 401: answer that instead
  std::atomic<bool> html{false};           // an error page with 200
  std::string linked_etag;

 private:
  void record(const httplib::Request& req) {
    std::lock_guard l(mu_);
    ranges_.push_back(req.get_header_value("Range"));
    auths_.push_back(req.get_header_value("Authorization"));
  }

  void serve(const httplib::Request& req, httplib::Response& res) {
    record(req);
    const int n = ++requests_;
    // httplib 0.11 slices the body by the request's Range itself, even under a 200 this handler
    // sets; clearing it leaves the answer exactly as written here (the Request is ours to change).
    auto& mutable_req = const_cast<httplib::Request&>(req);
    mutable_req.ranges.clear();
    if (status != 200) {
      res.status = status;
      res.set_content(status == 404 ? "Entry not found" : "Access to model o/r is restricted.", "text/plain");
      return;
    }
    if (html) {
      res.set_content("<!DOCTYPE html><html>sign in</html>", "text/html");
      return;
    }
    size_t start = 0;
    const std::string range = req.get_header_value("Range");
    if (honor_range && range.rfind("bytes=", 0) == 0) {
      start = std::stoull(range.substr(6));
      if (start >= blob_.size()) {
        res.status = 416;
        res.set_header("Content-Range", "bytes */" + std::to_string(blob_.size()));
        return;
      }
      res.status = 206;
      res.set_header("Content-Range", "bytes " + std::to_string(start) + "-" + std::to_string(blob_.size() - 1) + "/" +
                                          std::to_string(blob_.size()));
    } else {
      res.status = 200;
    }
    const size_t cut = n == 1 ? cut_first_after.load() : 0;
    res.set_content_provider(blob_.size() - start, "application/octet-stream",
                             [this, start, cut](size_t off, size_t len, httplib::DataSink& sink) {
                               if (cut && off >= cut) return false;  // the connection drops here
                               size_t take = std::min<size_t>(len, 16384);
                               if (cut) take = std::min(take, cut - off);
                               sink.write(blob_.data() + start + off, take);
                               return true;
                             });
  }

  std::string blob_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<int> requests_{0};
  std::mutex mu_;
  std::vector<std::string> ranges_, auths_;
};

class DownloadTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(testing::TempDir()) / ("hearth_pull_" + std::to_string(::getpid()) + "_" +
                                           testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  DownloadOptions options(const std::string& url) const {
    DownloadOptions o;
    o.url = url;
    o.dest = dir_ / "m.gguf";
    o.max_attempts = 4;
    o.retry_delay_ms = 0;
    return o;
  }

  fs::path dir_;
  const std::string blob_ = make_blob(300000);
};

TEST_F(DownloadTest, DownloadsTheWholeFileAndRenamesIt) {
  SKIP_UNLESS_LOOPBACK_OK();
  FakeHub hub(blob_);
  DownloadOptions o = options(hub.url("/m.gguf"));
  o.expected_sha256 = sha256_hex(blob_);
  uint64_t last_done = 0, calls = 0, bad_totals = 0;
  o.on_progress = [&](const DownloadProgress& p) {
    ++calls;
    last_done = p.bytes_done;
    if (p.bytes_total != blob_.size()) ++bad_totals;  // the bar knows the size from the start
  };
  Result<DownloadResult> r = download_file(o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->bytes, blob_.size());
  EXPECT_EQ(r->sha256, sha256_hex(blob_));
  EXPECT_EQ(r->sha256_source, "--sha256");
  EXPECT_EQ(r->attempts, 1);
  EXPECT_FALSE(r->resumed);
  EXPECT_EQ(read_file(o.dest), blob_);
  EXPECT_FALSE(fs::exists(partial_path(o.dest)));
  EXPECT_GE(calls, 1u);
  EXPECT_EQ(last_done, blob_.size());
  EXPECT_EQ(bad_totals, 0u);
  // The final name is taken: a second pull refuses instead of overwriting.
  Result<DownloadResult> again = download_file(o);
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find("already exists"), std::string::npos);
}

TEST_F(DownloadTest, ResumesWithRangeAfterADroppedConnection) {
  SKIP_UNLESS_LOOPBACK_OK();
  FakeHub hub(blob_);
  hub.cut_first_after = 100000;
  DownloadOptions o = options(hub.url("/m.gguf"));
  o.expected_sha256 = sha256_hex(blob_);
  Result<DownloadResult> r = download_file(o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->attempts, 2);
  const std::vector<std::string> ranges = hub.ranges();
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[0], "");
  EXPECT_EQ(ranges[1], "bytes=100000-");
  EXPECT_EQ(read_file(o.dest), blob_);
}

TEST_F(DownloadTest, ContinuesThePartialFileOfAnEarlierPull) {
  SKIP_UNLESS_LOOPBACK_OK();
  FakeHub hub(blob_);
  DownloadOptions o = options(hub.url("/m.gguf"));
  std::ofstream(partial_path(o.dest), std::ios::binary) << blob_.substr(0, 1234);
  Result<DownloadResult> r = download_file(o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->resumed);
  EXPECT_FALSE(r->restarted);
  EXPECT_EQ(hub.ranges().at(0), "bytes=1234-");
  EXPECT_EQ(r->sha256, sha256_hex(blob_));  // the resumed bytes were hashed too
  EXPECT_EQ(read_file(o.dest), blob_);
}

TEST_F(DownloadTest, AServerThatIgnoresRangeRestartsTheFile) {
  SKIP_UNLESS_LOOPBACK_OK();
  FakeHub hub(blob_);
  hub.honor_range = false;
  DownloadOptions o = options(hub.url("/m.gguf"));
  o.expected_sha256 = sha256_hex(blob_);
  std::ofstream(partial_path(o.dest), std::ios::binary) << std::string(5000, 'z');  // stale bytes
  Result<DownloadResult> r = download_file(o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->restarted);
  EXPECT_EQ(hub.ranges().at(0), "bytes=5000-");
  EXPECT_EQ(read_file(o.dest), blob_);
}

TEST_F(DownloadTest, AWrongChecksumKeepsNothing) {
  SKIP_UNLESS_LOOPBACK_OK();
  FakeHub hub(blob_);
  DownloadOptions o = options(hub.url("/m.gguf"));
  o.expected_sha256 = sha256_hex("something else");
  Result<DownloadResult> r = download_file(o);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("SHA-256 mismatch"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(sha256_hex(blob_)), std::string::npos);
  EXPECT_FALSE(fs::exists(o.dest));
  EXPECT_FALSE(fs::exists(partial_path(o.dest)));
}

TEST_F(DownloadTest, TheLinkedEtagOfAHubRedirectIsTheChecksum) {
  SKIP_UNLESS_LOOPBACK_OK();
  FakeHub hub(blob_);
  hub.linked_etag = sha256_hex(blob_);
  DownloadOptions o = options(hub.url("/o/r/resolve/main/m.gguf"));
  o.bearer_token = "hf_test_token";
  Result<DownloadResult> r = download_file(o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->sha256_source, "X-Linked-Etag");
  EXPECT_EQ(hub.auths().at(0), "Bearer hf_test_token");
  fs::remove(o.dest);

  hub.linked_etag = sha256_hex("tampered");
  Result<DownloadResult> bad = download_file(o);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("X-Linked-Etag"), std::string::npos) << bad.error().message;
  EXPECT_FALSE(fs::exists(o.dest));
}

TEST_F(DownloadTest, HttpErrorsSayWhatToDo) {
  SKIP_UNLESS_LOOPBACK_OK();
  FakeHub hub(blob_);
  DownloadOptions o = options(hub.url("/m.gguf"));
  hub.status = 404;
  Result<DownloadResult> missing = download_file(o);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("HTTP 404"), std::string::npos) << missing.error().message;
  EXPECT_NE(missing.error().message.find("no such file"), std::string::npos);
  hub.status = 401;
  Result<DownloadResult> gated = download_file(o);
  ASSERT_FALSE(gated);
  EXPECT_NE(gated.error().message.find("HF_TOKEN"), std::string::npos) << gated.error().message;
  EXPECT_FALSE(fs::exists(partial_path(o.dest)));  // no empty partial left behind
  EXPECT_EQ(hub.requests(), 2);                     // HTTP errors are not retried
}

TEST_F(DownloadTest, ContentThatIsNotGgufIsRefused) {
  SKIP_UNLESS_LOOPBACK_OK();
  FakeHub hub(blob_);
  hub.html = true;
  DownloadOptions o = options(hub.url("/m.gguf"));
  Result<DownloadResult> r = download_file(o);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("not a GGUF file"), std::string::npos) << r.error().message;
  EXPECT_FALSE(fs::exists(o.dest));
  EXPECT_FALSE(fs::exists(partial_path(o.dest)));
}

TEST_F(DownloadTest, GivesUpAfterTheAttemptsAndKeepsThePartial) {
  SKIP_UNLESS_LOOPBACK_OK();
  FakeHub hub(blob_);
  hub.cut_first_after = 50000;
  DownloadOptions o = options(hub.url("/m.gguf"));
  o.max_attempts = 1;
  Result<DownloadResult> r = download_file(o);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("run the same hearth pull again"), std::string::npos) << r.error().message;
  EXPECT_FALSE(fs::exists(o.dest));  // nothing that looks complete
  EXPECT_EQ(fs::file_size(partial_path(o.dest)), 50000u);
}

// The whole command: a Hub quantization tag resolved through the tree API (its LFS oid is the
// checksum), then hearth ls and hearth rm on the folder.
TEST_F(DownloadTest, PullLsRmCommands) {
  SKIP_UNLESS_LOOPBACK_OK();
  FakeHub hub(blob_);
  ::setenv("HF_ENDPOINT", hub.url("").c_str(), 1);
  ::unsetenv("HF_TOKEN");
  const std::string d = dir_.string();
  // No tag: Q4_K_M, as Ollama picks for hf.co references.
  test::CliResult pull = test::run_hearth({"pull", "hf.co/o/r", "--models-dir", d, "--name", "tiny"});
  ::unsetenv("HF_ENDPOINT");
  ASSERT_EQ(pull.exit_code, 0) << pull.err;
  EXPECT_NE(pull.err.find("verified against the Hub's file list"), std::string::npos) << pull.err;
  EXPECT_EQ(read_file(dir_ / "tiny.gguf"), blob_);

  std::ofstream(dir_ / "half.gguf.partial") << "GGUF";
  test::CliResult ls = test::run_hearth({"ls", "--models-dir", d, "--json"});
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_NE(ls.out.find("\"name\": \"tiny\""), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("\"partial\": true"), std::string::npos) << ls.out;

  test::CliResult bad = test::run_hearth({"pull", "http://127.0.0.1:1/x.gguf", "--models-dir", d, "--sha256", "12"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("--sha256 must be 64 hex digits"), std::string::npos) << bad.err;

  test::CliResult rm = test::run_hearth({"rm", "tiny", "--models-dir", d});
  EXPECT_EQ(rm.exit_code, 0) << rm.err;
  EXPECT_FALSE(fs::exists(dir_ / "tiny.gguf"));
  test::CliResult rm_again = test::run_hearth({"rm", "tiny", "--models-dir", d});
  EXPECT_EQ(rm_again.exit_code, 1);
  EXPECT_NE(rm_again.err.find("no model named 'tiny'"), std::string::npos) << rm_again.err;
}

}  // namespace
}  // namespace hearth::models
