// `hearth`: one binary, one subcommand per file in this folder.
#include <cstdio>
#include <cstring>

#include "cli/commands.h"
#include "kernels/kernels.h"

int main(int argc, char** argv) {
  CLI::App app{"hearth: a local LLM engine and server for small boards"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("hearth ") + HEARTH_VERSION);
  int exit_code = 0;
  hearth::cli::add_inspect_command(app, exit_code);
  hearth::cli::add_quantize_command(app, exit_code);
  hearth::cli::add_synth_command(app, exit_code);
  hearth::cli::add_tokenize_command(app, exit_code);
  hearth::cli::add_embed_command(app, exit_code);
  hearth::cli::add_logits_command(app, exit_code);
  hearth::cli::add_run_command(app, exit_code);
  hearth::cli::add_chat_command(app, exit_code);
  hearth::cli::add_perplexity_command(app, exit_code);
  hearth::cli::add_serve_command(app, exit_code);
  hearth::cli::add_bench_command(app, exit_code);
  hearth::cli::add_plan_command(app, exit_code);
  hearth::cli::add_pull_command(app, exit_code);
  hearth::cli::add_ls_command(app, exit_code);
  hearth::cli::add_rm_command(app, exit_code);
  hearth::cli::add_doctor_command(app, exit_code);
  hearth::cli::add_rag_command(app, exit_code);
  const auto choice = hearth::choose_kernels();
  if (!choice.warning.empty()) std::fprintf(stderr, "hearth: %.*s\n", int(choice.warning.size()), choice.warning.data());
  // llama.cpp's multi-letter single-dash flags, which CLI11 cannot declare, as their long names.
  char cache_type_k[] = "--cache-type-k", cache_type_v[] = "--cache-type-v";
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "-ctk") == 0) argv[i] = cache_type_k;
    if (std::strcmp(argv[i], "-ctv") == 0) argv[i] = cache_type_v;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}
