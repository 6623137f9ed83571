// The GGUF reader on real files (every shared model and vocab opens; tensor tables agree with
// gguf-py's) and on hand-made hostile bytes (each defect is an Error naming file, field, byte).
#include "gguf/reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "gguf/gguf_bytes.h"
#include "test_data.h"

namespace hearth::gguf {
namespace {

using ::testing::HasSubstr;
using test::GgufBytes;

std::string parse_error(const GgufBytes& g) {
  auto f = File::parse(g.span(), "evil.gguf");
  if (f) return "(parsed fine)";
  EXPECT_THAT(f.error().message, HasSubstr("evil.gguf: "));
  return f.error().message;
}

// A valid file: one u32 key, one string-array key, one F32 tensor of 8 elements.
GgufBytes small_valid() {
  GgufBytes g;
  g.header(1, 2);
  g.kv("general.architecture", 8).str("llama");
  g.kv("tokenizer.ggml.tokens", 9).u32(8).u64(3).str("a").str("bc").str("");
  g.tensor("w", {8}, 0, 0);
  g.pad_to(32);
  for (int i = 0; i < 8; ++i) g.put<float>(float(i));
  return g;
}

TEST(GgufReader, ParsesSmallValidFile) {
  const GgufBytes g = small_valid();
  auto f = File::parse(g.span(), "small.gguf");
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->alignment(), 32u);
  EXPECT_EQ(f->data_offset() % 32, 0u);
  EXPECT_EQ(*f->get_string("general.architecture"), "llama");
  const auto tokens = f->get_array("tokenizer.ggml.tokens");
  ASSERT_TRUE(tokens);
  ASSERT_EQ((*tokens)->items.size(), 3u);
  EXPECT_EQ(*(*tokens)->items[1].as_string(), "bc");
  ASSERT_EQ(f->tensors().size(), 1u);
  const TensorInfo* t = f->find_tensor("w");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->nbytes, 32u);
  EXPECT_EQ(t->n_elements(), 8);
  EXPECT_EQ(t->n_rows(), 1);
  float v3;
  std::memcpy(&v3, t->data + 12, 4);
  EXPECT_EQ(v3, 3.0f);
  // Typed look-ups name the key on failure.
  EXPECT_THAT(f->get_uint("general.architecture").error().message,
              HasSubstr("\"general.architecture\" is string"));
  EXPECT_THAT(f->get_string("nope").error().message, HasSubstr("\"nope\" is absent"));
}

TEST(GgufReader, AcceptsVersion2) {
  GgufBytes g = small_valid();
  g.b[4] = 2;
  auto f = File::parse(g.span(), "v2.gguf");
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->version(), 2u);
}

TEST(GgufReader, EveryTruncationIsAnError) {
  const GgufBytes full = small_valid();
  for (size_t n = 0; n < full.b.size(); ++n) {
    GgufBytes g;
    g.b.assign(full.b.begin(), full.b.begin() + static_cast<std::ptrdiff_t>(n));
    auto f = File::parse(g.span(), "evil.gguf");
    EXPECT_FALSE(f) << "prefix of " << n << " bytes parsed";
    if (!f) {
      EXPECT_THAT(f.error().message, HasSubstr("at byte")) << n;
    }
  }
}

TEST(GgufReader, WrongMagic) {
  GgufBytes g = small_valid();
  g.b[0] = 'X';
  EXPECT_THAT(parse_error(g), HasSubstr("magic at byte 0: not a GGUF file"));
}

TEST(GgufReader, VersionOneRefused) {
  GgufBytes g = small_valid();
  g.b[4] = 1;
  EXPECT_THAT(parse_error(g), HasSubstr("GGUF version 1 is not supported"));
}

TEST(GgufReader, BigEndianRefused) {
  GgufBytes g;
  g.u32(0x46554747).u32(0x03000000).u64(0).u64(0);
  EXPECT_THAT(parse_error(g), HasSubstr("big-endian"));
  g.b[7] = 0;
  g.b[4] = 9;
  EXPECT_THAT(parse_error(g), HasSubstr("unsupported GGUF version 9"));
}

