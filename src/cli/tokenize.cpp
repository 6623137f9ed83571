// `hearth tokenize -m FILE [TEXT | --stdin] [--no-bos] [--no-parse-special] [--pieces]`:
// the ids the model's own tokenizer gives a text, on one line, space separated, with the
// model's BOS/EOS rules and control-token parsing on by default (as llama-tokenize).
#include <cstdio>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "gguf/reader.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace hearth::cli {
namespace {

struct TokenizeArgs {
  std::string model;
  std::string text;
  bool text_given = false;
  bool stdin_text = false;
  bool no_bos = false;
  bool no_parse_special = false;
  bool pieces = false;
};

int fail(const std::string& message) {
  std::fprintf(stderr, "hearth tokenize: %s\n", message.c_str());
  return 1;
}

// A piece on one line: quotes, backslashes, control bytes and invalid bytes escaped.
std::string printable(const std::string& piece) {
  std::string out;
  for (char c : piece) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '\\': out += "\\\\"; break;
      case '\'': out += "\\'"; break;
      default:
        if (u < 0x20 || u == 0x7F) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", u);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out;
}

int run_tokenize(const TokenizeArgs& args) {
  if (args.stdin_text && args.text_given) return fail("give TEXT or --stdin, not both");
  if (!args.stdin_text && !args.text_given) return fail("give TEXT or --stdin");
  std::string text = args.text;
  if (args.stdin_text) {
    std::ios::sync_with_stdio(false);
    std::freopen(nullptr, "rb", stdin);
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    if (std::cin.bad()) return fail("cannot read stdin");
  }
  auto file = gguf::File::open(args.model);
  if (!file) return fail(file.error().message);
  auto vocab = tokenizer::Vocab::load(*file);
  if (!vocab) return fail(vocab.error().message);

  const auto ids = tokenizer::tokenize(*vocab, text, !args.no_bos, !args.no_parse_special);
  std::string out;
  if (args.pieces) {
    for (auto id : ids) {
      out += std::to_string(id) + " '" + printable(tokenizer::token_to_piece(*vocab, id, true)) + "'\n";
    }
  } else {
    for (size_t i = 0; i < ids.size(); ++i) {
      if (i) out += ' ';
      out += std::to_string(ids[i]);
    }
    out += '\n';
  }
  if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size() || std::fflush(stdout) != 0) {
    return fail("cannot write to stdout");
  }
  return 0;
}

}  // namespace

void add_tokenize_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<TokenizeArgs>();
  CLI::App* cmd = app.add_subcommand("tokenize", "Print the token ids of a text under a model's tokenizer");
  cmd->add_option("-m,--model", args->model, "GGUF model or vocabulary file")->required();
  cmd->add_option("TEXT", args->text, "text to tokenize")->each([args](const std::string&) { args->text_given = true; });
  cmd->add_flag("--stdin", args->stdin_text, "read the text from stdin, byte for byte");
  cmd->add_flag("--no-bos", args->no_bos, "do not add BOS/EOS (or CLS/SEP)");
  cmd->add_flag("--no-parse-special", args->no_parse_special, "treat control-token text as plain text");
  cmd->add_flag("--pieces", args->pieces, "print one 'ID PIECE' per line instead");
  cmd->callback([args, &exit_code] { exit_code = run_tokenize(*args); });
}

}  // namespace hearth::cli
