// `hearth perplexity -m FILE -f TEXT [--ctx-size N] [--batch-size N] [--threads N]`, with
// llama.cpp's semantics so the numbers compare: the text is tokenized once (BOS per the model),
// cut into chunks of n_ctx tokens (a partial last chunk is dropped), each chunk is evaluated from
// an empty cache with its first token replaced by BOS when the model adds one, and only the
// second half is scored (every scored token has at least n_ctx/2 tokens of context): the logits
// at positions n_ctx/2 .. n_ctx-2 predict the tokens after them. Prints the running perplexity
// after each chunk ("[1]12.3456,[2]...") and the final estimate exp(mean NLL) with the standard
// error of the mean NLL carried to the perplexity (ppl * stderr).
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/generation_setup.h"
#include "tokenizer/tokenizer.h"

namespace hearth::cli {
namespace {

constexpr int64_t kDefaultPerplexityCtx = 512;  // llama.cpp's customary setting for comparisons

struct PerplexityArgs {
  EngineFlags engine;
  std::string text_file;
  int64_t batch_size = 512;
};

int fail(const std::string& message) {
  std::fprintf(stderr, "hearth perplexity: %s\n", message.c_str());
  return 1;
}

// log softmax(logits)[target], in double so long vocabularies lose nothing in the sum.
double log_prob(std::span<const float> logits, int32_t target) {
  float max_logit = logits[0];
  for (float v : logits) max_logit = std::max(max_logit, v);
  double sum = 0;
  for (float v : logits) sum += std::exp(double(v) - double(max_logit));
  return double(logits[static_cast<size_t>(target)]) - double(max_logit) - std::log(sum);
}

int run_perplexity(PerplexityArgs& args) {
  std::ifstream in(args.text_file, std::ios::binary);
  if (!in) return fail("cannot read " + args.text_file);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();

  if (args.engine.ctx_size <= 0) args.engine.ctx_size = kDefaultPerplexityCtx;
  if (args.engine.ctx_size < 4) return fail("--ctx-size must be at least 4");
  Result<Engine> engine = load_engine(args.engine);
  if (!engine) return fail(engine.error().message);
  const tokenizer::Vocab& vocab = *engine->vocab;
  Session& session = *engine->session;
  const int64_t n_ctx = session.n_ctx();
  const int64_t n_vocab = engine->model->config().n_vocab;
  std::fprintf(stderr, "load: %.1f ms\n", engine->load_ms);

  std::vector<int32_t> tokens = tokenizer::tokenize(vocab, text, true, true);
  const int64_t n_tokens = static_cast<int64_t>(tokens.size());
  if (n_tokens < 2 * n_ctx)
    return fail("the text gives " + std::to_string(n_tokens) + " tokens; a context of " +
                std::to_string(n_ctx) + " needs at least " + std::to_string(2 * n_ctx) +
                " (two chunks): use a longer text or a smaller --ctx-size");
  for (int32_t id : tokens)
    if (id < 0 || id >= n_vocab)
      return fail("token id " + std::to_string(id) + " is past the output layer");

  const int64_t n_chunk = n_tokens / n_ctx;
  const int64_t batch = args.batch_size > 0 ? args.batch_size : n_ctx;
  const int64_t first = n_ctx / 2;
  std::fprintf(stderr, "perplexity: %lld tokens, %lld chunks of %lld, batch %lld\n",
               static_cast<long long>(n_tokens), static_cast<long long>(n_chunk),
               static_cast<long long>(n_ctx), static_cast<long long>(batch));

  double nll = 0, nll2 = 0;
  int64_t count = 0;
  std::vector<int32_t> chunk(static_cast<size_t>(n_ctx));
  std::vector<float> scored;  // logits of positions first .. n_ctx-1, row-major
  for (int64_t c = 0; c < n_chunk; ++c) {
    const int64_t start = c * n_ctx;
    std::copy(tokens.begin() + start, tokens.begin() + start + n_ctx, chunk.begin());
    if (vocab.add_bos() && vocab.valid(vocab.bos())) chunk[0] = vocab.bos();
    session.reset();
    scored.clear();
    for (int64_t b = 0; b < n_ctx; b += batch) {
      const int64_t m = std::min(batch, n_ctx - b);
      Result<std::span<const float>> out =
          session.decode(std::span<const int32_t>(chunk.data() + b, static_cast<size_t>(m)), true);
      if (!out) return fail(out.error().message);
      for (int64_t t = std::max(b, first); t < b + m; ++t) {
        const auto row =
            out->subspan(static_cast<size_t>((t - b) * n_vocab), static_cast<size_t>(n_vocab));
        scored.insert(scored.end(), row.begin(), row.end());
      }
    }
    for (int64_t j = first; j < n_ctx - 1; ++j) {
      const std::span<const float> row(scored.data() + (j - first) * n_vocab,
                                       static_cast<size_t>(n_vocab));
      const double lp = log_prob(row, tokens[static_cast<size_t>(start + j + 1)]);
      nll -= lp;
      nll2 += lp * lp;
      ++count;
    }
    std::printf("[%lld]%.4f,", static_cast<long long>(c + 1), std::exp(nll / double(count)));
    std::fflush(stdout);
  }
  std::printf("\n");

  const double mean = nll / double(count);
  const double ppl = std::exp(mean);
  const double var = nll2 / double(count) - mean * mean;
  if (count > 1 && var > 0) {
    const double stderr_nll = std::sqrt(var / double(count - 1));
    std::printf("Final estimate: PPL = %.4f +/- %.5f\n", ppl, stderr_nll * ppl);
  } else {
    std::printf("Final estimate: PPL = %.4f (no spread: standard error undefined)\n", ppl);
  }
  return std::isfinite(ppl) ? 0 : 1;
}

}  // namespace

void add_perplexity_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<PerplexityArgs>();
  CLI::App* cmd = app.add_subcommand("perplexity",
                                     "Perplexity of a model over a text file (llama.cpp's method)");
  cmd->add_option("-m,--model", args->engine.model, "GGUF model file")->required();
  cmd->add_option("-f,--file", args->text_file, "text file")->required();
  cmd->add_option("-c,--ctx-size", args->engine.ctx_size, "chunk length in tokens (default 512)");
  cmd->add_option("-b,--batch-size", args->batch_size, "tokens per decode call (default 512)");
  cmd->add_option("-t,--threads", args->engine.threads, "threads (default: all cores)");
  add_cache_type_flags(cmd, args->engine.cache_type_k, args->engine.cache_type_v);
  cmd->callback([args, &exit_code] { exit_code = run_perplexity(*args); });
}

}  // namespace hearth::cli