TEST(GgufReader, HugeCountsRefusedBeforeAllocating) {
  GgufBytes g;
  g.header(0, uint64_t{1} << 60);
  EXPECT_THAT(parse_error(g), HasSubstr("metadata count at byte 16"));
  GgufBytes h;
  h.header(uint64_t{1} << 62, 0);
  EXPECT_THAT(parse_error(h), HasSubstr("tensor count at byte 8"));
}

TEST(GgufReader, KeyLengthTwoToThe63) {
  GgufBytes g;
  g.header(0, 1).u64(uint64_t{1} << 63).zeros(16);
  EXPECT_THAT(parse_error(g), HasSubstr("metadata[0] key length at byte 24"));
}

TEST(GgufReader, StringValueLengthTwoToThe63) {
  GgufBytes g;
  g.header(0, 1).kv("general.name", 8).u64(uint64_t{1} << 63).zeros(8);
  EXPECT_THAT(parse_error(g), HasSubstr("metadata[0] \"general.name\" string length at byte 48"));
}

TEST(GgufReader, StringInsideArrayNamesItsIndex) {
  GgufBytes g;
  g.header(0, 1).kv("tokenizer.ggml.tokens", 9).u32(8).u64(3).str("a").str("b");
  const size_t at = g.b.size();
  g.u64(~uint64_t{0});
  EXPECT_THAT(parse_error(g), HasSubstr("metadata[0] \"tokenizer.ggml.tokens\"[2] string length at byte " +
                                        std::to_string(at)));
}

TEST(GgufReader, ArrayCountCannotFit) {
  GgufBytes g;
  g.header(0, 1).kv("tokenizer.ggml.tokens", 9).u32(8);
  const size_t at = g.b.size();
  g.u64(uint64_t{1} << 40).str("a");
  EXPECT_THAT(parse_error(g), HasSubstr("metadata[0] \"tokenizer.ggml.tokens\" array length at byte " +
                                        std::to_string(at)));
  GgufBytes h;  // a u64 array claiming 2 elements with 15 bytes left
  h.header(0, 1).kv("x", 9).u32(10).u64(2).zeros(15);
  EXPECT_THAT(parse_error(h), HasSubstr("array length"));
}

TEST(GgufReader, UnknownValueTypes) {
  GgufBytes g;
  g.header(0, 1).kv("k", 13).u32(0);
  EXPECT_THAT(parse_error(g), HasSubstr("metadata[0] \"k\" type at byte 33: unknown value type 13"));
  GgufBytes h;
  h.header(0, 1).kv("k", 9).u32(77).u64(0);
  EXPECT_THAT(parse_error(h), HasSubstr("array element type at byte 37: unknown value type 77"));
}

TEST(GgufReader, DuplicateKeys) {
  GgufBytes g;
  g.header(0, 2).kv("a", 4).u32(1).kv("a", 4).u32(2);
  EXPECT_THAT(parse_error(g), HasSubstr("metadata[1] \"a\" at byte 54: duplicate key (first at metadata[0])"));
}

TEST(GgufReader, NestingDepthBomb) {
  GgufBytes g;
  g.header(0, 1).kv("bomb", 9);
  for (int i = 0; i < 100000; ++i) g.u32(9).u64(1);
  g.u32(0).u64(0);
  EXPECT_THAT(parse_error(g), HasSubstr("nested deeper than"));
}

TEST(GgufReader, NestedArraysWithinLimit) {
  GgufBytes g;
  g.header(0, 1).kv("nested", 9);
  g.u32(9).u64(2);              // array of 2 arrays
  g.u32(5).u64(2).u32(uint32_t(-1)).u32(7);  // int32 [-1, 7]
  g.u32(8).u64(1).str("x");     // string ["x"]
  auto f = File::parse(g.span(), "nested.gguf");
  ASSERT_TRUE(f) << f.error().message;
  const Array* outer = f->find("nested")->as_array();
  ASSERT_NE(outer, nullptr);
  ASSERT_EQ(outer->items.size(), 2u);
  EXPECT_EQ(*outer->items[0].as_array()->items[0].as_i64(), -1);
  EXPECT_EQ(*outer->items[1].as_array()->items[0].as_string(), "x");
}

