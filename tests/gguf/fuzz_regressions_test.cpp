// Replays every input the fuzzer ever crashed on (fuzz/regressions/) and the committed seeds
// (fuzz/seeds/) through the reader: each must parse or fail with an Error, never crash. Under
// the sanitizer build (-DHEARTH_SANITIZE=ON) out-of-bounds reads are caught here too.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "gguf/reader.h"
#include "test_data.h"

namespace hearth::gguf {
namespace {

size_t touch(const Value& v) {
  size_t n = 1;
  if (const Array* a = v.as_array())
    for (const Value& item : a->items) n += touch(item);
  return n;
}

void replay_dir(const std::filesystem::path& dir, bool must_parse) {
  if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << "absent: " << dir;
  int count = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path().filename().string().starts_with(".")) continue;
    std::ifstream in(e.path(), std::ios::binary);
    // An exact-size heap copy, so a sanitizer sees any read past the end.
    const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto f = File::parse(bytes, e.path().filename().string());
    if (must_parse) {
      EXPECT_TRUE(f) << f.error().message;
    }
    if (!f) {
      EXPECT_FALSE(f.error().message.empty()) << e.path();
      continue;
    }
    size_t n = 0;
    for (const auto& [key, value] : f->metadata()) n += touch(value) + key.size();
    for (const TensorInfo& t : f->tensors()) n += t.data[0] + t.data[t.nbytes - 1];
    EXPECT_GT(n + 1, 0u);
    ++count;
  }
  ::testing::Test::RecordProperty("files", count);
}

TEST(GgufFuzzRegressions, EveryCrasherFailsCleanly) {
  replay_dir(test::source_dir() / "fuzz" / "regressions", false);
}

TEST(GgufFuzzRegressions, EverySeedParses) { replay_dir(test::source_dir() / "fuzz" / "seeds", true); }

}  // namespace
}  // namespace hearth::gguf
