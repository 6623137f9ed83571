// Chat requests answered from a RAG collection (src/rag, docs/rag.md) by `hearth serve`.
// A request names a collection as the model `rag:<collection>` or with a body field on any
// served chat model:
//   "rag": "house"    or    "rag": {"collection": "house", "k": 5, "ttft_target": 3.0,
//                                   "sources_in_content": true}
// The last user message is the question. Its chunks are retrieved (vectors + FTS5, fused), and
// as many as fit go into a system message so that the whole rendered prompt — the rest of the
// conversation included — stays within the time-to-first-token budget (rag/context.h). The
// reply gets the sources footer after the answer (unless sources_in_content is false) and the
// top-level fields "sources" and "rag" (add_rag_fields).
//
// The handlers (openai_api.cpp, ollama_api.cpp) stay in charge of HTTP and of their error
// shapes; this file holds what is cached across requests: per collection the open Store and
// its VectorIndex (reloaded when Store::data_version() moves: a `hearth rag add` while serving
// is seen by the next request), each embedding model once, each chat model's prefill rate once
// (the planner's fallback measures the machine: never per request).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/chat_template.h"
#include "core/status.h"
#include "rag/context.h"
#include "server/model_registry.h"
#include "server/server_context.h"

namespace hearth::server {

inline constexpr std::string_view kRagModelPrefix = "rag:";

// Why a RAG request cannot go on: an HTTP status (400 a bad field, 404 an unknown collection,
// 500 a collection whose embedding model is missing or different), the message and the field.
struct RagFailure {
  int status = 400;
  std::string message;
  std::string param;  // "rag", "rag.k", "model", "messages"; "" : none
};

struct RagRequest {
  std::string collection;
  int64_t k = 5;                 // chunks retrieved; the budget may use fewer
  double ttft_target_s = 3.0;    // the prompt budget is this × the prefill rate
  bool sources_in_content = true;  // append rag::sources_footer to the answer text
  bool by_alias = false;         // the model was `rag:<collection>`
};

// The RAG part of a request body, or nullopt when it has none: `model` (the request's) of
// the form rag:<collection>, and/or the "rag" field. An Error (with `failure` set, 400) for a
// malformed field, an invalid name, or a field naming another collection than the model.
Result<std::optional<RagRequest>> parse_rag_request(const nlohmann::json& body, std::string_view model,
                                                    RagFailure& failure);

class RagChat;
// parse_rag_request, then for rag:<collection> `model` becomes the alias of the chat model
// that answers it (RagChat::chat_model_for; 404 for an unknown collection).
Result<std::optional<RagRequest>> resolve_rag_request(RagChat& rag, const nlohmann::json& body, std::string& model,
                                                      RagFailure& failure);

// The question: the content of the last user message; nullopt when there is none.
std::optional<std::string> last_user_content(std::span<const chat::Message> messages);
// The conversation with `sources` as its system message: merged after the text of a leading
// system message, else prepended. Unchanged when `sources` is empty.
std::vector<chat::Message> with_sources(std::span<const chat::Message> messages, const std::string& sources);
nlohmann::ordered_json with_sources(const nlohmann::ordered_json& messages, const std::string& sources);

// What a RAG request adds to a reply, fixed before generation.
struct RagPlan {
  std::string collection;
  std::vector<rag::SearchHit> used;  // in rank order; [1], [2], ... in the sources message
  std::vector<int32_t> prompt;       // the rendered conversation with the sources
  std::string footer;                // "\n\nSources:\n[1] ..." to append; "" : nothing
  int64_t budget_tokens = 0, prompt_tokens = 0, dropped = 0, retrieved = 0;
  double ttft_target_s = 0;
  rag::PrefillRate rate;
};

// [{"index": 1, "path", "heading", "chunk": ord, "score"}, ...]
nlohmann::json sources_json(const RagPlan& plan);
// {"collection", "budget_tokens", "prompt_tokens", "prefill_tok_s", "rate_source",
//  "ttft_target", "chunks_retrieved", "chunks_used", "chunks_dropped"}
nlohmann::json rag_json(const RagPlan& plan);
// Sets reply["sources"] and reply["rag"].
void add_rag_fields(nlohmann::json& reply, const RagPlan& plan);

// The conversation rendered and tokenized with `sources` as its system message ("" : none).
using RagPromptRenderer = std::function<Result<std::vector<int32_t>>(const std::string& sources)>;

class RagChat {
 public:
  // `threads`: the server's compute threads (0: all cores), for the embedding model and the
  // rate lookup; `state_dir`: where `hearth bench` keeps rates ("" : none, the planner only).
  RagChat(RagOptions options, ModelRegistry& registry, int threads, std::filesystem::path state_dir);
  ~RagChat();
  RagChat(const RagChat&) = delete;
  RagChat& operator=(const RagChat&) = delete;

  const std::filesystem::path& dir() const { return dir_; }

  // The served chat model that answers `rag:<collection>`: --rag-model, else the served model
  // whose file is the collection's chat_model_path, else the first served model that is not
  // an embedding model. 404 for an unknown collection.
  Result<std::string> chat_model_for(const std::string& collection, RagFailure& failure);

  struct Listing {
    std::string name;        // "rag:<collection>"
    std::string chat_model;  // the alias answering it
  };
  // One per collection in the directory that has a chat model to answer it, by name.
  std::vector<Listing> listings();

  // Retrieval and the budget for `request` on the acquired chat `model`: `messages` give the
  // question, `answer_tokens` (the request's max_tokens; <= 0: 512) is kept free in the
  // context, `render` renders the conversation with a candidate sources message.
  Result<RagPlan> prepare(const RagRequest& request, LoadedModel& model, std::span<const chat::Message> messages,
                          int64_t answer_tokens, const RagPromptRenderer& render, RagFailure& failure);

 private:
  struct Collection;
  struct EmbedderSlot;
  std::shared_ptr<Collection> collection(const std::string& name, RagFailure& failure);
  Status refresh(Collection& c, const std::filesystem::path& file);  // under c.mu
  std::shared_ptr<EmbedderSlot> embedder(const std::string& collection, const rag::CollectionInfo& info,
                                         RagFailure& failure);
  Result<rag::PrefillRate> prefill_rate(const std::filesystem::path& chat_model);
  bool is_embedding_model(const ModelEntry& entry);

  RagOptions options_;
  ModelRegistry& registry_;
  int threads_;
  std::filesystem::path state_dir_;
  std::filesystem::path dir_;
  const KernelTable* kernels_;

  std::mutex mu_;  // guards the maps below (not what they point to)
  std::map<std::string, std::shared_ptr<Collection>> collections_;
  std::map<std::string, std::shared_ptr<EmbedderSlot>> embedders_;  // by model path
  std::map<std::string, bool> embedding_files_;                     // path → is an encoder
  std::mutex load_mu_;  // one embedding model load at a time
  std::mutex rate_mu_;  // guards rates_; held while a rate is measured
  std::map<std::string, rag::PrefillRate> rates_;                   // by chat model path
};

}  // namespace hearth::server
