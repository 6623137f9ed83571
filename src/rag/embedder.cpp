#include "rag/embedder.h"

#include <algorithm>
#include <thread>

#include "kernels/kernels.h"
#include "tokenizer/tokenizer.h"

namespace hearth::rag {

TextEmbedder::TextEmbedder(std::shared_ptr<const Model> model, tokenizer::Vocab vocab, int threads, std::string name)
    : model_(model),
      vocab_(std::move(vocab)),
      pool_(std::make_unique<ThreadPool>(threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())))),
      embedder_(std::move(model)),
      name_(std::move(name)) {}

Result<std::unique_ptr<TextEmbedder>> TextEmbedder::wrap(std::shared_ptr<const Model> model, int threads) {
  Result<tokenizer::Vocab> vocab = tokenizer::Vocab::load(model->file());
  if (!vocab) return vocab.error();
  Result<std::string> name = model->file().get_string("general.name");
  std::string n = name && !name->empty() ? *name : std::string();
  return std::unique_ptr<TextEmbedder>(new TextEmbedder(std::move(model), std::move(*vocab), threads, std::move(n)));
}

Result<std::unique_ptr<TextEmbedder>> TextEmbedder::load(const std::filesystem::path& file, int threads) {
  Result<std::shared_ptr<const Model>> model = Model::load(file.string(), *choose_kernels().table);
  if (!model) return model.error();
  Result<std::unique_ptr<TextEmbedder>> e = wrap(std::move(*model), threads);
  if (e && (*e)->name_.empty()) (*e)->name_ = file.stem().string();
  return e;
}

int64_t TextEmbedder::count_tokens(std::string_view text) const {
  return static_cast<int64_t>(tokenizer::tokenize(vocab_, text, true, false).size());
}

Result<std::vector<std::vector<float>>> TextEmbedder::embed(std::span<const std::string> texts) {
  std::vector<std::vector<int32_t>> inputs;
  inputs.reserve(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    // parse_special off: a document that happens to contain "[SEP]" is text, not a marker.
    inputs.push_back(tokenizer::tokenize(vocab_, texts[i], true, false));
    if (static_cast<int64_t>(inputs.back().size()) > context_length()) {
      return Error{"text " + std::to_string(i) + " is " + std::to_string(inputs.back().size()) +
                   " tokens, more than the embedding model's context of " + std::to_string(context_length())};
    }
  }
  EmbedOptions options;
  options.normalize = true;
  Result<std::vector<Embedding>> out = embedder_.embed(*pool_, inputs, options);
  if (!out) return out.error();
  std::vector<std::vector<float>> vectors;
  vectors.reserve(out->size());
  for (Embedding& e : *out) {
    if (e.n_rows != 1) return Error{"the embedding model's pooling gives one vector per token; pooled vectors are needed"};
    vectors.push_back(std::move(e.values));
  }
  return vectors;
}

}  // namespace hearth::rag
