// `hearth embed -m FILE [TEXT... | --stdin] [--json] [--pooling P] [--no-normalize] [-t N]`:
// one embedding per text (each TEXT argument, or each non-empty line of stdin), all packed
// into as few passes as fit. Plain output: one line per text, the vector's values separated
// by spaces; --json: {"model", "dim", "pooling", "data": [{"text", "tokens", "embedding"}]}.
// With pooling none each token's vector is printed (one line per token; a list per text in
// JSON).
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "kernels/kernels.h"
#include "runtime/embed.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace hearth::cli {
namespace {

struct EmbedArgs {
  std::string model;
  std::vector<std::string> texts;
  bool stdin_text = false;
  bool json = false;
  bool no_normalize = false;
  std::string pooling;  // "": the model's
  int threads = 0;
};

int fail(const std::string& message) {
  std::fprintf(stderr, "hearth embed: %s\n", message.c_str());
  return 1;
}

int run_embed(const EmbedArgs& args) {
  if (args.stdin_text && !args.texts.empty()) return fail("give TEXT or --stdin, not both");
  if (!args.stdin_text && args.texts.empty()) return fail("give TEXT or --stdin");
  std::vector<std::string> texts = args.texts;
  if (args.stdin_text) {
    for (std::string line; std::getline(std::cin, line);) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!line.empty()) texts.push_back(line);
    }
    if (texts.empty()) return fail("stdin holds no text");
  }
  EmbedOptions options;
  options.normalize = !args.no_normalize;
  if (!args.pooling.empty()) {
    Result<Pooling> p = pooling_from_name(args.pooling);
    if (!p) return fail("--pooling: " + p.error().message);
    options.pooling = *p;
  }
  auto model = Model::load(args.model, *choose_kernels().table);
  if (!model) return fail(model.error().message);
  auto vocab = tokenizer::Vocab::load((*model)->file());
  if (!vocab) return fail(vocab.error().message);

  std::vector<std::vector<int32_t>> inputs;
  for (const std::string& t : texts) inputs.push_back(tokenizer::tokenize(*vocab, t, true, true));
  const int threads =
      args.threads > 0 ? args.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  ThreadPool pool(threads);
  Embedder embedder(*model);
  auto result = embedder.embed(pool, inputs, options);
  if (!result) return fail(result.error().message);
  const int64_t dim = embedder.dim();
  const Pooling pooling = options.pooling.value_or(embedder.default_pooling());

  if (args.json) {
    nlohmann::json data = nlohmann::json::array();
    for (size_t i = 0; i < texts.size(); ++i) {
      const Embedding& e = (*result)[i];
      nlohmann::json vec;
      if (pooling == Pooling::kNone) {
        vec = nlohmann::json::array();
        for (int64_t r = 0; r < e.n_rows; ++r)
          vec.push_back(std::vector<float>(e.values.begin() + r * dim, e.values.begin() + (r + 1) * dim));
      } else {
        vec = e.values;
      }
      data.push_back({{"text", texts[i]}, {"tokens", inputs[i]}, {"embedding", vec}});
    }
    const nlohmann::json out = {{"model", args.model}, {"dim", dim}, {"pooling", pooling_name(pooling)},
                                {"normalize", options.normalize ? "l2" : "none"}, {"data", data}};
    std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }
  std::string line;
  for (const Embedding& e : *result) {
    for (int64_t r = 0; r < e.n_rows; ++r) {
      line.clear();
      for (int64_t j = 0; j < dim; ++j) {
        char buf[32];
        std::snprintf(buf, sizeof buf, j ? " %.7g" : "%.7g", double(e.values[size_t(r * dim + j)]));
        line += buf;
      }
      std::printf("%s\n", line.c_str());
    }
  }
  return 0;
}

}  // namespace

void add_embed_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<EmbedArgs>();
  CLI::App* cmd = app.add_subcommand("embed", "print the embedding vector of each text");
  cmd->add_option("-m,--model", args->model, "GGUF model file (bert, or a decoder with pooling)")
      ->required();
  cmd->add_option("text", args->texts, "texts to embed (one vector each)");
  cmd->add_flag("--stdin", args->stdin_text, "embed each non-empty line of standard input");
  cmd->add_flag("--json", args->json, "print JSON with the texts, tokens and vectors");
  cmd->add_option("--pooling", args->pooling, "none | mean | cls | last (default: the model's; mean for decoders)");
  cmd->add_flag("--no-normalize", args->no_normalize, "leave the vectors unnormalised (default: L2)");
  cmd->add_option("-t,--threads", args->threads, "threads (default: all cores)");
  cmd->callback([args, &exit_code] { exit_code = run_embed(*args); });
}

}  // namespace hearth::cli
