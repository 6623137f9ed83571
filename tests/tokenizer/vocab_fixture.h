// Small hand-made vocabularies written with gguf::Writer, for tests that must not depend on
// the shared files: a SentencePiece one with byte fallback and a byte-level BPE one.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "gguf/reader.h"
#include "gguf/writer.h"
#include "tokenizer/unicode.h"
#include "tokenizer/vocab.h"

namespace hearth::tokenizer::test {

using gguf::Value;
using gguf::ValueType;

struct VocabSpec {
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
};

inline Value strings(const std::vector<std::string>& v) {
  std::vector<Value> items;
  for (const auto& s : v) items.push_back(Value::string(s));
  return Value::array(ValueType::kString, std::move(items));
}
inline Value floats(const std::vector<float>& v) {
  std::vector<Value> items;
  for (float f : v) items.push_back(Value::f32(f));
  return Value::array(ValueType::kFloat32, std::move(items));
}
inline Value ints(const std::vector<int32_t>& v) {
  std::vector<Value> items;
  for (int32_t i : v) items.push_back(Value::i32(i));
  return Value::array(ValueType::kInt32, std::move(items));
}

// <unk> <s> </s> <0x00>..<0xFF> ▁ a b ▁a ab ▁ab <|user|> [user-defined: <tool>]
inline VocabSpec spm_spec() {
  VocabSpec s;
  const auto add = [&](std::string t, float score, int32_t type) {
    s.tokens.push_back(std::move(t));
    s.scores.push_back(score);
    s.types.push_back(type);
  };
  add("<unk>", 0, 2);
  add("<s>", 0, 3);
  add("</s>", 0, 3);
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    add(buf, 0, 6);
  }
  add("\xE2\x96\x81", -1, 1);        // 259
  add("a", -2, 1);                   // 260
  add("b", -3, 1);                   // 261
  add("\xE2\x96\x81" "a", -4, 1);    // 262
  add("ab", -5, 1);                  // 263
  add("\xE2\x96\x81" "ab", -6, 1);   // 264
  add("<|user|>", 0, 3);             // 265
  add("<tool>", 0, 4);               // 266
  return s;
}

inline gguf::Writer spm_writer(const VocabSpec& s) {
  gguf::Writer w;
  w.set("general.architecture", Value::string("llama"));
  w.set("tokenizer.ggml.model", Value::string("llama"));
  w.set("tokenizer.ggml.tokens", strings(s.tokens));
  w.set("tokenizer.ggml.scores", floats(s.scores));
  w.set("tokenizer.ggml.token_type", ints(s.types));
  w.set("tokenizer.ggml.bos_token_id", Value::u32(1));
  w.set("tokenizer.ggml.eos_token_id", Value::u32(2));
  w.set("tokenizer.ggml.unknown_token_id", Value::u32(0));
  return w;
}

inline std::string gpt2_char(uint8_t byte) {
  std::string s;
  append_utf8(s, byte_to_gpt2_cpt(byte));
  return s;
}

// The 256 byte characters, then Ġa (256), ab (257), Ġab (258), <|endoftext|> (259).
inline gguf::Writer bpe_writer() {
  std::vector<std::string> tokens;
  for (int b = 0; b < 256; ++b) tokens.push_back(gpt2_char(static_cast<uint8_t>(b)));
  const std::string sp = gpt2_char(' ');
  tokens.push_back(sp + "a");
  tokens.push_back("ab");
  tokens.push_back(sp + "ab");
  tokens.push_back("<|endoftext|>");
  std::vector<int32_t> types(tokens.size(), 1);
  types.back() = 3;
  gguf::Writer w;
  w.set("general.architecture", Value::string("gpt2"));
  w.set("tokenizer.ggml.model", Value::string("gpt2"));
  w.set("tokenizer.ggml.pre", Value::string("gpt-2"));
  w.set("tokenizer.ggml.tokens", strings(tokens));
  w.set("tokenizer.ggml.token_type", ints(types));
  w.set("tokenizer.ggml.merges", strings({"a b", sp + " a", sp + "a b"}));
  w.set("tokenizer.ggml.bos_token_id", Value::u32(259));
  w.set("tokenizer.ggml.eos_token_id", Value::u32(259));
  return w;
}

class TempDir : public ::testing::Test {  // base only: each test file derives its own fixture
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("hearth_tok_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes the file and loads its vocabulary (the file must be valid GGUF).
  Result<Vocab> load(const gguf::Writer& w) {
    const auto path = dir_ / "vocab.gguf";
    const Status st = w.write(path);
    EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error().message);
    auto file = gguf::File::open(path);
    EXPECT_TRUE(file.ok()) << (file.ok() ? "" : file.error().message);
    if (!file.ok()) return Error{"unreadable"};
    return Vocab::load(*file);
  }
  std::filesystem::path dir_;
};

}  // namespace hearth::tokenizer::test
