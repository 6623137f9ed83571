// The packed-weight cache: the repacked matrices of a model (model/repack.h) kept on disk, so
// a later load reads them back instead of repacking. Repacking writes a fresh copy of every
// weight and decodes every block on the way; reading the copy back skips the decoding, which
// with the page faults was most of the load (and more than llama.cpp's whole load).
//
// One file per model file and packed layout, named by a key that hashes the model file's
// identity (device, inode, size, modification time), its GGUF header and the planned matrices
// (type, shape, offset), and the cache format version: a changed, replaced or moved model file
// gets a new key, so a stale entry is never read. A cache file is written to a temporary name,
// fsync'ed and renamed, so a crash leaves no half-written entry under a real name; one that
// does not match its key and plan in every field (truncated, from another version) is ignored
// and rewritten.
//
// Folder: HEARTH_PACK_CACHE (a path; "0" or "off" turns the cache off), else
// $XDG_CACHE_HOME/hearth/packed, else ~/.cache/hearth/packed. Size budget: HEARTH_PACK_CACHE_GB
// (default 8); after a write the least recently used entries beyond it are deleted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "gguf/reader.h"
#include "quant/ggml_type.h"

namespace hearth::pack_cache {

// One packed matrix, in the order the repacker plans them.
struct Entry {
  GgmlType type = GgmlType::F32;
  int64_t ne0 = 0;
  int64_t nrows = 0;
  uint64_t source_offset = 0;  // of the original tensor data in the model file
  uint64_t bytes = 0;          // packed size
};

// The cache folder, or nullopt when the cache is off (or there is no home to put it in).
std::optional<std::filesystem::path> directory();

// The key (64 hex digits) of `file`'s packed form, or nullopt when the file has no identity
// on disk (parsed from memory, or no longer stat-able).
std::optional<std::string> key(const gguf::File& file, std::span<const Entry> entries);

// The cache entry for `key`, opened when it exists and its header matches `entries` in every
// field. The copies are read (pread) into the caller's memory rather than mapped: page-cache
// pages are mapped 4 KiB at a time where their folios are small, and decoding from them ran
// ~20% slower than from the repacker's huge pages.
class Reader {
 public:
  static std::optional<Reader> open(const std::filesystem::path& dir, const std::string& key,
                                    std::span<const Entry> entries);
  Reader(Reader&& other) noexcept;
  Reader& operator=(Reader&&) = delete;
  Reader(const Reader&) = delete;
  ~Reader();

  // Bytes [begin, begin + n) of entry i into dst; safe from several threads at once.
  Status read(size_t i, uint64_t begin, uint64_t n, void* dst) const;

 private:
  Reader(int fd, std::filesystem::path path, std::vector<uint64_t> offsets)
      : fd_(fd), path_(std::move(path)), offsets_(std::move(offsets)) {}
  int fd_ = -1;
  std::filesystem::path path_;
  std::vector<uint64_t> offsets_;
};

// Writes data[i] (entries[i].bytes each) as the entry for `key`, then trims the folder to
// its budget. An Error (no space, read-only folder, ...) is for a log line, never fatal.
Status write(const std::filesystem::path& dir, const std::string& key,
             std::span<const Entry> entries, std::span<const void* const> data);

}  // namespace hearth::pack_cache
