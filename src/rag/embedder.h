// An embedding model ready to turn texts into vectors: the model, its own tokenizer (WordPiece
// for BERT), the packed-batch Embedder and a thread pool. What the store's ingest and its
// queries share, so both sides of a similarity come from the same model the same way.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "runtime/embed.h"
#include "runtime/thread_pool.h"
#include "tokenizer/vocab.h"

namespace hearth::rag {

class TextEmbedder {
 public:
  // threads 0: every core.
  static Result<std::unique_ptr<TextEmbedder>> load(const std::filesystem::path& file, int threads = 0);
  // Around an already loaded model (the server's), with its own pool.
  static Result<std::unique_ptr<TextEmbedder>> wrap(std::shared_ptr<const Model> model, int threads);

  // general.name, else the file's stem: what a collection records to refuse another model.
  const std::string& name() const { return name_; }
  int64_t dims() const { return embedder_.dim(); }
  int64_t context_length() const { return embedder_.context_length(); }
  // Tokens of `text` as the model sees it (with its [CLS]/[SEP] or BOS).
  int64_t count_tokens(std::string_view text) const;
  // L2-normalised vectors with the model's pooling; a text longer than the model's context is
  // an Error naming its index (never cut silently).
  Result<std::vector<std::vector<float>>> embed(std::span<const std::string> texts);

 private:
  TextEmbedder(std::shared_ptr<const Model> model, tokenizer::Vocab vocab, int threads, std::string name);
  std::shared_ptr<const Model> model_;
  tokenizer::Vocab vocab_;
  std::unique_ptr<ThreadPool> pool_;
  Embedder embedder_;
  std::string name_;
};

}  // namespace hearth::rag