TEST(GgufReader, Alignment) {
  for (uint32_t bad : {0u, 3u, 48u}) {
    GgufBytes g;
    g.header(0, 1).kv("general.alignment", 4).u32(bad);
    EXPECT_THAT(parse_error(g), HasSubstr("metadata[0] \"general.alignment\" at byte 53: must be a power of two"));
  }
  GgufBytes g;
  g.header(0, 1).kv("general.alignment", 8).str("64");
  EXPECT_THAT(parse_error(g), HasSubstr("found string"));

  GgufBytes ok;
  ok.header(1, 1).kv("general.alignment", 4).u32(64).tensor("w", {16}, 0, 0).pad_to(64).zeros(64);
  auto f = File::parse(ok.span(), "a64.gguf");
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->alignment(), 64u);
  EXPECT_EQ(f->data_offset(), 128u);
}

TEST(GgufReader, TensorOffsetPastEnd) {
  GgufBytes g;
  g.header(1, 0).tensor("blk.0.attn_q.weight", {8}, 0, 32);
  g.pad_to(32).zeros(32 + 31);
  EXPECT_THAT(parse_error(g), HasSubstr("tensor[0] \"blk.0.attn_q.weight\" offset at byte 67: data [32, +32) runs past"));
  GgufBytes h;  // offset near 2^64: offset + size must not wrap
  h.header(1, 0).tensor("w", {8}, 0, ~uint64_t{31});
  h.pad_to(32).zeros(64);
  EXPECT_THAT(parse_error(h), HasSubstr("tensor[0] \"w\" offset"));
}

TEST(GgufReader, TensorOffsetNotAligned) {
  GgufBytes g;
  g.header(1, 0).tensor("w", {8}, 0, 4);
  g.pad_to(32).zeros(64);
  EXPECT_THAT(parse_error(g), HasSubstr("tensor[0] \"w\" offset at byte 49: offset 4 is not a multiple of the alignment 32"));
}

TEST(GgufReader, OverlappingAndDuplicateTensors) {
  GgufBytes g;
  g.header(2, 0).tensor("a", {16}, 0, 0).tensor("b", {8}, 0, 32);
  g.pad_to(32).zeros(128);
  EXPECT_THAT(parse_error(g), HasSubstr("tensor[1] \"b\" offset at byte 82: data [32, +32) overlaps tensor[0] \"a\""));
  GgufBytes h;
  h.header(2, 0).tensor("a", {8}, 0, 0).tensor("a", {8}, 0, 32);
  h.pad_to(32).zeros(128);
  EXPECT_THAT(parse_error(h), HasSubstr("tensor[1] \"a\" name at byte 57: duplicate tensor name"));
}

TEST(GgufReader, DimensionsValidated) {
  GgufBytes g;
  g.header(1, 0).tensor("w", {uint64_t{1} << 32, uint64_t{1} << 32, 4}, 0, 0).pad_to(32).zeros(32);
  EXPECT_THAT(parse_error(g), HasSubstr("tensor[0] \"w\" ne[1] at byte 45: element count overflows 64 bits"));
  GgufBytes h;
  h.header(1, 0).tensor("w", {1, 1, 1, 1, 1}, 0, 0).pad_to(32).zeros(32);
  EXPECT_THAT(parse_error(h), HasSubstr("tensor[0] \"w\" dimension count at byte 33: 5 dimensions"));
  GgufBytes z;
  z.header(1, 0).tensor("w", {}, 0, 0).pad_to(32).zeros(32);
  EXPECT_THAT(parse_error(z), HasSubstr("0 dimensions"));
  GgufBytes e;
  e.header(1, 0).tensor("w", {8, 0}, 0, 0).pad_to(32).zeros(32);
  EXPECT_THAT(parse_error(e), HasSubstr("tensor[0] \"w\" ne[1] at byte 45: dimension 0"));
  GgufBytes n;
  n.header(1, 0).tensor("w", {~uint64_t{0}}, 0, 0).pad_to(32).zeros(32);
  EXPECT_THAT(parse_error(n), HasSubstr("not a positive 63-bit size"));
  // Fits int64 elements but not bytes: 2^61 F64 elements.
  GgufBytes b;
  b.header(1, 0).tensor("w", {uint64_t{1} << 61}, 28, 0).pad_to(32).zeros(32);
  EXPECT_THAT(parse_error(b), HasSubstr("byte size overflows"));
}

