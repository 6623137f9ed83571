// Writing GGUF v3 files. Tensor data is produced at write time by a callback, so a quantizer
// streams a model larger than RAM through a fixed buffer; the file appears under its final
// name only when complete (written to a temporary name, then renamed).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "gguf/value.h"
#include "quant/ggml_type.h"

namespace hearth::gguf {

// Fills exactly `out.size()` bytes of one tensor's data.
using TensorDataFn = std::function<Status(std::span<uint8_t> out)>;

class Writer {
 public:
  // Sets a key; an existing key keeps its place and gets the new value.
  void set(std::string key, Value value);
  void remove(std::string_view key);
  void set_alignment(uint64_t alignment);  // also written as general.alignment if not default

  // Adds a tensor whose bytes come from `fill` when the file is written. An Error if the
  // shape is not whole blocks of `type` or the name repeats.
  Status add_tensor(std::string name, GgmlType type, std::vector<int64_t> ne, TensorDataFn fill);
  // Convenience: the bytes are copied now.
  Status add_tensor(std::string name, GgmlType type, std::vector<int64_t> ne,
                    std::span<const uint8_t> bytes);

  Status write(const std::filesystem::path& path) const;

 private:
  struct Tensor {
    std::string name;
    GgmlType type;
    std::vector<int64_t> ne;
    uint64_t nbytes;
    TensorDataFn fill;
  };
  std::vector<std::pair<std::string, Value>> metadata_;
  std::vector<Tensor> tensors_;
  uint64_t alignment_ = 32;
};

}  // namespace hearth::gguf
