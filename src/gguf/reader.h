// Reading GGUF files (versions 2 and 3): memory-mapped, tensor data zero-copy, every byte of
// the header validated before use. Hostile input is the normal case: any defect is an Error
// naming the file, the field and its byte offset.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "gguf/value.h"
#include "quant/ggml_type.h"

namespace hearth::gguf {

inline constexpr uint32_t kMagic = 0x46554747;  // "GGUF" little endian
inline constexpr uint64_t kDefaultAlignment = 32;
inline constexpr int kMaxDims = 4;

struct TensorInfo {
  std::string name;
  GgmlType type;
  std::vector<int64_t> ne;  // ne[0] is the row length (ggml order)
  uint64_t offset;          // from the start of the data section
  uint64_t nbytes;
  const uint8_t* data;      // into the mapping; valid while the File lives

  int64_t n_elements() const;
  int64_t n_rows() const { return ne.empty() || ne[0] == 0 ? 0 : n_elements() / ne[0]; }
};

class File {
 public:
  // Maps and validates a file.
  static Result<File> open(const std::filesystem::path& path);
  // Validates bytes already in memory (the fuzzer's entry point); `bytes` must outlive the File.
  static Result<File> parse(std::span<const uint8_t> bytes, std::string display_name);

  File(File&&) noexcept;
  File& operator=(File&&) noexcept;
  ~File();

  const std::string& name() const;
  // The file it was opened from; empty when parsed from memory.
  const std::filesystem::path& path() const;
  uint32_t version() const;
  uint64_t alignment() const;
  uint64_t data_offset() const;  // start of the tensor data section, from the file start
  uint64_t size() const;         // file size in bytes
  std::span<const uint8_t> bytes() const;

  // Metadata in file order.
  const std::vector<std::pair<std::string, Value>>& metadata() const;
  const Value* find(std::string_view key) const;

  // Typed look-ups: an absent key or one of the wrong type is an Error naming the key.
  Result<std::string> get_string(std::string_view key) const;
  Result<uint64_t> get_uint(std::string_view key) const;
  Result<double> get_float(std::string_view key) const;
  Result<bool> get_bool(std::string_view key) const;
  Result<const Array*> get_array(std::string_view key) const;

  const std::vector<TensorInfo>& tensors() const;
  const TensorInfo* find_tensor(std::string_view name) const;

 private:
  struct Impl;
  explicit File(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hearth::gguf
