// `hearth inspect` as a user runs it: the built binary on the shared files, checked against
// gguf-py's tensor tables and dequantized values in ../shared/reference/dequant/.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "gguf/reader.h"
#include "gguf/writer.h"
#include "test_data.h"
#include "tools/inspect_report.h"

namespace hearth {
namespace {

using ::testing::HasSubstr;

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Runs `hearth inspect ARGS`, capturing stdout and stderr.
CliRun inspect(const std::vector<std::string>& args) {
  const std::string err_path = testing::TempDir() + "hearth_inspect_stderr_" + std::to_string(::getpid());
  std::string cmd = shell_quote(HEARTH_BINARY) + " inspect";
  for (const auto& a : args) {
    cmd += " ";
    cmd += shell_quote(a);
  }
  cmd += " 2>";
  cmd += shell_quote(err_path);
  CliRun r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::ifstream e(err_path);
  std::stringstream ss;
  ss << e.rdbuf();
  r.err = ss.str();
  std::remove(err_path.c_str());
  return r;
}

std::vector<std::filesystem::path> reference_files() {
  std::vector<std::filesystem::path> out;
  const auto dir = test::reference_dir() / "dequant";
  if (!std::filesystem::is_directory(dir)) return out;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".json") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

nlohmann::json load_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

TEST(InspectCli, JsonAgreesWithReferenceTensorTables) {
  const auto refs = reference_files();
  if (refs.empty()) GTEST_SKIP() << "test data absent: " << test::reference_dir() / "dequant";
  for (const auto& ref_path : refs) {
    const auto ref = load_json(ref_path);
    const auto model = test::models_dir() / "synth" / ref.at("file").get<std::string>();
    if (!std::filesystem::exists(model)) continue;
    const CliRun r = inspect({model.string(), "--json"});
    ASSERT_EQ(r.exit_code, 0) << model << ": " << r.err;
    const auto j = nlohmann::json::parse(r.out);
    ASSERT_TRUE(j.contains("metadata"));
    EXPECT_EQ(j.at("architecture"), j.at("metadata").at("general.architecture"));
    const auto& tensors = j.at("tensors");
    ASSERT_EQ(tensors.size(), ref.at("tensors").size()) << model;
    for (size_t i = 0; i < tensors.size(); ++i) {
      const auto& t = tensors[i];
      const auto& rt = ref.at("tensors")[i];
      EXPECT_EQ(t.at("name"), rt.at("name")) << model << " tensor " << i;
      EXPECT_EQ(t.at("type"), rt.at("type")) << model << " " << rt.at("name");
      EXPECT_EQ(t.at("ne"), rt.at("ne")) << model << " " << rt.at("name");
      EXPECT_EQ(t.at("offset"), rt.at("offset")) << model << " " << rt.at("name");
      EXPECT_EQ(t.at("file_offset"), rt.at("file_offset")) << model << " " << rt.at("name");
    }
    // Long arrays are summarised, short ones listed.
    const auto& tokens = j.at("metadata").at("tokenizer.ggml.tokens");
    EXPECT_EQ(tokens.at("type"), "array");
    EXPECT_EQ(tokens.at("element_type"), "string");
    EXPECT_GT(tokens.at("length").get<int64_t>(), 16);
    EXPECT_GT(j.at("params").get<int64_t>(), 0);
    EXPECT_GT(j.at("ram").at("kv_cache_bytes").get<int64_t>(), 0);
  }
}

// |Δ| ≤ 1e-6·max(1, |x|), the tolerance ../shared/reference/README.md sets for dequantization.
void expect_close(const std::vector<double>& got, const std::vector<double>& expected, const std::string& what) {
  ASSERT_EQ(got.size(), expected.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_LE(std::fabs(got[i] - expected[i]), 1e-6 * std::max(1.0, std::fabs(expected[i])))
        << what << " [" << i << "] got " << got[i] << " expected " << expected[i];
  }
}

// Every reference tensor through the library call behind `--values` (in process: ~600 tensors).
TEST(InspectReport, TensorValuesMatchReferenceRowZero) {
  const auto refs = reference_files();
  if (refs.empty()) GTEST_SKIP() << "test data absent: " << test::reference_dir() / "dequant";
  for (const auto& ref_path : refs) {
    const auto ref = load_json(ref_path);
    const auto model = test::models_dir() / "synth" / ref.at("file").get<std::string>();
    if (!std::filesystem::exists(model)) continue;
    auto file = gguf::File::open(model);
    ASSERT_TRUE(file) << file.error().message;
    for (const auto& rt : ref.at("tensors")) {
      const std::string name = rt.at("name");
      const auto expected = rt.at("row0_head").get<std::vector<double>>();
      auto values = tools::tensor_values(*file, name, static_cast<int64_t>(expected.size()));
      ASSERT_TRUE(values) << values.error().message;
      expect_close(std::vector<double>(values->begin(), values->end()), expected,
                   model.filename().string() + " " + name + " " + rt.at("type").get<std::string>());
    }
  }
}

// The binary's `--tensor X --values 64`, for the first tensor of each type in every file (one
// process per tensor is slow under qemu, and the library test above covers every tensor).
TEST(InspectCli, ValuesMatchReferenceRowZero) {
  const auto refs = reference_files();
  if (refs.empty()) GTEST_SKIP() << "test data absent: " << test::reference_dir() / "dequant";
  for (const auto& ref_path : refs) {
    const auto ref = load_json(ref_path);
    const auto model = test::models_dir() / "synth" / ref.at("file").get<std::string>();
    if (!std::filesystem::exists(model)) continue;
    std::set<std::string> types_seen;
    for (const auto& rt : ref.at("tensors")) {
      if (!types_seen.insert(rt.at("type").get<std::string>()).second) continue;
      const std::string name = rt.at("name");
      const auto expected = rt.at("row0_head").get<std::vector<double>>();
      const CliRun r = inspect({model.string(), "--tensor", name, "--values", std::to_string(expected.size())});
      ASSERT_EQ(r.exit_code, 0) << model << " " << name << ": " << r.err;
      std::istringstream lines(r.out);
      std::vector<double> got;
      for (std::string line; std::getline(lines, line);) got.push_back(std::strtod(line.c_str(), nullptr));
      expect_close(got, expected, model.filename().string() + " " + name + " " + rt.at("type").get<std::string>());
    }
  }
}

TEST(InspectCli, HumanReportHasEverySection) {
  const auto model = test::models_dir() / "synth" / "synth-llama-tiny-Q4_K_M.gguf";
  HEARTH_REQUIRE_FILE(model);
  const CliRun r = inspect({model.string(), "--ctx", "512"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* s : {"architecture    llama", "hyperparameters", "block_count", "tokenizer       llama (",
                        "tokenizer.ggml.tokens", "[string × ", "blk.0.attn_q.weight", "Q4_K", "256 × 256",
                        "parameters", "bytes per type", "RAM at ctx 512"})
    EXPECT_THAT(r.out, HasSubstr(s));
}

TEST(InspectCli, ErrorsGoToStderrWithExitCodeOne) {
  const CliRun missing = inspect({"/nonexistent.gguf"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("/nonexistent.gguf: cannot open"));
  EXPECT_TRUE(missing.out.empty());

  const auto dir = std::filesystem::path(testing::TempDir()) / (std::string("hearth_inspect_") += std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  // A readable tensor of a type hearth cannot dequantize.
  gguf::Writer w;
  w.set("general.architecture", gguf::Value::string("llama"));
  ASSERT_TRUE(w.add_tensor("iq", GgmlType::IQ2_XXS, {256}, std::vector<uint8_t>(66, 0)));
  ASSERT_TRUE(w.add_tensor("f", GgmlType::F32, {2, 2}, std::vector<uint8_t>(16, 0)));
  const auto path = dir / "iq.gguf";
  ASSERT_TRUE(w.write(path));
  const CliRun iq = inspect({path.string(), "--tensor", "iq", "--values", "4"});
  EXPECT_EQ(iq.exit_code, 1);
  EXPECT_THAT(iq.err, HasSubstr("has type IQ2_XXS, which hearth cannot dequantize"));
  const CliRun absent = inspect({path.string(), "--tensor", "nope", "--values", "4"});
  EXPECT_EQ(absent.exit_code, 1);
  EXPECT_THAT(absent.err, HasSubstr("no tensor named \"nope\""));
  const CliRun all = inspect({path.string(), "--tensor", "f", "--values", "100"});
  EXPECT_EQ(all.exit_code, 0) << all.err;
  EXPECT_EQ(all.out, "0\n0\n0\n0\n");  // at most the tensor's 4 elements
  const CliRun listing = inspect({path.string(), "--json"});
  EXPECT_EQ(listing.exit_code, 0) << listing.err;

  // A hostile file: a clean error, never a crash.
  std::ofstream(dir / "bad.gguf", std::ios::binary) << "GGUF\x03\0\0\0garbage";
  const CliRun bad = inspect({(dir / "bad.gguf").string(), "--json"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("bad.gguf: "));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace hearth
