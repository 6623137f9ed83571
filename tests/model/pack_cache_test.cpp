// The packed-weight cache (model/pack_cache.h): entries round-trip, anything that does not
// match its key and plan in every field is a miss (never a crash or a wrong weight), the key
// follows the model file, the folder keeps to its budget, and a model loaded from the cache
// has the same packed bytes as one repacked from scratch.
#include "model/pack_cache.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/repack.h"
#include "model/model.h"
#include "test_data.h"

namespace hearth {
namespace {

namespace fs = std::filesystem;

// A private folder and a private copy of a model file (its own inode and mtime), removed
// afterwards; HEARTH_PACK_CACHE points at the folder for the test's duration.
class PackCache : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("hearth_pack_cache_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "cache");
    setenv("HEARTH_PACK_CACHE", (dir_ / "cache").c_str(), 1);
  }
  void TearDown() override {
    setenv("HEARTH_PACK_CACHE", "0", 1);
    unsetenv("HEARTH_PACK_CACHE_GB");
    fs::remove_all(dir_);
  }
  // A copy of a shared synth file, or empty (and the test skips) when it is absent.
  fs::path model_copy(const std::string& name) {
    const fs::path src = test::models_dir() / "synth" / name;
    if (!fs::exists(src)) return {};
    const fs::path dst = dir_ / name;
    fs::copy_file(src, dst, fs::copy_options::overwrite_existing);
    return dst;
  }
  fs::path cache() const { return dir_ / "cache"; }
  size_t cache_files() const {
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(cache())) n += e.path().extension() == ".hpk";
    return n;
  }
  fs::path dir_;
};

std::vector<pack_cache::Entry> fake_entries() {
  return {{GgmlType::Q8_0, 64, 32, 1024, 2176}, {GgmlType::Q4_K, 256, 16, 9000, 2368}};
}

std::vector<std::vector<uint8_t>> random_data(const std::vector<pack_cache::Entry>& entries) {
  std::mt19937 rng(3);
  std::vector<std::vector<uint8_t>> data;
  for (const auto& e : entries) {
    data.emplace_back(e.bytes);
    for (auto& b : data.back()) b = static_cast<uint8_t>(rng());
  }
  return data;
}

std::vector<const void*> pointers(const std::vector<std::vector<uint8_t>>& data) {
  std::vector<const void*> p;
  for (const auto& d : data) p.push_back(d.data());
  return p;
}

TEST_F(PackCache, DirectoryFollowsTheEnvironment) {
  EXPECT_EQ(pack_cache::directory(), cache());
  setenv("HEARTH_PACK_CACHE", "off", 1);
  EXPECT_FALSE(pack_cache::directory().has_value());
  setenv("HEARTH_PACK_CACHE", "0", 1);
  EXPECT_FALSE(pack_cache::directory().has_value());
}

TEST_F(PackCache, WriteThenOpenRoundTrips) {
  const auto entries = fake_entries();
  const auto data = random_data(entries);
  const std::string key(64, 'a');
  ASSERT_TRUE(pack_cache::write(cache(), key, entries, pointers(data)).ok());
  const auto reader = pack_cache::Reader::open(cache(), key, entries);
  ASSERT_TRUE(reader.has_value());
  for (size_t i = 0; i < entries.size(); ++i) {
    std::vector<uint8_t> got(entries[i].bytes);
    ASSERT_TRUE(reader->read(i, 0, got.size(), got.data()).ok());
    EXPECT_EQ(got, data[i]) << "entry " << i;
    std::vector<uint8_t> part(10);  // a piece from the middle
    ASSERT_TRUE(reader->read(i, 100, part.size(), part.data()).ok());
    EXPECT_EQ(std::memcmp(part.data(), data[i].data() + 100, part.size()), 0) << "entry " << i;
  }
  std::vector<uint8_t> past(entries[1].bytes);  // beyond the file's end: an error, not garbage
  EXPECT_FALSE(reader->read(1, 1u << 20, past.size(), past.data()).ok());
  EXPECT_EQ(cache_files(), 1u);  // and no temporary left behind
  for (const auto& e : fs::directory_iterator(cache()))
    EXPECT_EQ(e.path().extension(), ".hpk") << e.path();
}

TEST_F(PackCache, AnythingThatDoesNotMatchIsAMiss) {
  const auto entries = fake_entries();
  const auto data = random_data(entries);
  const std::string key(64, 'b');
  ASSERT_TRUE(pack_cache::write(cache(), key, entries, pointers(data)).ok());
  // No such file, then plans that differ in one field each.
  EXPECT_FALSE(pack_cache::Reader::open(cache(), std::string(64, 'c'), entries).has_value());
  auto other = entries;
  other[1].bytes += 64;
  EXPECT_FALSE(pack_cache::Reader::open(cache(), key, other).has_value());
  other = entries;
  other[0].source_offset += 1;
  EXPECT_FALSE(pack_cache::Reader::open(cache(), key, other).has_value());
  other.pop_back();
  EXPECT_FALSE(pack_cache::Reader::open(cache(), key, other).has_value());

  const fs::path file = cache() / (key + ".hpk");
  // The same bytes under another key's name.
  fs::copy_file(file, cache() / (std::string(64, 'd') + ".hpk"));
  EXPECT_FALSE(pack_cache::Reader::open(cache(), std::string(64, 'd'), entries).has_value());
  // Cut short, then garbage, then empty.
  fs::resize_file(file, fs::file_size(file) - 100);
  EXPECT_FALSE(pack_cache::Reader::open(cache(), key, entries).has_value());
  std::ofstream(file, std::ios::binary | std::ios::trunc) << std::string(5000, 'x');
  EXPECT_FALSE(pack_cache::Reader::open(cache(), key, entries).has_value());
  std::ofstream(file, std::ios::binary | std::ios::trunc);
  EXPECT_FALSE(pack_cache::Reader::open(cache(), key, entries).has_value());
}

