// `hearth quantize`: rewrite a GGUF model with its weights in another format or mix.
// Metadata is copied (general.file_type and general.quantization_version updated); each tensor
// is converted to F32 row by row and quantized to the type the mix gives it, on several threads,
// and streamed to the output so memory stays at one output tensor plus a few rows per thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "quant/ggml_type.h"

namespace hearth {

struct QuantizeProgress {
  size_t tensor_index = 0;  // 0-based, in output order
  size_t n_tensors = 0;
  std::string_view name;
  GgmlType from = GgmlType::F32;
  GgmlType to = GgmlType::F32;
  bool tensor_done = false;    // false: a report from inside a large tensor
  uint64_t bytes_done = 0;     // source tensor bytes converted so far, all tensors
  uint64_t bytes_total = 0;    // source tensor bytes of the whole model
  double seconds = 0;          // since the first tensor started
};

struct QuantizeOptions {
  std::filesystem::path input;
  std::filesystem::path output;
  std::string type;  // a mix or single type: quant_mix_names()
  int threads = 0;   // 0: all hardware threads
  // Both optional; called on the thread that called quantize_file.
  std::function<void(const QuantizeProgress&)> on_progress;
  std::function<void(std::string_view)> on_warning;
};

struct QuantizeSummary {
  size_t n_tensors = 0;
  size_t n_quantized = 0;  // tensors whose type changed
  uint64_t bytes_in = 0;   // tensor data
  uint64_t bytes_out = 0;
  uint32_t file_type = 0;
};

Result<QuantizeSummary> quantize_file(const QuantizeOptions& options);

}  // namespace hearth
