// `hearth rag`: a document store for retrieval-augmented answers on the board itself.
//   rag add COLLECTION PATH... -e EMBED.gguf [-m CHAT.gguf]   ingest files/directories
//   rag ls [COLLECTION]                                       collections, or a collection's files
//   rag rm COLLECTION [PATH...]                               files from it, or the whole collection
//   rag search COLLECTION QUERY [-k N]                        ranked chunks
//   rag ask COLLECTION QUESTION -m CHAT.gguf                  an answer from chunks fitted to a TTFT budget
//   rag check COLLECTION                                      integrity and whole-document check
// Collections live in --dir (default $HEARTH_RAG_DIR, else <state dir>/rag).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/chat_template.h"
#include "chat/model_template.h"
#include "cli/commands.h"
#include "cli/generation_setup.h"
#include "bench/rate_store.h"
#include "gguf/reader.h"
#include "rag/context.h"
#include "rag/ingest.h"
#include "rag/retrieve.h"
#include "rag/store.h"
#include "runtime/generate.h"
#include "tokenizer/tokenizer.h"

namespace hearth::cli {
namespace {

struct RagArgs {
  std::string dir;
  std::string collection;
  std::vector<std::string> paths;
  std::string embed_model, chat_model;
  std::string query;
  int64_t k = 5;
  int64_t chunk_tokens = 256, overlap_tokens = 32;
  int threads = 0;
  bool json = false, quiet = false;
  double ttft = 3.0;
  double prefill_rate = 0;  // 0: measured/estimated
  int64_t answer_tokens = 512;
  int64_t ctx = 0;
  sampling::SamplerParams sampling;
};

int fail(const std::string& message) {
  std::fprintf(stderr, "hearth rag: %s\n", message.c_str());
  return 1;
}

std::filesystem::path rag_dir(const RagArgs& a) { return a.dir.empty() ? rag::default_rag_dir() : std::filesystem::path(a.dir); }

Result<rag::Store> open_collection(const RagArgs& a) {
  if (Status s = rag::check_collection_name(a.collection); !s) return s.error();
  const std::filesystem::path file = rag::collection_file(rag_dir(a), a.collection);
  if (!std::filesystem::exists(file)) {
    return Error{"no collection \"" + a.collection + "\" in " + rag_dir(a).string() + " (hearth rag add makes one)"};
  }
  return rag::Store::open(file);
}

// The embedding model for a collection: -e if given (it must be the model the collection was
// made with: same name and dimension), else the one recorded at creation.
Result<std::unique_ptr<rag::TextEmbedder>> collection_embedder(const RagArgs& a, const rag::CollectionInfo& info) {
  const std::string path = a.embed_model.empty() ? info.embed_model_path : a.embed_model;
  if (path.empty()) return Error{"give the embedding model with -e"};
  Result<std::unique_ptr<rag::TextEmbedder>> e = rag::TextEmbedder::load(path, a.threads);
  if (!e) return Error{path + ": " + e.error().message};
  if (Status s = rag::check_embedding_model(info, a.collection, (*e)->name(), (*e)->dims(), path); !s) return s.error();
  return e;
}

std::string human_rate(double per_s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", per_s);
  return buf;
}

int run_add(const RagArgs& a) {
  if (Status s = rag::check_collection_name(a.collection); !s) return fail(s.error().message);
  if (a.chunk_tokens < 16) return fail("--chunk-tokens must be at least 16");
  if (a.overlap_tokens < 0 || a.overlap_tokens * 2 >= a.chunk_tokens) return fail("--overlap must be under half of --chunk-tokens");
  const std::filesystem::path file = rag::collection_file(rag_dir(a), a.collection);
  const bool exists = std::filesystem::exists(file);
  rag::CollectionInfo info;
  std::optional<rag::Store> store;  // opened here when it exists, made below once the models are known
  if (exists) {
    Result<rag::Store> s = rag::Store::open(file);
    if (!s) return fail(s.error().message);
    store.emplace(std::move(*s));
    info = store->info();
  } else if (a.embed_model.empty()) {
    return fail("a new collection needs its embedding model: -e EMBED.gguf");
  }
  Result<std::unique_ptr<rag::TextEmbedder>> loaded = exists ? collection_embedder(a, info)
                                                             : rag::TextEmbedder::load(a.embed_model, a.threads);
  if (!loaded) return fail(exists ? loaded.error().message : a.embed_model + ": " + loaded.error().message);
  std::unique_ptr<rag::TextEmbedder> embedder = std::move(*loaded);
  // Chunk sizes are counted with the chat model's tokenizer (they are what a prompt spends);
  // without one the embedding model's own tokenizer counts.
  const std::string chat_path = !a.chat_model.empty() ? a.chat_model : info.chat_model_path;
  std::unique_ptr<gguf::File> chat_file;
  std::unique_ptr<tokenizer::Vocab> chat_vocab;
  if (!chat_path.empty()) {
    Result<gguf::File> f = gguf::File::open(chat_path);
    if (!f) return fail(f.error().message);
    chat_file = std::make_unique<gguf::File>(std::move(*f));
    Result<tokenizer::Vocab> v = tokenizer::Vocab::load(*chat_file);
    if (!v) return fail(chat_path + ": " + v.error().message);
    chat_vocab = std::make_unique<tokenizer::Vocab>(std::move(*v));
  }
  rag::TextEmbedder* emb = embedder.get();
  const rag::TokenCounter count = [&](std::string_view s) -> int64_t {
    if (chat_vocab) return static_cast<int64_t>(tokenizer::tokenize(*chat_vocab, s, false, false).size());
    return emb->count_tokens(s) - 2;
  };
  if (!exists) {
    info.embed_model = embedder->name();
    info.embed_model_path = std::filesystem::absolute(a.embed_model).string();
    info.dims = embedder->dims();
    info.chat_model_path = chat_path.empty() ? "" : std::filesystem::absolute(chat_path).string();
    info.chunk_tokens = a.chunk_tokens;
    info.overlap_tokens = a.overlap_tokens;
    Result<rag::Store> made = rag::Store::create(file, info);
    if (!made) return fail(made.error().message);
    store.emplace(std::move(*made));
  }

  rag::FileList list = rag::collect_files(a.paths);
  int failures = 0;
  for (const std::string& m : list.missing) {
    std::fprintf(stderr, "hearth rag: %s: no such file or directory\n", m.c_str());
    ++failures;
  }
  rag::IngestOptions options;
  options.chunking.max_tokens = exists && info.chunk_tokens > 0 ? info.chunk_tokens : a.chunk_tokens;
  options.chunking.overlap_tokens = exists ? info.overlap_tokens : a.overlap_tokens;
  const bool tty = isatty(fileno(stderr));
  if (!a.quiet) {
    options.on_progress = [tty](const rag::IngestProgress& p) {
      const double rate = p.seconds > 0 ? double(p.chunks_done) / p.seconds : 0;
      std::fprintf(stderr, "%sfiles %lld/%lld, chunks %lld, %s chunks/s, %.1f s  %s%s", tty ? "\r\033[K" : "",
                   (long long)p.files_done, (long long)p.files_total, (long long)p.chunks_done,
                   human_rate(rate).c_str(), p.seconds, std::filesystem::path(p.current).filename().c_str(),
                   tty ? "" : "\n");
    };
  }
  std::vector<rag::FileOutcome> outcomes = rag::ingest(*store, *embedder, count, list.files, options);
  if (!a.quiet && tty) std::fprintf(stderr, "\n");
  int added = 0, replaced = 0, unchanged = 0;
  int64_t chunks = 0;
  for (const rag::FileOutcome& o : outcomes) {
    switch (o.kind) {
      case rag::FileOutcome::Kind::kAdded: ++added; chunks += o.chunks; break;
      case rag::FileOutcome::Kind::kReplaced: ++replaced; chunks += o.chunks; break;
      case rag::FileOutcome::Kind::kUnchanged: ++unchanged; break;
      case rag::FileOutcome::Kind::kFailed:
        ++failures;
        std::fprintf(stderr, "hearth rag: %s\n", o.error.c_str());
        break;
    }
  }
  std::printf("%s: %d added, %d replaced, %d unchanged, %d failed; %lld chunks written\n", a.collection.c_str(), added,
              replaced, unchanged, failures, (long long)chunks);
  return failures ? 1 : 0;
}

int run_ls(const RagArgs& a) {
  if (a.collection.empty()) {
    const std::vector<std::string> names = rag::list_collections(rag_dir(a));
    nlohmann::json out = nlohmann::json::array();
    for (const std::string& n : names) {
      Result<rag::Store> s = rag::Store::open(rag::collection_file(rag_dir(a), n));
      if (!s) {
        std::fprintf(stderr, "hearth rag: %s\n", s.error().message.c_str());
        continue;
      }
      Result<std::vector<rag::DocumentInfo>> docs = s->documents();
      Result<int64_t> chunks = s->chunk_count();
      const int64_t nd = docs ? int64_t(docs->size()) : -1, nc = chunks ? *chunks : -1;
      if (a.json) {
        out.push_back({{"name", n}, {"documents", nd}, {"chunks", nc}, {"embed_model", s->info().embed_model},
                       {"dims", s->info().dims}, {"created", s->info().created}});
      } else {
        std::printf("%-24s %6lld docs %7lld chunks  %s (%lld dims)\n", n.c_str(), (long long)nd, (long long)nc,
                    s->info().embed_model.c_str(), (long long)s->info().dims);
      }
    }
    if (a.json) std::printf("%s\n", out.dump(2).c_str());
    else if (names.empty()) std::printf("no collections in %s\n", rag_dir(a).c_str());
    return 0;
  }
  Result<rag::Store> store = open_collection(a);
  if (!store) return fail(store.error().message);
  Result<std::vector<rag::DocumentInfo>> docs = store->documents();
  if (!docs) return fail(docs.error().message);
  nlohmann::json out = nlohmann::json::array();
  for (const rag::DocumentInfo& d : *docs) {
    if (a.json) {
      out.push_back({{"path", d.path}, {"format", d.format}, {"bytes", d.bytes}, {"chunks", d.n_chunks},
                     {"sha256", d.sha256}, {"added", d.added}});
    } else {
      std::printf("%5lld chunks %9lld bytes  %-8s %s  %s\n", (long long)d.n_chunks, (long long)d.bytes,
                  d.format.c_str(), d.added.c_str(), d.path.c_str());
    }
  }
  if (a.json) std::printf("%s\n", out.dump(2).c_str());
  return 0;
}

int run_rm(const RagArgs& a) {
  if (a.paths.empty()) {
    if (Status s = rag::check_collection_name(a.collection); !s) return fail(s.error().message);
    const std::filesystem::path file = rag::collection_file(rag_dir(a), a.collection);
    if (!std::filesystem::exists(file)) return fail("no collection \"" + a.collection + "\"");
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(file.string() + suffix, ec);
    std::printf("removed collection %s\n", a.collection.c_str());
    return 0;
  }
  Result<rag::Store> store = open_collection(a);
  if (!store) return fail(store.error().message);
  int missing = 0;
  for (const std::string& p : a.paths) {
    // Stored paths are absolute; accept the spelling the user added it with.
    std::error_code ec;
    const std::string abs = std::filesystem::absolute(p, ec).lexically_normal().string();
    Result<bool> removed = store->remove_document(abs);
    if (!removed) return fail(removed.error().message);
    if (*removed) {
      std::printf("removed %s\n", abs.c_str());
    } else {
      std::fprintf(stderr, "hearth rag: %s is not in collection %s\n", abs.c_str(), a.collection.c_str());
      ++missing;
    }
  }
  return missing ? 1 : 0;
}

Result<std::vector<rag::SearchHit>> retrieve(const RagArgs& a, rag::Store& store, int64_t k) {
  Result<std::unique_ptr<rag::TextEmbedder>> embedder = collection_embedder(a, store.info());
  if (!embedder) return embedder.error();
  Result<std::vector<std::vector<float>>> q = (*embedder)->embed(std::vector<std::string>{a.query});
  if (!q) return Error{"the question: " + q.error().message};
  Result<rag::VectorIndex> index = store.load_vectors();
  if (!index) return index.error();
  rag::SearchOptions options;
  options.k = k;
  return rag::search(store, *index, (*q)[0], a.query, options, *choose_kernels().table);
}

int run_search(const RagArgs& a) {
  if (a.k < 1) return fail("-k must be at least 1");
  Result<rag::Store> store = open_collection(a);
  if (!store) return fail(store.error().message);
  Result<std::vector<rag::SearchHit>> hits = retrieve(a, *store, a.k);
  if (!hits) return fail(hits.error().message);
  nlohmann::json out = nlohmann::json::array();
  for (size_t i = 0; i < hits->size(); ++i) {
    const rag::SearchHit& h = (*hits)[i];
    if (a.json) {
      out.push_back({{"rank", i + 1}, {"score", h.score}, {"similarity", h.similarity},
                     {"vector_rank", h.vector_rank}, {"keyword_rank", h.keyword_rank}, {"path", h.chunk.path},
                     {"heading", h.chunk.heading}, {"chunk", h.chunk.ord}, {"tokens", h.chunk.n_tokens},
                     {"text", h.chunk.text}});
    } else {
      std::printf("[%zu] %.4f  %s%s%s  (chunk %lld, vector #%lld, keyword #%lld)\n%s\n\n", i + 1, h.score,
                  h.chunk.path.c_str(), h.chunk.heading.empty() ? "" : " — ", h.chunk.heading.c_str(),
                  (long long)h.chunk.ord, (long long)h.vector_rank, (long long)h.keyword_rank, h.chunk.text.c_str());
    }
  }
  if (a.json) std::printf("%s\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  return 0;
}

int run_ask(const RagArgs& a) {
  Result<rag::Store> store = open_collection(a);
  if (!store) return fail(store.error().message);
  const std::string chat_path = !a.chat_model.empty() ? a.chat_model : store->info().chat_model_path;
  if (chat_path.empty()) return fail("give the chat model with -m");
  // The k best, then the budget decides how many of them go in (as the server does).
  if (a.k < 1) return fail("-k must be at least 1");
  Result<std::vector<rag::SearchHit>> hits = retrieve(a, *store, a.k);
  if (!hits) return fail(hits.error().message);

  EngineFlags flags;
  flags.model = chat_path;
  flags.threads = a.threads;
  flags.ctx_size = a.ctx;
  Result<Engine> engine = load_engine(flags);
  if (!engine) return fail(engine.error().message);
  Result<chat::ModelTemplate> mt = chat::model_chat_template(engine->model->file());
  if (!mt) return fail("chat template: " + mt.error().message);
  Result<chat::ChatTemplate> tmpl = chat::ChatTemplate::create(mt->source, mt->bos_token, mt->eos_token);
  if (!tmpl) return fail("chat template: " + tmpl.error().message);

  rag::PrefillRate rate{a.prefill_rate, "--prefill-rate"};
  if (rate.tok_s <= 0) {
    Result<rag::PrefillRate> r = rag::prefill_rate(chat_path, engine->pool->size(), bench::default_state_dir());
    if (!r) return fail(r.error().message + " (or give --prefill-rate TOK_S)");
    rate = *r;
  }
  rag::BudgetOptions bo;
  bo.ttft_target_s = a.ttft;
  bo.context_length = engine->session->n_ctx();
  bo.answer_tokens = std::min<int64_t>(a.answer_tokens, bo.context_length / 2);
  const int64_t budget = rag::prompt_token_budget(rate.tok_s, bo);

  const tokenizer::Vocab& vocab = *engine->vocab;
  auto render = [&](const std::string& sources) -> Result<std::vector<int32_t>> {
    std::vector<chat::Message> messages;
    if (!sources.empty()) messages.push_back({"system", sources});
    messages.push_back({"user", a.query});
    Result<std::string> text = tmpl->apply(messages, true);
    if (!text) return text.error();
    return tokenizer::tokenize_rendered(vocab, *text);
  };
  Result<rag::FittedContext> fitted = rag::fit_to_budget(*hits, budget, [&](const std::string& s) -> Result<int64_t> {
    Result<std::vector<int32_t>> ids = render(s);
    if (!ids) return ids.error();
    return static_cast<int64_t>(ids->size());
  });
  if (!fitted) return fail(fitted.error().message);
  if (!a.quiet) {
    std::fprintf(stderr, "budget: %lld prompt tokens = %.1f s × %.1f tok/s prefill (%s); using %zu of %zu chunks, %lld tokens\n",
                 (long long)budget, a.ttft, rate.tok_s, rate.source.c_str(), fitted->used.size(), hits->size(),
                 (long long)fitted->prompt_tokens);
  }
  Result<std::vector<int32_t>> prompt = render(fitted->sources);
  if (!prompt) return fail(prompt.error().message);
  sampling::Sampler sampler(a.sampling);
  GenerateParams params;
  params.n_predict = bo.answer_tokens;
  Result<GenerateResult> result = generate(*engine->session, sampler, vocab, *prompt, params, [](std::string_view t) {
    std::fwrite(t.data(), 1, t.size(), stdout);
    std::fflush(stdout);
  });
  if (!result) return fail(result.error().message);
  std::printf("\n\n%s\n", rag::sources_footer(fitted->used).c_str());
  if (!a.quiet) {
    std::fprintf(stderr, "prompt %lld tokens, first token after %.0f ms (target %.0f ms), %lld tokens at %.1f tok/s\n",
                 (long long)result->timings.n_prompt, result->timings.first_token_ms, a.ttft * 1000,
                 (long long)result->timings.n_generated, result->timings.generate_tok_per_s());
  }
  return 0;
}

int run_check(const RagArgs& a) {
  Result<rag::Store> store = open_collection(a);
  if (!store) return fail(store.error().message);
  Result<rag::CheckReport> r = store->check();
  if (!r) return fail(r.error().message);
  for (const std::string& p : r->problems) std::printf("%s\n", p.c_str());
  std::printf("%s: %s, %lld documents, %lld chunks\n", a.collection.c_str(), r->ok ? "ok" : "DAMAGED",
              (long long)r->documents, (long long)r->chunks);
  return r->ok ? 0 : 1;
}

}  // namespace

void add_rag_command(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<RagArgs>();
  CLI::App* rag = app.add_subcommand("rag", "a document store for answers from your own files");
  rag->require_subcommand(1);
  auto common = [&](CLI::App* cmd) {
    cmd->add_option("--dir", a->dir, "where collections live (default: $HEARTH_RAG_DIR, else <state dir>/rag)");
    cmd->add_option("-t,--threads", a->threads, "threads (default: all cores)");
  };

  CLI::App* add = rag->add_subcommand("add", "add or update files and directories in a collection");
  add->add_option("collection", a->collection, "collection name (made on first add)")->required();
  add->add_option("paths", a->paths, "files or directories (.txt .md .html, recursively)")->required();
  add->add_option("-e,--embed-model", a->embed_model, "embedding model GGUF (required for a new collection)");
  add->add_option("-m,--model", a->chat_model, "chat model whose tokenizer counts chunk tokens");
  add->add_option("--chunk-tokens", a->chunk_tokens, "tokens per chunk (new collection; default 256)");
  add->add_option("--overlap", a->overlap_tokens, "tokens repeated between chunks (new collection; default 32)");
  add->add_flag("-q,--quiet", a->quiet, "no progress line");
  common(add);
  add->callback([a, &exit_code] { exit_code = run_add(*a); });

  CLI::App* ls = rag->add_subcommand("ls", "list collections, or the files of one");
  ls->add_option("collection", a->collection, "collection name");
  ls->add_flag("--json", a->json, "JSON output");
  common(ls);
  ls->callback([a, &exit_code] { exit_code = run_ls(*a); });

  CLI::App* rm = rag->add_subcommand("rm", "remove files from a collection, or the collection");
  rm->add_option("collection", a->collection, "collection name")->required();
  rm->add_option("paths", a->paths, "files to remove (none: the whole collection)");
  common(rm);
  rm->callback([a, &exit_code] { exit_code = run_rm(*a); });

  CLI::App* search = rag->add_subcommand("search", "the chunks that best match a query");
  search->add_option("collection", a->collection, "collection name")->required();
  search->add_option("query", a->query, "query text")->required();
  search->add_option("-k", a->k, "chunks to show (default 5)");
  search->add_option("-e,--embed-model", a->embed_model, "embedding model (default: the collection's)");
  search->add_flag("--json", a->json, "JSON output");
  common(search);
  search->callback([a, &exit_code] { exit_code = run_search(*a); });

  CLI::App* ask = rag->add_subcommand("ask", "answer a question from a collection, within a time-to-first-token budget");
  ask->add_option("collection", a->collection, "collection name")->required();
  ask->add_option("question", a->query, "the question")->required();
  ask->add_option("-m,--model", a->chat_model, "chat model (default: the one the collection was made with)");
  ask->add_option("-e,--embed-model", a->embed_model, "embedding model (default: the collection's)");
  ask->add_option("-k", a->k, "chunks retrieved, of which the budget takes what fits (default 5)");
  ask->add_option("--ttft", a->ttft, "time-to-first-token target in seconds (default 3)");
  ask->add_option("--prefill-rate", a->prefill_rate, "prefill tok/s to budget with (default: hearth bench's figure, else the planner's)");
  ask->add_option("-n,--max-tokens", a->answer_tokens, "answer tokens at most (default 512)");
  ask->add_option("-c,--ctx-size", a->ctx, "context size (default: min(4096, training context))");
  ask->add_flag("-q,--quiet", a->quiet, "no budget and timing lines on stderr");
  add_sampling_flags(ask, a->sampling);
  common(ask);
  ask->callback([a, &exit_code] { exit_code = run_ask(*a); });

  CLI::App* check = rag->add_subcommand("check", "verify a collection (integrity, whole documents, keyword index)");
  check->add_option("collection", a->collection, "collection name")->required();
  common(check);
  check->callback([a, &exit_code] { exit_code = run_check(*a); });
}

}  // namespace hearth::cli
