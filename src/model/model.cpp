// See model.h.
#include "model/model.h"

#include "model/repack.h"

namespace hearth {

Result<std::shared_ptr<const Model>> Model::load(const std::filesystem::path& path,
                                                 const KernelTable& kernels) {
  Result<gguf::File> file = gguf::File::open(path);
  if (!file) return file.error();
  return from_file(std::move(*file), kernels);
}

Result<std::shared_ptr<const Model>> Model::from_file(gguf::File file, const KernelTable& kernels) {
  auto model = std::make_shared<Model>(std::move(file), kernels);
  Result<ModelConfig> config = load_config(model->file_);
  if (!config) return config.error();
  model->config_ = std::move(*config);
  const ModelConfig& c = model->config_;

  const WeightLoader loader(model->file_, kernels);
  model->weights_.layers.resize(static_cast<size_t>(c.n_layer));
  // An encoder has no output norm or matrix: its file carries only what bert.cpp loads.
  if (c.arch != Arch::kBert)
    if (Status s = load_common_weights(loader, c, model->weights_); !s) return s.error();
  Status s;
  switch (c.arch) {
    case Arch::kLlama:
      s = load_llama_weights(loader, c, model->weights_);
      model->forward_ = forward_llama;
      break;
    case Arch::kQwen2:
      s = load_qwen2_weights(loader, c, model->weights_);
      model->forward_ = forward_qwen2;
      break;
    case Arch::kPhi3:
      s = load_phi3_weights(loader, c, model->weights_);
      model->forward_ = forward_phi3;
      break;
    case Arch::kStableLm:
      s = load_stablelm_weights(loader, c, model->weights_);
      model->forward_ = forward_stablelm;
      break;
    case Arch::kBert:
      s = load_bert_weights(loader, c, model->weights_);
      model->forward_ = forward_bert_logits;  // an Error: bert has no logits (runtime/embed.h)
      break;
  }
  if (!s) return s.error();
  model->pack_cache_writer_ = repack_weights(kernels, model->file_, model->weights_);
  return std::shared_ptr<const Model>(std::move(model));
}

void Model::wait_background_work() const {
  const std::lock_guard lock(background_mutex_);
  if (pack_cache_writer_.joinable()) pack_cache_writer_.join();
}

}  // namespace hearth
