// `hearth quantize` end to end: the binary quantizes synth-llama-tiny-F32.gguf to each type the
// issue names, and every output is compared with llama.cpp's quantization of the same file:
// the same tensor types; legacy formats byte-identical; K-quant tensors with an RMS error
// against the F32 source at most 2% above llama.cpp's; metadata preserved.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "gguf/reader.h"
#include "quant/ggml_type.h"
#include "test_data.h"

namespace hearth {
namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char tmpl[] = "/tmp/hearth-quantize-XXXXXX";
    path = ::mkdtemp(tmpl) ? std::filesystem::path(tmpl) : std::filesystem::path();
  }
  ~TempDir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
};

// Runs a shell command; returns its exit status and its stderr (stdout is discarded).
struct CliResult {
  int status;
  std::string err;
};
CliResult run_cli(const std::string& args, const std::filesystem::path& dir) {
  const auto err_path = dir / "stderr.txt";
  const std::string cmd = std::string(HEARTH_BINARY) + " " + args + " >/dev/null 2>" + err_path.string();
  const int rc = std::system(cmd.c_str());
  std::string err;
  if (FILE* f = std::fopen(err_path.c_str(), "rb")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) err.append(buf, n);
    std::fclose(f);
  }
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, err};
}

std::vector<float> to_f32(const gguf::TensorInfo& t) {
  std::vector<float> out(static_cast<size_t>(t.n_elements()));
  type_traits(t.type).dequantize(t.data, out.data(), t.n_elements());
  return out;
}

double sq_error(const std::vector<float>& a, const std::vector<float>& b) {
  double e = 0;
  for (size_t i = 0; i < a.size(); ++i) e += double(a[i] - b[i]) * (a[i] - b[i]);
  return e;
}

bool is_k_type(GgmlType t) {
  return t == GgmlType::Q2_K || t == GgmlType::Q3_K || t == GgmlType::Q4_K || t == GgmlType::Q5_K ||
         t == GgmlType::Q6_K;
}

class QuantizeTool : public ::testing::TestWithParam<const char*> {};

TEST_P(QuantizeTool, MatchesLlamaCpp) {
  const char* type = GetParam();
  const auto synth = test::models_dir() / "synth";
  const auto src_path = synth / "synth-llama-tiny-F32.gguf";
  const auto ref_path = synth / (std::string("synth-llama-tiny-") + type + ".gguf");
  HEARTH_REQUIRE_FILE(src_path);
  HEARTH_REQUIRE_FILE(ref_path);
  TempDir tmp;
  ASSERT_FALSE(tmp.path.empty());
  const auto out_path = tmp.path / (std::string("out-") + type + ".gguf");
  const CliResult q = run_cli("quantize " + src_path.string() + " " + out_path.string() + " " + type + " --threads 3",
                    tmp.path);
  ASSERT_EQ(q.status, 0) << q.err;

  auto src = gguf::File::open(src_path);
  auto ours = gguf::File::open(out_path);
  auto theirs = gguf::File::open(ref_path);
  ASSERT_TRUE(src.ok()) << src.error().message;
  ASSERT_TRUE(ours.ok()) << ours.error().message;
  ASSERT_TRUE(theirs.ok()) << theirs.error().message;

  // Metadata: every source key is kept with its value, except the two quantize sets.
  for (const auto& [key, value] : src->metadata()) {
    const gguf::Value* v = ours->find(key);
    ASSERT_NE(v, nullptr) << "lost key " << key;
    if (key == "general.file_type") continue;
    EXPECT_EQ(v->type, value.type) << key;
    if (v->as_string()) {
      EXPECT_EQ(*v->as_string(), *value.as_string()) << key;
    }
    if (v->as_array()) {
      EXPECT_EQ(v->as_array()->items.size(), value.as_array()->items.size()) << key;
    }
    if (v->is_integer()) {
      EXPECT_EQ(v->as_i64(), value.as_i64()) << key;
    }
  }
  EXPECT_EQ(*ours->get_uint("general.file_type"), *theirs->get_uint("general.file_type"));
  EXPECT_EQ(*ours->get_uint("general.quantization_version"), 2u);

  ASSERT_EQ(ours->tensors().size(), theirs->tensors().size());
  for (size_t i = 0; i < theirs->tensors().size(); ++i)  // llama.cpp's tensor order too
    EXPECT_EQ(ours->tensors()[i].name, theirs->tensors()[i].name) << i;
  double worst = 0;
  for (const gguf::TensorInfo& t : theirs->tensors()) {
    const gguf::TensorInfo* mine = ours->find_tensor(t.name);
    const gguf::TensorInfo* orig = src->find_tensor(t.name);
    ASSERT_NE(mine, nullptr) << t.name;
    ASSERT_NE(orig, nullptr) << t.name;
    ASSERT_EQ(type_traits(mine->type).name, type_traits(t.type).name) << t.name;
    ASSERT_EQ(mine->ne, t.ne) << t.name;
    ASSERT_EQ(mine->nbytes, t.nbytes) << t.name;
    if (is_k_type(t.type)) {
      const auto x = to_f32(*orig);
      const double e_ours = sq_error(to_f32(*mine), x);
      const double e_theirs = sq_error(to_f32(t), x);
      const double ratio = e_theirs > 0 ? std::sqrt(e_ours / e_theirs) : (e_ours > 0 ? INFINITY : 1.0);
      worst = std::max(worst, ratio);
      EXPECT_LE(ratio, 1.02) << type << " " << t.name << " (" << type_traits(t.type).name << ")";
    } else {
      // F32 copies and the one-rounding formats (Q4_0 ... Q8_0): byte for byte.
      EXPECT_EQ(std::memcmp(mine->data, t.data, t.nbytes), 0)
          << type << " " << t.name << " (" << type_traits(t.type).name << ") differs from llama.cpp";
    }
  }
  if (worst > 0) std::printf("  %s: worst K-quant RMS ratio ours/llama.cpp %.6f\n", type, worst);
}

