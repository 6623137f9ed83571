// `hearth quantize IN OUT TYPE [--threads N]`: convert a GGUF model to a quant format or to one
// of llama.cpp's mixes (Q4_K_M, ...). A progress bar on stderr when it is a terminal, one line
// per tensor otherwise (logs stay readable).
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/progress_bar.h"
#include "quant/ggml_type.h"
#include "tools/quant_mix.h"
#include "tools/quantize.h"

namespace hearth::cli {
namespace {

struct QuantizeArgs {
  std::string input;
  std::string output;
  std::string type;
  int threads = 0;
};

void draw_bar(const QuantizeProgress& p) {
  draw_progress_bar({.index = p.tensor_index,
                     .count = p.n_tensors,
                     .fraction = p.bytes_total ? double(p.bytes_done) / double(p.bytes_total) : 1.0,
                     .rate = p.seconds > 0 ? double(p.bytes_done) / 1e6 / p.seconds : 0.0,
                     .unit = "MB/s",
                     .seconds = p.seconds,
                     .name = p.name});
}

void print_line(const QuantizeProgress& p) {
  const double mb_s = p.seconds > 0 ? double(p.bytes_done) / 1e6 / p.seconds : 0.0;
  std::fprintf(stderr, "[%4zu/%zu] %-40s %6s -> %-6s %7.1f MB/s\n", p.tensor_index + 1, p.n_tensors,
               std::string(p.name).c_str(), std::string(type_traits(p.from).name).c_str(),
               std::string(type_traits(p.to).name).c_str(), mb_s);
}

int run_quantize(const QuantizeArgs& args) {
  const bool tty = ::isatty(STDERR_FILENO) == 1;
  QuantizeOptions options;
  options.input = args.input;
  options.output = args.output;
  options.type = args.type;
  options.threads = args.threads;
  options.on_progress = [tty](const QuantizeProgress& p) {
    if (tty)
      draw_bar(p);
    else if (p.tensor_done)
      print_line(p);
  };
  options.on_warning = [tty](std::string_view w) {
    std::fprintf(stderr, "%swarning: %.*s\n", tty ? "\r" : "", int(w.size()), w.data());
  };
  const auto result = quantize_file(options);
  if (tty) std::fputc('\n', stderr);
  if (!result) {
    std::fprintf(stderr, "hearth quantize: %s\n", result.error().message.c_str());
    return 1;
  }
  const QuantizeSummary& s = *result;
  std::fprintf(stderr, "wrote %s: %zu tensors (%zu converted), %.2f MB -> %.2f MB, file type %u\n",
               args.output.c_str(), s.n_tensors, s.n_quantized, double(s.bytes_in) / 1e6,
               double(s.bytes_out) / 1e6, s.file_type);
  return 0;
}

}  // namespace

void add_quantize_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<QuantizeArgs>();
  std::string types;
  for (const std::string& n : quant_mix_names()) types += (types.empty() ? "" : ", ") + n;
  CLI::App* cmd = app.add_subcommand("quantize", "Convert a GGUF model to another quant format or mix");
  cmd->add_option("IN", args->input, "source GGUF file (F32/F16/BF16; quantized sources are requantized)")
      ->required();
  cmd->add_option("OUT", args->output, "output GGUF file")->required();
  // TYPE is checked by the engine, so an unknown one gets the list of valid names.
  cmd->add_option("TYPE", args->type, "target: " + types)->required();
  cmd->add_option("--threads,-t", args->threads, "worker threads (default: all hardware threads)")
      ->check(CLI::NonNegativeNumber);
  cmd->callback([args, &exit_code] { exit_code = run_quantize(*args); });
}

}  // namespace hearth::cli
