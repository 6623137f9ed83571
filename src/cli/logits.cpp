// `hearth logits -m FILE (-p TEXT | --tokens ID,ID,...) [--batch-size N] [--threads N]`:
// evaluates a token sequence and prints one JSON object {"tokens": [...], "logits": [[...]]}
// with the logits at every position. The sequence goes through the engine in decode calls of at
// most N tokens (default: all at once; 1 = token by token through the KV cache), so comparing
// the output with a reference checks the prefill and the decode paths alike.
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/generation_setup.h"
#include "kernels/kernels.h"
#include "model/model.h"
#include "runtime/session.h"
#include "runtime/thread_pool.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace hearth::cli {
namespace {

struct LogitsArgs {
  std::string model;
  std::string prompt;
  std::string tokens;
  int64_t batch_size = 0;
  int threads = 0;
  int64_t ctx_size = 0;
  std::string cache_type_k = "f16", cache_type_v = "f16";
};

int fail(const std::string& message) {
  std::fprintf(stderr, "hearth logits: %s\n", message.c_str());
  return 1;
}

Result<std::vector<int32_t>> parse_ids(const std::string& text) {
  std::vector<int32_t> ids;
  size_t i = 0;
  while (i < text.size()) {
    size_t end = text.find(',', i);
    if (end == std::string::npos) end = text.size();
    const std::string item = text.substr(i, end - i);
    char* stop = nullptr;
    const long long v = std::strtoll(item.c_str(), &stop, 10);
    if (item.empty() || *stop != '\0' || v < 0 || v > INT32_MAX)
      return Error{"--tokens: '" + item + "' is not a token id"};
    ids.push_back(static_cast<int32_t>(v));
    i = end + 1;
  }
  if (ids.empty()) return Error{"--tokens: no ids"};
  return ids;
}

int run_logits(const LogitsArgs& args) {
  if (args.prompt.empty() == args.tokens.empty()) return fail("give -p TEXT or --tokens IDS (one of them)");
  const KernelChoice kc = choose_kernels();
  Result<std::shared_ptr<const Model>> model = Model::load(args.model, *kc.table);
  if (!model) return fail(model.error().message);

  std::vector<int32_t> ids;
  if (!args.tokens.empty()) {
    Result<std::vector<int32_t>> parsed = parse_ids(args.tokens);
    if (!parsed) return fail(parsed.error().message);
    ids = std::move(*parsed);
  } else {
    Result<tokenizer::Vocab> vocab = tokenizer::Vocab::load((*model)->file());
    if (!vocab) return fail(vocab.error().message);
    ids = tokenizer::tokenize(*vocab, args.prompt, true, true);
    if (ids.empty()) return fail("the prompt gives no tokens");
  }

  const int threads = args.threads > 0
                          ? args.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  ThreadPool pool(threads);
  SessionOptions options;
  options.n_ctx = args.ctx_size > 0 ? args.ctx_size : 0;
  Result<KvCacheTypes> cache_types = parse_cache_types(args.cache_type_k, args.cache_type_v);
  if (!cache_types) return fail(cache_types.error().message);
  options.cache_types = *cache_types;
  Result<Session> session = Session::create(*model, pool, options);
  if (!session) return fail(session.error().message);

  const int64_t n = static_cast<int64_t>(ids.size());
  const int64_t batch = args.batch_size > 0 ? args.batch_size : n;
  const int64_t n_vocab = (*model)->config().n_vocab;
  nlohmann::json logits = nlohmann::json::array();
  for (int64_t i = 0; i < n; i += batch) {
    const int64_t m = std::min(batch, n - i);
    Result<std::span<const float>> out =
        session->decode(std::span<const int32_t>(ids.data() + i, static_cast<size_t>(m)), true);
    if (!out) return fail(out.error().message);
    for (int64_t t = 0; t < m; ++t)
      logits.push_back(std::vector<float>(out->begin() + t * n_vocab, out->begin() + (t + 1) * n_vocab));
  }
  nlohmann::json result;
  result["tokens"] = ids;
  result["logits"] = std::move(logits);
  const std::string text = result.dump();
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
  return 0;
}

}  // namespace

void add_logits_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<LogitsArgs>();
  CLI::App* cmd = app.add_subcommand("logits", "Print the logits of every position of a sequence as JSON");
  cmd->add_option("-m,--model", args->model, "GGUF model file")->required();
  cmd->add_option("-p,--prompt", args->prompt, "text, tokenized with the model's tokenizer (BOS per its rules)");
  cmd->add_option("--tokens", args->tokens, "comma-separated token ids");
  cmd->add_option("--batch-size", args->batch_size, "tokens per decode call (default: all; 1 = one at a time)");
  cmd->add_option("-t,--threads", args->threads, "threads (default: all cores)");
  cmd->add_option("-c,--ctx-size", args->ctx_size, "context size (default: min(4096, training context))");
  add_cache_type_flags(cmd, args->cache_type_k, args->cache_type_v);
  cmd->callback([args, &exit_code] { exit_code = run_logits(*args); });
}

}  // namespace hearth::cli