INSTANTIATE_TEST_SUITE_P(Types, QuantizeTool,
                         ::testing::Values("Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q4_K_M", "Q5_K_M", "Q6_K",
                                           "Q2_K", "Q3_K_M", "Q4_K_S"));

TEST(QuantizeToolErrors, UnknownTypeListsValidOnes) {
  const auto src = test::models_dir() / "synth" / "synth-llama-tiny-F32.gguf";
  HEARTH_REQUIRE_FILE(src);
  TempDir tmp;
  const CliResult r = run_cli("quantize " + src.string() + " " + (tmp.path / "o.gguf").string() + " Q4_K_X", tmp.path);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("Q4_K_X"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Q4_K_M"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Q8_0"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(tmp.path / "o.gguf"));
}

TEST(QuantizeToolErrors, UnreadableInputAndUnwritableOutput) {
  TempDir tmp;
  CliResult r = run_cli("quantize " + (tmp.path / "missing.gguf").string() + " " + (tmp.path / "o.gguf").string() + " Q8_0",
              tmp.path);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("missing.gguf"), std::string::npos) << r.err;

  const auto junk = tmp.path / "junk.gguf";
  if (FILE* f = std::fopen(junk.c_str(), "wb")) {
    std::fputs("not a gguf file at all", f);
    std::fclose(f);
  }
  r = run_cli("quantize " + junk.string() + " " + (tmp.path / "o.gguf").string() + " Q8_0", tmp.path);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("junk.gguf"), std::string::npos) << r.err;

  const auto src = test::models_dir() / "synth" / "synth-llama-tiny-F32.gguf";
  HEARTH_REQUIRE_FILE(src);
  r = run_cli("quantize " + src.string() + " " + (tmp.path / "no-such-dir" / "o.gguf").string() + " Q8_0", tmp.path);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("no-such-dir"), std::string::npos) << r.err;
}

TEST(QuantizeToolErrors, RequantizingWarns) {
  const auto src = test::models_dir() / "synth" / "synth-llama-tiny-Q8_0.gguf";
  HEARTH_REQUIRE_FILE(src);
  TempDir tmp;
  const CliResult r = run_cli("quantize " + src.string() + " " + (tmp.path / "o.gguf").string() + " Q4_K_M --threads 2",
                    tmp.path);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("warning"), std::string::npos) << r.err;
  auto out = gguf::File::open(tmp.path / "o.gguf");
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(type_traits(out->find_tensor("blk.1.ffn_down.weight")->type).name, "Q6_K");
}

TEST(QuantizeToolProgress, PlainLinesWhenNotATerminal) {
  const auto src = test::models_dir() / "synth" / "synth-llama-tiny-F32.gguf";
  HEARTH_REQUIRE_FILE(src);
  TempDir tmp;
  const CliResult r = run_cli("quantize " + src.string() + " " + (tmp.path / "o.gguf").string() + " q8_0", tmp.path);
  ASSERT_EQ(r.status, 0) << r.err;
  // One line per tensor, no carriage returns or escape codes in a log.
  EXPECT_EQ(r.err.find('\r'), std::string::npos);
  EXPECT_EQ(r.err.find('\x1b'), std::string::npos);
  EXPECT_NE(r.err.find("[  21/21]"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace hearth
