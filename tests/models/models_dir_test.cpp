// hearth ls / rm on a folder of tiny GGUFs written here: names as the server gives them, the
// header fields, partial pulls, and names that must not reach outside the folder.
#include <gtest/gtest.h>

#include <fstream>

#include "gguf/writer.h"
#include "models/models_dir.h"

namespace hearth::models {
namespace {

namespace fs = std::filesystem;

class ModelsDirTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(testing::TempDir()) / ("hearth_models_" + std::to_string(::getpid()) + "_" +
                                           testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write_model(const std::string& file, uint32_t file_type) {
    gguf::Writer w;
    w.set("general.architecture", gguf::Value::string("llama"));
    w.set("general.file_type", gguf::Value::u32(file_type));
    std::vector<uint8_t> bytes(64 * 4 * 4, 0);
    ASSERT_TRUE(w.add_tensor("token_embd.weight", GgmlType::F32, {64, 4}, bytes).ok());
    ASSERT_TRUE(w.add_tensor("output_norm.weight", GgmlType::F32, {64}, std::span<const uint8_t>(bytes.data(), 256)).ok());
    ASSERT_TRUE(w.write(dir_ / file).ok());
  }

  fs::path dir_;
};

TEST_F(ModelsDirTest, ListsModelsWithHeaderFieldsAndPartials) {
  write_model("tiny.gguf", 15);  // llama_ftype 15: Q4_K_M
  write_model("plain.gguf", 0);
  std::ofstream(dir_ / "half.gguf.partial") << "GGUFxx";
  std::ofstream(dir_ / "notes.txt") << "not a model";
  std::ofstream(dir_ / "broken.gguf") << "GGUF but nothing valid after";
  Result<std::vector<LocalModel>> list = list_models(dir_);
  ASSERT_TRUE(list) << list.error().message;
  ASSERT_EQ(list->size(), 4u);
  EXPECT_EQ((*list)[0].name, "broken");
  EXPECT_FALSE((*list)[0].problem.empty());
  EXPECT_EQ((*list)[1].name, "half");
  EXPECT_TRUE((*list)[1].partial);
  EXPECT_EQ((*list)[1].bytes, 6u);
  EXPECT_EQ((*list)[2].name, "plain");
  EXPECT_EQ((*list)[2].quant, "F32");
  const LocalModel& tiny = (*list)[3];
  EXPECT_EQ(tiny.name, "tiny");
  EXPECT_EQ(tiny.architecture, "llama");
  EXPECT_EQ(tiny.quant, "Q4_K_M");
  EXPECT_EQ(tiny.params, 64 * 4 + 64);
  EXPECT_TRUE(tiny.problem.empty()) << tiny.problem;
  EXPECT_GT(tiny.bytes, 0u);
}

TEST_F(ModelsDirTest, MissingFolderIsEmptyAFileIsAnError) {
  Result<std::vector<LocalModel>> none = list_models(dir_ / "nope");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  std::ofstream(dir_ / "file") << "x";
  EXPECT_FALSE(list_models(dir_ / "file"));
}

TEST_F(ModelsDirTest, RemovesByNameOnlyInsideTheFolder) {
  write_model("tiny.gguf", 15);
  std::ofstream(dir_ / "tiny.gguf.partial") << "GGUF";
  std::ofstream(dir_ / "other.gguf.partial") << "GGUF";
  // A file beside the folder that a path-like name would reach.
  std::ofstream(dir_.parent_path() / (dir_.filename().string() + "-outside.gguf")) << "keep";
  for (const char* bad : {"../x", "/etc/passwd", "a/b", "..", ".hidden", ""}) {
    Result<std::vector<fs::path>> r = remove_model(dir_, bad);
    EXPECT_FALSE(r) << bad;
  }
  Result<std::vector<fs::path>> unknown = remove_model(dir_, "missing");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("no model named 'missing'"), std::string::npos);
  EXPECT_NE(unknown.error().message.find("tiny"), std::string::npos) << unknown.error().message;

  Result<std::vector<fs::path>> removed = remove_model(dir_, "tiny:latest");
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_EQ(removed->size(), 2u);
  EXPECT_FALSE(fs::exists(dir_ / "tiny.gguf"));
  EXPECT_FALSE(fs::exists(dir_ / "tiny.gguf.partial"));
  ASSERT_TRUE(remove_model(dir_, "other"));
  EXPECT_FALSE(fs::exists(dir_ / "other.gguf.partial"));
  EXPECT_TRUE(fs::exists(dir_.parent_path() / (dir_.filename().string() + "-outside.gguf")));
  fs::remove(dir_.parent_path() / (dir_.filename().string() + "-outside.gguf"));
}

TEST(ModelsDir, DefaultFolder) {
  EXPECT_EQ(models_dir("/x", {"/env", "/xdg", "/home/u"}), fs::path("/x"));
  EXPECT_EQ(models_dir("", {"/env", "/xdg", "/home/u"}), fs::path("/env"));
  EXPECT_EQ(models_dir("", {"", "/xdg", "/home/u"}), fs::path("/xdg/hearth/models"));
  EXPECT_EQ(models_dir("", {"", "", "/home/u"}), fs::path("/home/u/.local/share/hearth/models"));
  EXPECT_EQ(file_type_name(15), "Q4_K_M");
  EXPECT_EQ(file_type_name(7), "Q8_0");
  EXPECT_EQ(file_type_name(9999), "");
  EXPECT_EQ(human_size(3ull << 30), "3.0 GiB");
  EXPECT_EQ(human_params(1'100'048'384), "1.1B");
}

}  // namespace
}  // namespace hearth::models
