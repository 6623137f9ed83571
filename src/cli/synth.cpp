// `hearth synth --arch A --preset P [--layers N] --type TYPE --vocab-from VOCAB.gguf [--seed S]
// [--threads N] OUT`: a GGUF with a real model's exact shapes and keys, random weights and a
// real tokenizer. A progress bar on stderr when it is a terminal, one line per tensor otherwise.
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/progress_bar.h"
#include "quant/ggml_type.h"
#include "tools/quant_mix.h"
#include "tools/synth.h"

namespace hearth::cli {
namespace {

struct SynthArgs {
  std::string architecture;
  std::string preset;
  int64_t layers = 0;
  std::string type;
  std::string vocab;
  std::string output;
  uint64_t seed = kSynthDefaultSeed;
  int threads = 0;
};

void draw_bar(const SynthProgress& p) {
  draw_progress_bar({.index = p.tensor_index,
                     .count = p.n_tensors,
                     .fraction = p.elements_total ? double(p.elements_done) / double(p.elements_total) : 1.0,
                     .rate = p.seconds > 0 ? double(p.elements_done) / 1e6 / p.seconds : 0.0,
                     .unit = "M/s",
                     .seconds = p.seconds,
                     .name = p.name});
}

void print_line(const SynthProgress& p) {
  std::fprintf(stderr, "[%4zu/%zu] %-32s %-6s %6.1fs\n", p.tensor_index + 1, p.n_tensors,
               std::string(p.name).c_str(), std::string(type_traits(p.type).name).c_str(), p.seconds);
}

int run_synth(const SynthArgs& args) {
  const bool tty = ::isatty(STDERR_FILENO) == 1;
  SynthOptions options;
  options.architecture = args.architecture;
  options.preset = args.preset;
  options.layers = args.layers;
  options.type = args.type;
  options.vocab = args.vocab;
  options.output = args.output;
  options.seed = args.seed;
  options.threads = args.threads;
  options.on_progress = [tty](const SynthProgress& p) {
    if (tty)
      draw_bar(p);
    else if (p.tensor_done)
      print_line(p);
  };
  options.on_note = [](std::string_view note) {
    std::fprintf(stderr, "note: %.*s\n", int(note.size()), note.data());
  };
  const auto result = synth_model(options);
  if (tty) std::fputc('\n', stderr);
  if (!result) {
    std::fprintf(stderr, "hearth synth: %s\n", result.error().message.c_str());
    return 1;
  }
  const SynthSummary& s = *result;
  std::fprintf(stderr, "wrote %s: %s, %lld layers, vocab %lld, %zu tensors, %.3fB parameters, %.2f MB, file type %u\n",
               args.output.c_str(), args.preset.c_str(), static_cast<long long>(s.n_layer),
               static_cast<long long>(s.n_vocab), s.n_tensors, double(s.n_params) / 1e9, double(s.bytes) / 1e6,
               s.file_type);
  return 0;
}

}  // namespace

void add_synth_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<SynthArgs>();
  std::string presets, types;
  for (const SynthPreset& p : synth_presets())
    presets += fmt::format("{}{} ({})", presets.empty() ? "" : ", ", p.name, p.architecture);
  for (const std::string& n : quant_mix_names()) types += (types.empty() ? "" : ", ") + n;
  CLI::App* cmd = app.add_subcommand(
      "synth", "Write a GGUF with a real model's shapes and metadata, random weights and a real tokenizer");
  cmd->add_option("--arch", args->architecture, "architecture: llama, qwen2 or phi3 (must match the preset)")
      ->required()
      ->check(CLI::IsMember({"llama", "qwen2", "phi3"}));
  // Checked by the engine, so an unknown one gets the list of valid names.
  cmd->add_option("--preset", args->preset, "model shape: " + presets)->required();
  cmd->add_option("--layers", args->layers, "number of layers (default: the preset's)")->check(CLI::PositiveNumber);
  cmd->add_option("--type", args->type, "weight type or mix: " + types)->required();
  cmd->add_option("--vocab-from", args->vocab, "GGUF file whose tokenizer.* keys are copied")->required();
  cmd->add_option("--seed", args->seed, fmt::format("random seed (default {})", kSynthDefaultSeed));
  cmd->add_option("--threads,-t", args->threads, "worker threads (default: all hardware threads)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("OUT", args->output, "output GGUF file")->required();
  cmd->callback([args, &exit_code] { exit_code = run_synth(*args); });
}

}  // namespace hearth::cli
