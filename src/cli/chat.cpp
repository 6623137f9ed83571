// `hearth chat -m FILE [--system TEXT] [sampling flags]`: an interactive chat. The history is
// rendered through the model's own `tokenizer.chat_template` (or a built-in fallback chosen from
// the model) on every turn; the KV cache keeps the tokens the new rendering shares with what it
// already holds, so a turn evaluates only the new suffix.
//
// Lines are read from stdin (a pipe works: tests feed it). `/reset` forgets the history, `/quit`
// or end of input ends the chat. Ctrl-C stops the answer being generated (the partial answer
// stays in the history); Ctrl-C while waiting for input quits. Answers go to stdout, one per
// turn followed by a newline; the "> " prompt and notes go to stderr.
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <vector>

#include "chat/chat_template.h"
#include "chat/model_template.h"
#include "cli/commands.h"
#include "cli/generation_setup.h"
#include "runtime/generate.h"
#include "tokenizer/tokenizer.h"

namespace hearth::cli {
namespace {

struct ChatArgs {
  EngineFlags engine;
  std::string system;
  std::string template_name;
  int64_t n_predict = -1;
  bool verbose = false;
  bool ignore_eos = false;
  sampling::SamplerParams sampling;
};

// A signal handler can reach nothing but a global; this flag is the only one, set by SIGINT.
std::atomic<bool> g_interrupted{false};
void on_sigint(int) { g_interrupted.store(true); }

int fail(const std::string& message) {
  std::fprintf(stderr, "hearth chat: %s\n", message.c_str());
  return 1;
}

// Line input on fd 0 with read(2), so that SIGINT (installed without SA_RESTART) interrupts a
// blocked read instead of being swallowed by stdio.
class LineReader {
 public:
  enum class Status { kLine, kEof, kInterrupted };
  Status next(std::string& line) {
    line.clear();
    for (;;) {
      const size_t nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        return Status::kLine;
      }
      if (eof_) {
        if (buffer_.empty()) return Status::kEof;
        line.swap(buffer_);
        buffer_.clear();
        return Status::kLine;
      }
      char chunk[4096];
      const ssize_t n = ::read(0, chunk, sizeof(chunk));
      if (n < 0 && errno == EINTR) {
        if (g_interrupted.exchange(false)) return Status::kInterrupted;
        continue;
      }
      if (n <= 0) {
        eof_ = true;
        continue;
      }
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

 private:
  std::string buffer_;
  bool eof_ = false;
};

Result<chat::ChatTemplate> load_template(const Engine& e, const std::string& name, bool verbose) {
  Result<chat::ModelTemplate> t = chat::model_chat_template(e.model->file(), name);
  if (!t) return t.error();
  if (verbose) std::fprintf(stderr, "template: %s\n", t->origin.c_str());
  return chat::ChatTemplate::create(t->source, t->bos_token, t->eos_token);
}

int run_chat(const ChatArgs& args) {
  Result<Engine> engine = load_engine(args.engine);
  if (!engine) return fail(engine.error().message);
  Result<chat::ChatTemplate> tmpl = load_template(*engine, args.template_name, args.verbose);
  if (!tmpl) return fail("chat template: " + tmpl.error().message);
  Session& session = *engine->session;
  const tokenizer::Vocab& vocab = *engine->vocab;

  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);  // no SA_RESTART: a Ctrl-C must interrupt a blocked read
  struct sigaction old {};
  sigaction(SIGINT, &sa, &old);