TEST_F(PackCache, KeyFollowsTheModelFile) {
  const fs::path path = model_copy("synth-llama-tiny-Q8_0.gguf");
  if (path.empty()) GTEST_SKIP() << "test data absent: synth-llama-tiny-Q8_0.gguf";
  auto file = gguf::File::open(path);
  ASSERT_TRUE(file.ok()) << file.error().message;
  const auto entries = fake_entries();
  const auto k1 = pack_cache::key(*file, entries);
  ASSERT_TRUE(k1.has_value());
  EXPECT_EQ(k1->size(), 64u);
  EXPECT_EQ(pack_cache::key(*file, entries), k1);  // stable
  auto other = entries;
  other[0].nrows = 48;
  EXPECT_NE(pack_cache::key(*file, other), k1);  // another plan
  // Touched (a replaced file): a new key.
  const struct timespec times[2] = {{1000000000, 0}, {1000000000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  EXPECT_NE(pack_cache::key(*file, entries), k1);
  // Parsed from memory: no identity, no key.
  const auto mem = gguf::File::parse(file->bytes(), "in memory");
  ASSERT_TRUE(mem.ok());
  EXPECT_FALSE(pack_cache::key(*mem, entries).has_value());
}

TEST_F(PackCache, FolderKeepsToItsBudget) {
  const auto entries = fake_entries();
  const auto data = random_data(entries);
  ASSERT_TRUE(pack_cache::write(cache(), std::string(64, '1'), entries, pointers(data)).ok());
  ASSERT_TRUE(pack_cache::write(cache(), std::string(64, '2'), entries, pointers(data)).ok());
  EXPECT_EQ(cache_files(), 2u);
  setenv("HEARTH_PACK_CACHE_GB", "0", 1);  // everything is over budget but the newest
  ASSERT_TRUE(pack_cache::write(cache(), std::string(64, '3'), entries, pointers(data)).ok());
  EXPECT_EQ(cache_files(), 1u);
  EXPECT_TRUE(pack_cache::Reader::open(cache(), std::string(64, '3'), entries).has_value());
}

// Every packed matrix of a model, as (bytes of its packed form).
std::vector<std::vector<uint8_t>> packed_matrices(const Model& m) {
  std::vector<std::vector<uint8_t>> out;
  auto take = [&](const WeightMatrix& w) {
    if (w.packed == nullptr) return;
    const size_t n = *packed_bytes(w.type, w.ne0, w.nrows);
    const auto* p = static_cast<const uint8_t*>(w.packed);
    out.emplace_back(p, p + n);
  };
  for (const LayerWeights& l : m.weights().layers)
    for (const WeightMatrix* w :
         {&l.wq, &l.wk, &l.wv, &l.wqkv, &l.wo, &l.ffn_gate, &l.ffn_up, &l.ffn_down})
      take(*w);
  take(m.weights().output);
  return out;
}

// The inode of the folder's only cache file: a load that rewrote the entry renames a new file
// over it, one that read it leaves it.
ino_t only_entry_inode(const fs::path& dir) {
  ino_t ino = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    struct stat st {};
    if (e.path().extension() == ".hpk" && ::stat(e.path().c_str(), &st) == 0) ino = st.st_ino;
  }
  return ino;
}

TEST_F(PackCache, ModelLoadedFromTheCacheHasTheSamePackedWeights) {
  const KernelTable& kernels = kernel_table(best_isa());
  for (const char* name : {"synth-llama-tiny-Q8_0.gguf", "synth-qwen2-tiny-Q4_K_M.gguf"}) {
    const fs::path path = model_copy(name);
    if (path.empty()) GTEST_SKIP() << "test data absent: " << name;
    auto fresh = Model::load(path, kernels);
    ASSERT_TRUE(fresh.ok()) << fresh.error().message;
    (*fresh)->wait_background_work();
    const auto want = packed_matrices(**fresh);
    if (want.empty())
      GTEST_SKIP() << "no packed kernels on this CPU (" << isa_name(kernels.isa) << ")";
    ASSERT_EQ(cache_files(), 1u) << name;
    const ino_t written = only_entry_inode(cache());
    auto cached = Model::load(path, kernels);
    ASSERT_TRUE(cached.ok()) << cached.error().message;
    (*cached)->wait_background_work();
    EXPECT_EQ(packed_matrices(**cached), want) << name;
    EXPECT_EQ(only_entry_inode(cache()), written) << name << ": read from the cache, not rewritten";
    fs::remove_all(cache());  // the next model starts from an empty folder
    fs::create_directories(cache());
  }
}

}  // namespace
}  // namespace hearth
