// Mutated real templates and random token soup must end in a value or an error, never a crash,
// hang or runaway allocation. Deterministic (seeded) and bounded, so it runs in every test pass;
// under ASan/UBSan it is a small fuzzer.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "chat/chat_template.h"
#include "sampling/rng.h"
#include "test_data.h"

namespace hearth::chat {
namespace {

std::vector<std::string> corpus() {
  std::vector<std::string> out;
  const auto dir = test::source_dir() / "tests" / "chat" / "templates";
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() != ".jinja") continue;
    std::ifstream f(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    out.push_back(ss.str());
  }
  std::sort(out.begin(),
            out.end());  // directory order is not portable; the seed must mean the same
  return out;
}

std::string mutate(std::string s, sampling::Rng& rng) {
  static const char* const kPieces[] = {
      "{{",     "}}",         "{%",    "%}",   "{#",     "#}",    "-",    "(",
      ")",      "[",          "]",     "'",    "\"",     "|",     ".",    ",",
      " if ",   " else ",     " for ", " in ", "endfor", "endif", "loop", "messages",
      "[::-1]", "namespace(", "**",    "//",   "~",      "\n"};
  const int edits = 1 + static_cast<int>(rng.next_u64() % 4);
  for (int k = 0; k < edits && !s.empty(); ++k) {
    const size_t at = rng.next_u64() % (s.size() + 1);
    switch (rng.next_u64() % 4) {
      case 0:
        s.erase(at, 1 + rng.next_u64() % 16);
        break;
      case 1:
        s.insert(at, kPieces[rng.next_u64() % std::size(kPieces)]);
        break;
      case 2: {
        const size_t from = rng.next_u64() % s.size();
        s.insert(at, s.substr(from, 1 + rng.next_u64() % 40));
        break;
      }
      default:
        s[std::min(at, s.size() - 1)] = static_cast<char>(rng.next_u64() & 0x7f);
    }
  }
  return s;
}

TEST(JinjaFuzz, MutatedRealTemplatesNeverCrash) {
  const auto templates = corpus();
  ASSERT_FALSE(templates.empty());
  const std::vector<Message> msgs = {
      {"system", "S"}, {"user", "U"}, {"assistant", "A"}, {"user", "V"}};
  nlohmann::ordered_json extra = {
      {"tools", {{{"type", "function"}, {"function", {{"name", "f"}}}}}}};
  jinja::RenderOptions opt;
  opt.now_unix = 0;
  opt.limits.max_steps = 200'000;
  opt.limits.max_output_bytes = 1 << 20;
  sampling::Rng rng(2024);
  int rendered = 0, failed = 0;
  for (int i = 0; i < 3000; ++i) {
    const std::string src = mutate(templates[rng.next_u64() % templates.size()], rng);
    auto out = render(src, msgs, (i & 1) != 0, "<s>", "</s>",
                      (i & 2) ? extra : nlohmann::ordered_json::object(), opt);
    if (out.ok())
      ++rendered;
    else {
      ++failed;
      EXPECT_FALSE(out.error().message.empty());
    }
  }
  EXPECT_GT(rendered, 0);
  EXPECT_GT(failed, 0);
}

TEST(JinjaFuzz, RandomTokenSoupNeverCrashes) {
  static const char* const kAtoms[] = {"{{ ",
                                       " }}",
                                       "{% ",
                                       " %}",
                                       "if ",
                                       "for x in ",
                                       "set y = ",
                                       "endif",
                                       "endfor",
                                       "else",
                                       "x",
                                       "y",
                                       "1",
                                       "'s'",
                                       "[",
                                       "]",
                                       "(",
                                       ")",
                                       "{",
                                       "}",
                                       ":",
                                       ",",
                                       "|length",
                                       "|tojson",
                                       " is defined",
                                       " and ",
                                       " or ",
                                       " not ",
                                       "+",
                                       "*",
                                       "~",
                                       "loop.index",
                                       "macro m()",
                                       "endmacro",
                                       "m()",
                                       "raw",
                                       "endraw",
                                       "-",
                                       "messages",
                                       "[0]",
                                       ".role",
                                       "range(5)",
                                       "namespace(a=1)"};
  sampling::Rng rng(7);
  jinja::RenderOptions opt;
  opt.limits.max_steps = 100'000;
  const jinja::Value ctx = value_from_json({{"messages", {{{"role", "user"}, {"content", "hi"}}}}});
  for (int i = 0; i < 5000; ++i) {
    std::string src;
    const int n = 1 + static_cast<int>(rng.next_u64() % 24);
    for (int k = 0; k < n; ++k) src += kAtoms[rng.next_u64() % std::size(kAtoms)];
    auto t = jinja::Template::parse(src);
    if (!t) continue;
    auto out = t->render(ctx, opt);
    (void)out;
  }
  SUCCEED();
}

}  // namespace
}  // namespace hearth::chat