  std::vector<chat::Message> messages;
  const auto start_history = [&] {
    messages.clear();
    if (!args.system.empty()) messages.push_back({"system", args.system});
  };
  start_history();
  sampling::Sampler sampler(args.sampling);
  if (args.ignore_eos) sampler.set_filter([&vocab](int32_t id) { return !vocab.is_eog(id); });
  std::vector<int32_t> cached;  // the tokens whose KV entries the session holds, in order
  const bool interactive = ::isatty(0) != 0;
  LineReader reader;
  std::string line;
  int exit_code = 0;
  for (;;) {
    if (interactive) std::fputs("> ", stderr);
    const LineReader::Status st = reader.next(line);
    if (st != LineReader::Status::kLine) {
      if (interactive) std::fputc('\n', stderr);
      break;
    }
    if (line.empty()) continue;
    if (line == "/quit" || line == "/exit") break;
    if (line == "/reset") {
      start_history();
      sampler.reset();
      session.reset();
      cached.clear();
      std::fputs("(history cleared)\n", stderr);
      continue;
    }

    messages.push_back({"user", line});
    Result<std::string> rendered = tmpl->apply(messages, true);
    if (!rendered) {
      messages.pop_back();
      std::fprintf(stderr, "hearth chat: chat template: %s\n", rendered.error().message.c_str());
      continue;
    }
    const std::vector<int32_t> tokens = tokenizer::tokenize_rendered(vocab, *rendered);
    // Keep what the cache shares with the new rendering; at least one token must be evaluated
    // to get the logits for the answer.
    size_t keep = common_prefix(cached, tokens);
    if (keep == tokens.size() && keep > 0) --keep;
    session.truncate(static_cast<int64_t>(keep));
    cached.resize(keep);
    const std::span<const int32_t> suffix(tokens.data() + keep, tokens.size() - keep);
    if (args.verbose)
      std::fprintf(stderr,
                   "[prompt]\n%s[/prompt]\n[%zu prompt tokens, %zu reused from the cache]\n",
                   rendered->c_str(), tokens.size(), keep);

    GenerateParams params;
    params.n_predict = args.n_predict;
    std::string answer;
    g_interrupted.store(false);
    Result<GenerateResult> result = generate(
        session, sampler, vocab, suffix, params,
        [&answer](std::string_view text) {
          answer += text;
          std::fwrite(text.data(), 1, text.size(), stdout);
          std::fflush(stdout);
        },
        &g_interrupted);
    if (!result) {
      // Typically a full context: the turn is dropped, the chat goes on (or /reset).
      messages.pop_back();
      session.truncate(static_cast<int64_t>(keep));
      std::fprintf(stderr, "hearth chat: %s\n", result.error().message.c_str());
      continue;
    }
    std::fputc('\n', stdout);
    std::fflush(stdout);
    g_interrupted.store(false);
    cached.insert(cached.end(), suffix.begin(), suffix.end());
    cached.insert(cached.end(), result->tokens.begin(), result->tokens.end());
    cached.resize(
        static_cast<size_t>(session.n_past()));  // the last sampled token is not in the cache
    messages.push_back({"assistant", answer});
    if (result->stop == StopReason::kCancelled) std::fputs("(stopped)\n", stderr);
    if (result->stop == StopReason::kContextFull)
      std::fputs("hearth chat: the context is full; /reset to start again (or raise --ctx-size)\n",
                 stderr);
    if (args.verbose) {
      const GenerateTimings& t = result->timings;
      std::fprintf(stderr,
                   "[prompt %lld tokens %.2f tok/s, first token %.1f ms, %lld tokens %.2f tok/s]\n",
                   static_cast<long long>(t.n_prompt), t.prefill_tok_per_s(), t.first_token_ms,
                   static_cast<long long>(t.n_generated), t.generate_tok_per_s());
    }
  }
  sigaction(SIGINT, &old, nullptr);
  return exit_code;
}

}  // namespace

void add_chat_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ChatArgs>();
  CLI::App* cmd = app.add_subcommand("chat", "Chat with a model (reads lines from stdin)");
  add_engine_flags(cmd, args->engine);
  cmd->add_option("--system", args->system, "system message");
  cmd->add_option("--chat-template", args->template_name,
                  "use a built-in template (chatml, llama2, llama3, zephyr, phi3, mistral)");
  cmd->add_option("-n,--n-predict", args->n_predict,
                  "tokens per answer at most (default -1: until end of turn)");
  cmd->add_flag("-v,--verbose", args->verbose,
                "print the template used, each rendered prompt, cache reuse and timings to stderr");
  cmd->add_flag("--ignore-eos", args->ignore_eos, "never pick an end-of-generation token");
  add_sampling_flags(cmd, args->sampling);
  cmd->callback([args, &exit_code] { exit_code = run_chat(*args); });
}

}  // namespace hearth::cli
