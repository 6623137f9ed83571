// Broken model files and misuse: each a clear Error naming the problem, never a crash.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <unistd.h>

#include "gguf/reader.h"
#include "gguf/writer.h"
#include "kernels/kernels.h"
#include "model/model.h"
#include "runtime/session.h"
#include "runtime/thread_pool.h"
#include "test_data.h"

namespace hearth {
namespace {

using ::testing::HasSubstr;

struct Edit {
  std::string drop_tensor;
  std::string arch;
  std::string reshape_tensor;  // written as (ne0, ne1 / 2) with half its bytes
};

class ModelErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    source_ = test::models_dir() / "synth" / "synth-llama-tiny-F16.gguf";
    HEARTH_REQUIRE_FILE(source_);
    dir_ = std::filesystem::temp_directory_path() /
           ("hearth-model-errors-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // A copy of the llama file with one defect.
  std::filesystem::path write_copy(const std::string& name, const Edit& edit) {
    auto file = gguf::File::open(source_);
    EXPECT_TRUE(file.ok());
    gguf::Writer w;
    for (const auto& [key, value] : file->metadata()) {
      if (key == "general.alignment") continue;
      w.set(key, value);
    }
    if (!edit.arch.empty()) {
      w.set("general.architecture", gguf::Value::string(edit.arch));
      w.set(edit.arch + ".context_length", gguf::Value::u32(4096));
    }
    for (const auto& t : file->tensors()) {
      if (t.name == edit.drop_tensor) continue;
      std::vector<int64_t> ne = t.ne;
      uint64_t nbytes = t.nbytes;
      if (t.name == edit.reshape_tensor) {
        ne[1] /= 2;
        nbytes /= 2;
      }
      EXPECT_TRUE(w.add_tensor(t.name, t.type, ne, std::span<const uint8_t>(t.data, nbytes)).ok());
    }
    const auto path = dir_ / name;
    EXPECT_TRUE(w.write(path).ok());
    return path;
  }

  std::string load_error(const std::filesystem::path& path) {
    auto model = Model::load(path, *choose_kernels().table);
    if (model.ok()) return "";
    return model.error().message;
  }

  std::filesystem::path source_, dir_;
};

TEST_F(ModelErrors, IntactCopyLoads) {
  EXPECT_EQ(load_error(write_copy("ok.gguf", {})), "");
}

TEST_F(ModelErrors, MissingTensorIsNamed) {
  const std::string e = load_error(write_copy("missing.gguf", {.drop_tensor = "blk.1.ffn_down.weight"}));
  EXPECT_THAT(e, HasSubstr("blk.1.ffn_down.weight"));
  EXPECT_THAT(e, HasSubstr("missing"));
}

TEST_F(ModelErrors, MissingOutputNormIsNamed) {
  EXPECT_THAT(load_error(write_copy("nonorm.gguf", {.drop_tensor = "output_norm.weight"})),
              HasSubstr("output_norm.weight"));
}

TEST_F(ModelErrors, WrongShapeNamesExpectedAndActual) {
  const std::string e = load_error(write_copy("shape.gguf", {.reshape_tensor = "blk.0.attn_q.weight"}));
  EXPECT_THAT(e, HasSubstr("blk.0.attn_q.weight"));
  EXPECT_THAT(e, HasSubstr("[256, 128]"));
  EXPECT_THAT(e, HasSubstr("[256, 256]"));
}

TEST_F(ModelErrors, UnknownArchitectureIsNamed) {
  const std::string e = load_error(write_copy("arch.gguf", {.arch = "mamba9"}));
  EXPECT_THAT(e, HasSubstr("mamba9"));
  EXPECT_THAT(e, HasSubstr("architecture"));
}

TEST_F(ModelErrors, TruncatedWeightsAreRefused) {
  const auto path = write_copy("truncated.gguf", {});
  const auto size = std::filesystem::file_size(path);
  for (uint64_t cut : {uint64_t{1}, uint64_t{4096}, size / 2}) {
    std::filesystem::copy_file(path, dir_ / "cut.gguf", std::filesystem::copy_options::overwrite_existing);
    std::filesystem::resize_file(dir_ / "cut.gguf", size - cut);
    EXPECT_NE(load_error(dir_ / "cut.gguf"), "") << "cut " << cut;
  }
}

TEST_F(ModelErrors, MissingHyperparameterIsNamed) {
  auto file = gguf::File::open(source_);
  ASSERT_TRUE(file.ok());
  gguf::Writer w;
  for (const auto& [key, value] : file->metadata())
    if (key != "llama.attention.head_count") w.set(key, value);
  for (const auto& t : file->tensors())
    ASSERT_TRUE(w.add_tensor(t.name, t.type, t.ne, std::span<const uint8_t>(t.data, t.nbytes)).ok());
  ASSERT_TRUE(w.write(dir_ / "nokey.gguf").ok());
  EXPECT_THAT(load_error(dir_ / "nokey.gguf"), HasSubstr("llama.attention.head_count"));
}

TEST_F(ModelErrors, ContextOverflowIsAnErrorAndLeavesTheSessionUsable) {
  auto model = Model::load(source_, *choose_kernels().table);
  ASSERT_TRUE(model.ok()) << model.error().message;
  ThreadPool pool(1);
  auto session = Session::create(*model, pool, {.n_ctx = 8});
  ASSERT_TRUE(session.ok());
  const std::vector<int32_t> six = {1, 2, 3, 4, 5, 6};
  ASSERT_TRUE(session->decode(six, false).ok());
  auto over = session->decode(std::vector<int32_t>{7, 8, 9}, false);
  ASSERT_FALSE(over.ok());
  EXPECT_THAT(over.error().message, HasSubstr("context"));
  EXPECT_EQ(session->n_past(), 6);
  EXPECT_TRUE(session->decode(std::vector<int32_t>{7, 8}, false).ok());
  EXPECT_EQ(session->n_past(), 8);
}

TEST_F(ModelErrors, TokenOutsideVocabularyIsAnError) {
  auto model = Model::load(source_, *choose_kernels().table);
  ASSERT_TRUE(model.ok());
  ThreadPool pool(1);
  auto session = Session::create(*model, pool, {.n_ctx = 16});
  ASSERT_TRUE(session.ok());
  auto r = session->decode(std::vector<int32_t>{1, 512}, true);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("512"));
  EXPECT_EQ(session->n_past(), 0);
}

TEST_F(ModelErrors, KvCacheGrowsInChunks) {
  auto model = Model::load(source_, *choose_kernels().table);
  ASSERT_TRUE(model.ok());
  ThreadPool pool(1);
  auto session = Session::create(*model, pool, {.n_ctx = 4096});
  ASSERT_TRUE(session.ok());
  EXPECT_EQ(session->kv_cache().bytes_allocated(), 0u);
  ASSERT_TRUE(session->decode(std::vector<int32_t>{1, 2, 3}, false).ok());
  const size_t one_chunk = session->kv_cache().bytes_allocated();
  EXPECT_GT(one_chunk, 0u);
  EXPECT_LT(one_chunk, size_t{2} * 2 * 4096 * 256 * 2 / 8);  // far below the full context
}

}  // namespace
}  // namespace hearth
