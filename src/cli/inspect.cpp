// `hearth inspect FILE [--json] [--ctx N] [--tensor NAME --values N]`: what a GGUF file holds.
// The reports live in tools/inspect_report; this file only parses the command line and prints.
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "gguf/reader.h"
#include "tools/inspect_report.h"

namespace hearth::cli {
namespace {

struct InspectArgs {
  std::string file;
  bool json = false;
  std::optional<int64_t> ctx;
  std::string tensor;
  std::optional<int64_t> values;
};

int fail(const std::string& message) {
  std::fprintf(stderr, "hearth inspect: %s\n", message.c_str());
  return 1;
}

int run_inspect(const InspectArgs& args) {
  if (args.values && args.tensor.empty()) return fail("--values needs --tensor NAME");
  if (args.ctx && *args.ctx < 0) return fail("--ctx must not be negative");
  if (args.values && *args.values < 0) return fail("--values must not be negative");
  auto file = gguf::File::open(args.file);
  if (!file) return fail(file.error().message);

  if (!args.tensor.empty()) {
    auto values = tools::tensor_values(*file, args.tensor, args.values.value_or(16));
    if (!values) return fail(values.error().message);
    for (float v : *values) std::printf("%.9g\n", static_cast<double>(v));
    return std::fflush(stdout) == 0 ? 0 : fail("cannot write to stdout");
  }

  const tools::ModelSummary summary = tools::summarize(*file, args.ctx);
  std::string text;
  if (args.json) {
    // Strings from the file may hold invalid UTF-8 (byte-level tokens): replace, never throw.
    text = tools::render_json(*file, summary).dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
    text += "\n";
  } else {
    text = tools::render_text(*file, summary);
  }
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0)
    return fail("cannot write to stdout");
  return 0;
}

}  // namespace

void add_inspect_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<InspectArgs>();
  CLI::App* cmd = app.add_subcommand(
      "inspect", "Show a GGUF file: architecture, hyperparameters, tokenizer, metadata, tensors, RAM needed");
  cmd->add_option("FILE", args->file, "GGUF model file")->required();
  cmd->add_flag("--json", args->json, "one JSON object on stdout");
  cmd->add_option("--ctx", args->ctx, "context length for the KV cache estimate (default: the model's, at most 4096)");
  cmd->add_option("--tensor", args->tensor, "print dequantized values of this tensor instead");
  cmd->add_option("--values", args->values, "how many values of --tensor to print, row 0 first (default 16)");
  cmd->callback([args, &exit_code] { exit_code = run_inspect(*args); });
}

}  // namespace hearth::cli
