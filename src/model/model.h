// A loaded model: the mapped GGUF file, its configuration and weights, and the forward pass of
// its architecture. Immutable after load and shared read-only by any number of sessions
// (STYLE habit 6); everything that changes while generating lives in a Session.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>

#include "core/status.h"
#include "gguf/reader.h"
#include "kernels/kernels.h"
#include "model/config.h"
#include "model/weights.h"

namespace hearth {

struct ForwardContext;
using ForwardFn = Status (*)(ForwardContext& ctx);

class Model {
 public:
  static Result<std::shared_ptr<const Model>> load(const std::filesystem::path& path,
                                                   const KernelTable& kernels);
  static Result<std::shared_ptr<const Model>> from_file(gguf::File file, const KernelTable& kernels);

  const ModelConfig& config() const { return config_; }
  const ModelWeights& weights() const { return weights_; }
  const gguf::File& file() const { return file_; }
  const KernelTable& kernels() const { return *kernels_; }
  ForwardFn forward() const { return forward_; }
  // Waits until work the load left running (the packed-weight cache write) is done: for a
  // benchmark, which must not time it.
  void wait_background_work() const;

  Model(gguf::File file, const KernelTable& kernels) : file_(std::move(file)), kernels_(&kernels) {}

 private:
  gguf::File file_;
  const KernelTable* kernels_;
  ModelConfig config_;
  ModelWeights weights_;
  ForwardFn forward_ = nullptr;
  // Writes the packed weights to their cache after a load that made them; last, so it is
  // joined (the write finished) before the weights it reads go.
  mutable std::mutex background_mutex_;
  mutable std::jthread pack_cache_writer_;
};

// Per-architecture entry points (one file each).
Status load_llama_weights(const WeightLoader& loader, const ModelConfig& c, ModelWeights& w);
Status forward_llama(ForwardContext& ctx);
Status load_qwen2_weights(const WeightLoader& loader, const ModelConfig& c, ModelWeights& w);
Status forward_qwen2(ForwardContext& ctx);
Status load_phi3_weights(const WeightLoader& loader, const ModelConfig& c, ModelWeights& w);
Status forward_phi3(ForwardContext& ctx);
Status load_stablelm_weights(const WeightLoader& loader, const ModelConfig& c, ModelWeights& w);
Status forward_stablelm(ForwardContext& ctx);
Status load_bert_weights(const WeightLoader& loader, const ModelConfig& c, ModelWeights& w);
Status forward_bert_logits(ForwardContext& ctx);  // always an Error: bert only embeds


}  // namespace hearth
