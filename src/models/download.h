// Downloading a model file over HTTP(S) with libcurl: resumable, checked, atomic.
//
// The bytes go to DEST.partial (locked with flock against a second pull of the same file). A
// partial file left by an interrupted pull is resumed with `Range: bytes=SIZE-`; a server that
// answers 200 instead of 206 (it ignores Range) restarts the file from byte 0. A connection that
// drops mid-file is retried from where it stopped, a bounded number of times. The SHA-256 is
// computed as the bytes arrive and compared with the expected one when it is known: given by the
// caller, or the X-Linked-Etag a Hugging Face LFS file's redirect carries (its SHA-256). Only a
// complete, verified GGUF is fsync'ed and renamed to DEST (then the folder is fsync'ed), so an
// interrupted pull never leaves a file that looks complete.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "core/status.h"

namespace hearth::models {

// False when hearth was built without libcurl (pull then says how to get it).
bool download_supported();

struct DownloadProgress {
  uint64_t bytes_done = 0;      // in the partial file, including what an earlier pull left
  uint64_t bytes_total = 0;     // 0: unknown
  uint64_t bytes_session = 0;   // received by this pull
  double seconds = 0;           // since this pull started
};

struct DownloadOptions {
  std::string url;
  std::filesystem::path dest;        // the final file; DEST.partial while downloading
  std::string expected_sha256;       // hex, or "" (then the server's word, if any)
  std::string expected_sha256_source = "--sha256";  // where it came from, for messages
  std::string bearer_token;          // sent as Authorization: Bearer (only to the URL's own host)
  int max_attempts = 6;              // requests in all, reconnects after a drop included
  int retry_delay_ms = 1000;         // × attempt number, between reconnects
  long low_speed_seconds = 60;       // a connection under 1 byte/s this long is dropped and retried
  std::function<void(const DownloadProgress&)> on_progress;  // called at most every ~200 ms
};

struct DownloadResult {
  uint64_t bytes = 0;
  std::string sha256;          // of the file
  std::string sha256_source;   // "--sha256", "X-Linked-Etag", "ETag", "tree API" or "" (not checked)
  int attempts = 0;            // HTTP requests made
  bool resumed = false;        // a partial file from an earlier pull was continued
  bool restarted = false;      // the server ignored Range and the file was fetched from byte 0
};

Result<DownloadResult> download_file(const DownloadOptions& options);

// A small text resource (the Hub's file list), at most `max_bytes`.
Result<std::string> fetch_text(const std::string& url, const std::string& bearer_token, size_t max_bytes = 8 << 20);

// The partial file DEST.partial for DEST.
std::filesystem::path partial_path(const std::filesystem::path& dest);

}  // namespace hearth::models
