// A read-only memory mapping of a whole file (RAII). Model weights are read in place from the
// page cache, so opening a multi-gigabyte GGUF costs no copy and no allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

#include "core/status.h"

namespace hearth {

class MappedFile {
 public:
  // Maps `path` read-only. An empty file maps to an empty span. Errors name the path and the
  // system's reason (errno text).
  static Result<MappedFile> open(const std::filesystem::path& path);

  MappedFile() = default;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  size_t size() const { return size_; }
  const std::filesystem::path& path() const { return path_; }

  // Hints that a range will be read soon (weights at load time); errors are ignored since
  // this is only advice to the kernel.
  void will_need(size_t offset, size_t length) const;

 private:
  void reset();

  std::filesystem::path path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace hearth
