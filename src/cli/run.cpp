// `hearth run -m FILE (-p TEXT | -f FILE) [-n N] [sampling flags] [--threads N] [--ctx-size N]`:
// streams the continuation of a prompt to stdout (the raw continuation, no prompt echo) and the
// timings to stderr. Control tokens that are not end-of-generation print as their text (the
// pieces llama.cpp's examples print; --no-special hides them). BOS/EOS follow the model's own flags
// and control tokens in the prompt are parsed, as llama.cpp does. Ctrl-C stops generating (the
// timings are still printed); a full context ends generation with a note on stderr.
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "cli/commands.h"
#include "cli/generation_setup.h"
#include "runtime/generate.h"
#include "tokenizer/tokenizer.h"

namespace hearth::cli {
namespace {

struct RunArgs {
  EngineFlags engine;
  std::string prompt;
  std::string prompt_file;
  int64_t n_predict = -1;
  int64_t batch_size = 512;
  bool no_special = false;
  bool ignore_eos = false;
  sampling::SamplerParams sampling;
};

// A signal handler can reach nothing but a global; this flag is the only one, set by SIGINT.
std::atomic<bool> g_interrupted{false};
void on_sigint(int) { g_interrupted.store(true); }

int fail(const std::string& message) {
  std::fprintf(stderr, "hearth run: %s\n", message.c_str());
  return 1;
}

int run_run(RunArgs& args) {
  if (!args.prompt_file.empty()) {
    if (!args.prompt.empty()) return fail("give -p TEXT or -f FILE, not both");
    std::ifstream in(args.prompt_file, std::ios::binary);
    if (!in) return fail("cannot read " + args.prompt_file);
    std::stringstream ss;
    ss << in.rdbuf();
    args.prompt = ss.str();
  }
  if (args.prompt.empty()) return fail("give a prompt: -p TEXT or -f FILE");

  Result<Engine> engine = load_engine(args.engine);
  if (!engine) return fail(engine.error().message);
  std::fprintf(stderr, "load: %.1f ms\n", engine->load_ms);

  const std::vector<int32_t> prompt = tokenizer::tokenize(*engine->vocab, args.prompt, true, true);
  if (prompt.empty()) return fail("the prompt gives no tokens");

  sampling::Sampler sampler(args.sampling);
  if (args.ignore_eos)
    sampler.set_filter([&v = *engine->vocab](int32_t id) { return !v.is_eog(id); });
  GenerateParams params;
  params.n_predict = args.n_predict;
  params.batch_size = args.batch_size;
  params.unparse_special = !args.no_special;
  params.raw_bytes = true;  // stdout gets the continuation byte for byte, as the model made it

  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  struct sigaction old {};
  sigaction(SIGINT, &sa, &old);
  Result<GenerateResult> result = generate(
      *engine->session, sampler, *engine->vocab, prompt, params,
      [](std::string_view text) {
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fflush(stdout);
      },
      &g_interrupted);
  sigaction(SIGINT, &old, nullptr);
  if (!result) return fail(result.error().message);
  std::fflush(stdout);

  const GenerateTimings& t = result->timings;
  std::fprintf(stderr, "\nprompt: %lld tokens, %.1f ms, %.2f tok/s\n",
               static_cast<long long>(t.n_prompt), t.prefill_ms, t.prefill_tok_per_s());
  std::fprintf(stderr, "first token: %.1f ms\n", t.first_token_ms);
  std::fprintf(stderr, "generated: %lld tokens, %.1f ms, %.2f tok/s\n",
               static_cast<long long>(t.n_generated), t.generate_ms, t.generate_tok_per_s());
  std::fprintf(stderr, "stop: %s\n", stop_reason_name(result->stop));
  if (result->stop == StopReason::kContextFull)
    std::fprintf(stderr, "hearth run: the context of %lld tokens is full (raise --ctx-size)\n",
                 static_cast<long long>(engine->session->n_ctx()));
  return result->stop == StopReason::kCancelled ? 130 : 0;
}

}  // namespace

void add_run_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand("run", "Generate the continuation of a prompt");
  add_engine_flags(cmd, args->engine);
  cmd->add_option("-p,--prompt", args->prompt, "prompt text");
  cmd->add_option("-f,--file", args->prompt_file, "read the prompt from a file");
  cmd->add_option("-n,--n-predict", args->n_predict,
                  "tokens to generate (default -1: until end of text or full context)");
  cmd->add_option("-b,--batch-size", args->batch_size, "prompt tokens per decode call");
  cmd->add_flag("--no-special", args->no_special,
                "do not print control tokens (default: as their text, like llama.cpp's pieces)");
  cmd->add_flag("--ignore-eos", args->ignore_eos, "never pick an end-of-generation token");
  add_sampling_flags(cmd, args->sampling);
  cmd->callback([args, &exit_code] { exit_code = run_run(*args); });
}

}  // namespace hearth::cli