TEST(GgufReader, TensorTypes) {
  for (uint32_t bad : {4u, 31u, 40u, 0xffffffffu}) {
    GgufBytes g;
    g.header(1, 0).tensor("w", {32}, bad, 0).pad_to(32).zeros(64);
    EXPECT_THAT(parse_error(g), HasSubstr("tensor[0] \"w\" type at byte 45: unknown tensor type id " +
                                          std::to_string(bad)));
  }
  GgufBytes g;  // Q4_0 rows are whole 32-element blocks
  g.header(1, 0).tensor("w", {33}, 2, 0).pad_to(32).zeros(64);
  EXPECT_THAT(parse_error(g), HasSubstr("row length 33 is not a whole number of 32-element Q4_0 blocks"));
  GgufBytes ok;  // a type hearth cannot dequantize is still readable
  ok.header(1, 0).tensor("w", {256}, 16, 0).pad_to(32).zeros(96);
  auto f = File::parse(ok.span(), "iq2.gguf");
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->tensors()[0].type, GgmlType::IQ2_XXS);
  EXPECT_EQ(f->tensors()[0].nbytes, 66u);
}

TEST(GgufReader, OpenReportsSystemErrors) {
  auto f = File::open("/nonexistent/dir/x.gguf");
  ASSERT_FALSE(f);
  EXPECT_THAT(f.error().message, HasSubstr("/nonexistent/dir/x.gguf: cannot open: No such file"));
}

std::vector<std::filesystem::path> gguf_files_in(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  if (!std::filesystem::is_directory(dir)) return out;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".gguf") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(GgufReaderShared, EveryModelAndVocabOpens) {
  const auto synth = test::models_dir() / "synth";
  HEARTH_REQUIRE_FILE(synth);
  auto files = gguf_files_in(synth);
  const auto vocab = gguf_files_in(test::models_dir() / "vocab");
  files.insert(files.end(), vocab.begin(), vocab.end());
  ASSERT_GT(files.size(), 10u);
  for (const auto& path : files) {
    auto f = File::open(path);
    ASSERT_TRUE(f) << f.error().message;
    EXPECT_TRUE(f->find("general.architecture")) << path;
    for (const TensorInfo& t : f->tensors()) {
      EXPECT_LE(f->data_offset() + t.offset + t.nbytes, f->size()) << path << " " << t.name;
      EXPECT_EQ(t.data, f->bytes().data() + f->data_offset() + t.offset);
    }
  }
}

TEST(GgufReaderShared, TensorTablesMatchReference) {
  const auto dir = test::reference_dir() / "dequant";
  HEARTH_REQUIRE_FILE(dir);
  int checked = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() != ".json") continue;
    std::ifstream in(e.path());
    const auto ref = nlohmann::json::parse(in);
    const auto model = test::models_dir() / "synth" / ref.at("file").get<std::string>();
    if (!std::filesystem::exists(model)) continue;
    auto f = File::open(model);
    ASSERT_TRUE(f) << f.error().message;
    const auto& tensors = ref.at("tensors");
    ASSERT_EQ(f->tensors().size(), tensors.size()) << model;
    for (const auto& rt : tensors) {
      const std::string name = rt.at("name");
      const TensorInfo* t = f->find_tensor(name);
      ASSERT_NE(t, nullptr) << model << " " << name;
      EXPECT_EQ(type_traits(t->type).name, rt.at("type").get<std::string>()) << name;
      EXPECT_EQ(t->ne, rt.at("ne").get<std::vector<int64_t>>()) << name;
      EXPECT_EQ(t->offset, rt.at("offset").get<uint64_t>()) << name;
      EXPECT_EQ(f->data_offset() + t->offset, rt.at("file_offset").get<uint64_t>()) << name;
    }
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

}  // namespace
}  // namespace hearth::gguf
