// Runs the real `hearth` binary (HEARTH_BINARY) the way a user does, with stdin from a string,
// capturing stdout and stderr. Used by the run/chat/perplexity CLI tests.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace hearth::test {

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

inline std::string read_whole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `hearth ARGS < stdin_text`.
inline CliResult run_hearth(const std::vector<std::string>& args,
                            const std::string& stdin_text = "") {
  static int counter = 0;  // test-local: unique temp names within this process
  const std::string base = testing::TempDir() + "hearth_cli_" + std::to_string(::getpid()) + "_" +
                           std::to_string(counter++);
  const std::string in_path = base + ".in", err_path = base + ".err";
  {
    std::ofstream in(in_path, std::ios::binary);
    in << stdin_text;
  }
  std::string cmd = shell_quote(HEARTH_BINARY);
  for (const auto& a : args) cmd += " " + shell_quote(a);
  cmd += " <" + shell_quote(in_path) + " 2>" + shell_quote(err_path);
  CliResult r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.err = read_whole(err_path);
  std::remove(in_path.c_str());
  std::remove(err_path.c_str());
  return r;
}

}  // namespace hearth::test
