// `hearth chat` fed through a pipe, as a script or a test drives it: turns rendered through the
// model's chat template (the synth files carry a Phi-3 style one), the KV cache reused across
// turns, /reset and /quit, end of input, and Ctrl-C stopping an answer without ending the chat.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <regex>

#include "cli/cli_process.h"
#include "test_data.h"

namespace hearth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::filesystem::path chat_model() {
  return test::models_dir() / "synth" / "synth-llama-tiny-Q8_0.gguf";
}

// The "[N prompt tokens, M reused from the cache]" lines of a verbose chat, in order.
std::vector<std::pair<int, int>> reuse_lines(const std::string& err) {
  std::vector<std::pair<int, int>> out;
  const std::regex re(R"(\[(\d+) prompt tokens, (\d+) reused from the cache\])");
  for (auto it = std::sregex_iterator(err.begin(), err.end(), re); it != std::sregex_iterator();
       ++it)
    out.emplace_back(std::stoi((*it)[1]), std::stoi((*it)[2]));
  return out;
}

TEST(ChatCli, TwoTurnsResetQuitThroughTheTemplate) {
  HEARTH_REQUIRE_FILE(chat_model());
  const test::CliResult r = test::run_hearth(
      {"chat", "-m", chat_model().string(), "--temp", "0", "-n", "6", "-v", "--system",
       "Be brief."},
      "Hello there\nAnd a second question\n/reset\nHello there\n/quit\nnever read\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("template: tokenizer.chat_template"));
  // Phi-3 style rendering of the first turn, with the generation prompt.
  EXPECT_THAT(
      r.err,
      HasSubstr(
          "<|system|>\nBe brief.<|end|>\n<|user|>\nHello there<|end|>\n<|assistant|>\n[/prompt]"));
  // The second rendering carries the first answer and the new question.
  EXPECT_THAT(r.err, HasSubstr("<|user|>\nAnd a second question<|end|>\n<|assistant|>\n[/prompt]"));
  EXPECT_THAT(r.err, HasSubstr("(history cleared)"));
  EXPECT_THAT(r.err, Not(HasSubstr("never read")));

  const auto reuse = reuse_lines(r.err);
  ASSERT_EQ(reuse.size(), 3u) << r.err;
  EXPECT_EQ(reuse[0].second, 0);
  // Turn 2 re-evaluates only what follows the cached first turn (prompt + answer so far).
  EXPECT_GE(reuse[1].second, reuse[0].first);
  EXPECT_LT(reuse[1].second, reuse[1].first);
  // After /reset, the same first turn again from an empty cache, and the same greedy answer.
  EXPECT_EQ(reuse[2], std::make_pair(reuse[0].first, 0));
  std::vector<std::string> answers;
  std::string line;
  for (char c : r.out) {
    if (c == '\n') {
      answers.push_back(line);
      line.clear();
    } else {
      line += c;
    }
  }
  ASSERT_EQ(answers.size(), 3u) << r.out;
  EXPECT_EQ(answers[0], answers[2]);
}

TEST(ChatCli, EndOfInputQuitsAndBuiltinTemplateCanBeChosen) {
  HEARTH_REQUIRE_FILE(chat_model());
  const test::CliResult r = test::run_hearth({"chat", "-m", chat_model().string(), "--temp", "0",
                                              "-n", "4", "-v", "--chat-template", "chatml"},
                                             "Hi");  // no final newline: the last line still counts
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("template: builtin:chatml"));
  EXPECT_THAT(r.err, HasSubstr("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"));
  EXPECT_EQ(reuse_lines(r.err).size(), 1u);

  const test::CliResult bad =
      test::run_hearth({"chat", "-m", chat_model().string(), "--chat-template", "nope"}, "");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("unknown chat template 'nope'"));
}

TEST(ChatCli, FullContextDropsTheTurnAndKeepsGoing) {
  HEARTH_REQUIRE_FILE(chat_model());
  const std::string long_line(400, 'a');
  const test::CliResult r =
      test::run_hearth({"chat", "-m", chat_model().string(), "--temp", "0", "-n", "4", "-c", "64"},
                       long_line + "\n/reset\nHi\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("does not fit the context"));
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;  // only "Hi" was answered
}

// Ctrl-C during an answer: the answer stops, the chat goes on and answers the next line.
TEST(ChatCli, InterruptStopsTheAnswerNotTheChat) {
  HEARTH_REQUIRE_FILE(chat_model());
  int to_child[2], from_child[2];
  ASSERT_EQ(::pipe(to_child), 0);
  ASSERT_EQ(::pipe(from_child), 0);
  const std::string err_path = testing::TempDir() + "hearth_chat_int_" + std::to_string(::getpid());
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::dup2(to_child[0], 0);
    ::dup2(from_child[1], 1);
    FILE* err = std::freopen(err_path.c_str(), "w", stderr);
    (void)err;
    ::close(to_child[1]);
    ::close(from_child[0]);
    const std::string model = chat_model().string();
    // No end tokens (--ignore-eos) and a huge -n: the answer runs until Ctrl-C.
    ::execl(HEARTH_BINARY, HEARTH_BINARY, "chat", "-m", model.c_str(), "--temp", "0", "-n",
            "100000", "--ignore-eos", "-c", "4096", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(to_child[0]);
  ::close(from_child[1]);
  const auto say = [&](const std::string& s) {
    ASSERT_EQ(::write(to_child[1], s.data(), s.size()), ssize_t(s.size()));
  };
  say("Tell me a long story\n");
  // Wait for some output, then interrupt.
  char buf[4096];
  std::string out;
  while (out.size() < 16) {
    const ssize_t n = ::read(from_child[0], buf, sizeof(buf));
    if (n <= 0) break;
    out.append(buf, size_t(n));
  }
  ::kill(pid, SIGINT);
  say("/quit\n");
  ::close(to_child[1]);
  for (;;) {
    const ssize_t n = ::read(from_child[0], buf, sizeof(buf));
    if (n <= 0) break;
    out.append(buf, size_t(n));
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(from_child[0]);
  const std::string err = test::read_whole(err_path);
  std::remove(err_path.c_str());
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal "
                                 << (WIFSIGNALED(status) ? WTERMSIG(status) : 0) << "\n"
                                 << err;
  EXPECT_EQ(WEXITSTATUS(status), 0) << err;
  // Either it was stopped by Ctrl-C, or (a random model) it reached an end token first.
  if (err.find("(stopped)") == std::string::npos)
    GTEST_SKIP() << "the answer ended before the interrupt";
  EXPECT_FALSE(out.empty());
}

}  // namespace
}  // namespace hearth
