// `hearth rag` end to end with the shared random-weight BERT (its vectors carry no meaning, so
// these tests check mechanics, not ranking quality): add / re-add / change / rm, an unreadable
// file that does not stop the rest, and a process SIGKILLed mid-ingest leaving a store that
// opens, passes integrity_check and holds only whole documents.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "cli/cli_process.h"
#include "rag/store.h"
#include "test_data.h"

namespace hearth::rag {
namespace {

using test::run_hearth;

std::filesystem::path embed_model() { return test::models_dir() / "synth" / "synth-bert-tiny-F16.gguf"; }
std::filesystem::path chat_model() { return test::models_dir() / "synth" / "synth-llama-tiny-Q8_0.gguf"; }

std::filesystem::path fresh_dir(const std::string& name) {
  const std::filesystem::path d =
      std::filesystem::path(testing::TempDir()) / ("rag_cli_" + std::to_string(::getpid()) + "_" + name);
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

void write(const std::filesystem::path& p, const std::string& text) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

std::string paragraphs(int seed, int n) {
  std::string s = "# Notes " + std::to_string(seed) + "\n\n";
  for (int i = 0; i < n; ++i) {
    s += "Paragraph " + std::to_string(i) + " of file " + std::to_string(seed) +
         " says the valve number " + std::to_string(seed * 100 + i) +
         " must be checked every spring before the irrigation season starts.\n\n";
  }
  return s;
}

TEST(RagCli, AddReaddChangeRemove) {
  HEARTH_REQUIRE_FILE(embed_model());
  HEARTH_REQUIRE_FILE(chat_model());
  const auto root = fresh_dir("crud");
  const auto store_dir = root / "store";
  write(root / "docs" / "a.md", paragraphs(1, 6));
  write(root / "docs" / "sub" / "b.txt", "Plain text about the boiler.\n\nIt runs at 1.5 bar.");
  write(root / "docs" / "c.html", "<html><body><h1>Lock</h1><p>Code 4711 opens the door.</p></body></html>");
  write(root / "docs" / ".hidden.md", "never read");
  const std::string dir = "--dir=" + store_dir.string();

  test::CliResult r = run_hearth({"rag", "add", "house", (root / "docs").string(), "-e", embed_model().string(), "-m",
                                  chat_model().string(), dir, "-t", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("3 added, 0 replaced, 0 unchanged, 0 failed"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("files 3/3"), std::string::npos) << "progress on stderr: " << r.err;

  r = run_hearth({"rag", "add", "house", (root / "docs").string(), dir, "-q", "-t", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("0 added, 0 replaced, 3 unchanged"), std::string::npos) << r.out;

  write(root / "docs" / "sub" / "b.txt", "The boiler now runs at 1.8 bar.");
  r = run_hearth({"rag", "add", "house", (root / "docs").string(), dir, "-q", "-t", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("0 added, 1 replaced, 2 unchanged"), std::string::npos) << r.out;

  r = run_hearth({"rag", "search", "house", "door code 4711", "-k", "2", "--json", dir, "-t", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("c.html"), std::string::npos) << "the keyword match must be retrieved: " << r.out;

  r = run_hearth({"rag", "ls", "house", dir});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("b.txt"), std::string::npos);
  EXPECT_EQ(r.out.find(".hidden"), std::string::npos) << r.out;

  r = run_hearth({"rag", "rm", "house", (root / "docs" / "c.html").string(), dir});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_hearth({"rag", "ls", "--json", dir});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"documents\": 2"), std::string::npos) << r.out;
  r = run_hearth({"rag", "check", "house", dir});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;

  r = run_hearth({"rag", "rm", "house", dir});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(std::filesystem::exists(collection_file(store_dir, "house")));
}

TEST(RagCli, BadFilesAreReportedAndTheRestIsAdded) {
  HEARTH_REQUIRE_FILE(embed_model());
  const auto root = fresh_dir("bad");
  write(root / "good.txt", "A good file about the heat pump filter.");
  write(root / "binary.txt", std::string("abc\0def", 7));
  write(root / "latin1.md", "caf\xe9 au lait");
  const std::string dir = "--dir=" + (root / "store").string();
  test::CliResult r = run_hearth({"rag", "add", "k", (root / "good.txt").string(), (root / "binary.txt").string(),
                                  (root / "latin1.md").string(), (root / "missing.txt").string(), "-e",
                                  embed_model().string(), dir, "-q", "-t", "1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("1 added, 0 replaced, 0 unchanged, 3 failed"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("binary.txt"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("latin1.md"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("byte 3"), std::string::npos) << "the offset of the bad byte: " << r.err;
  EXPECT_NE(r.err.find("missing.txt: no such file"), std::string::npos) << r.err;

  r = run_hearth({"rag", "add", "k", (root / "good.txt").string(), dir, "-q"});
  EXPECT_EQ(r.exit_code, 0) << "an existing collection remembers its embedding model: " << r.err;
  r = run_hearth({"rag", "add", "k", (root / "good.txt").string(), "-e", chat_model().string(), dir, "-q"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("dims"), std::string::npos) << "another model's vectors are refused: " << r.err;
  r = run_hearth({"rag", "search", "nope", "x", dir});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no collection \"nope\""), std::string::npos) << r.err;
}

// Runs `hearth rag add` and SIGKILLs it once its progress line reports `kill_after` chunks
// embedded: it is then inside a document (embedding it or writing its transaction).
int add_and_kill(const std::filesystem::path& docs, const std::string& dir, int64_t kill_after) {
  int err_pipe[2];
  if (::pipe(err_pipe) != 0) return -1;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(err_pipe[1], 2);
    ::close(err_pipe[0]);
    ::close(err_pipe[1]);
    const std::string model = embed_model().string(), chat = chat_model().string(), d = docs.string();
    ::execl(HEARTH_BINARY, HEARTH_BINARY, "rag", "add", "crash", d.c_str(), "-e", model.c_str(), "-m", chat.c_str(),
            dir.c_str(), "-t", "1", "--chunk-tokens", "32", "--overlap", "4", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(err_pipe[1]);
  std::string buffer;
  char c;
  bool killed = false;
  while (::read(err_pipe[0], &c, 1) == 1) {
    if (c != '\n') {
      buffer += c;
      continue;
    }
    long long files = 0, total = 0, chunks = 0;
    if (std::sscanf(buffer.c_str(), "files %lld/%lld, chunks %lld", &files, &total, &chunks) == 3 &&
        chunks >= kill_after) {
      ::kill(pid, SIGKILL);
      killed = true;
      break;
    }
    buffer.clear();
  }
  ::close(err_pipe[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return killed && WIFSIGNALED(status) ? WTERMSIG(status) : (WIFEXITED(status) ? 1000 + WEXITSTATUS(status) : -1);
}

TEST(RagCli, SigkillMidIngestLeavesOnlyWholeDocuments) {
  HEARTH_REQUIRE_FILE(embed_model());
  HEARTH_REQUIRE_FILE(chat_model());
  const auto root = fresh_dir("crash");
  for (int i = 0; i < 30; ++i) write(root / "docs" / ("f" + std::to_string(100 + i) + ".md"), paragraphs(i, 12));
  const std::string dir = "--dir=" + (root / "store").string();
  int kills = 0;
  // Kill at several depths so some land while a document's chunks are being embedded and some
  // while its transaction is open.
  for (int64_t at : {20, 75, 140, 230}) {
    const int rc = add_and_kill(root / "docs", dir, at);
    if (rc == SIGKILL) ++kills;
    Result<Store> s = Store::open(collection_file(root / "store", "crash"));
    ASSERT_TRUE(s) << s.error().message;
    Result<CheckReport> c = s->check();
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_TRUE(c->ok) << (c->problems.empty() ? "" : c->problems[0]);
    Result<std::vector<DocumentInfo>> docs = s->documents();
    ASSERT_TRUE(docs);
    for (const DocumentInfo& d : *docs) EXPECT_GT(d.n_chunks, 0) << d.path;
  }
  EXPECT_GE(kills, 1) << "no run was killed mid-ingest; the test proved nothing";
  // A rerun completes what the killed ones left, skipping what they finished.
  test::CliResult r = run_hearth({"rag", "add", "crash", (root / "docs").string(), dir, "-q", "-t", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Result<Store> s = Store::open(collection_file(root / "store", "crash"));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->documents()->size(), 30u);
  r = run_hearth({"rag", "check", "crash", dir});
  EXPECT_EQ(r.exit_code, 0) << r.out;
}

}  // namespace
}  // namespace hearth::rag
