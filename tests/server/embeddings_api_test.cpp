// The embedding routes' JSON without HTTP: OpenAI /v1/embeddings input forms and errors
// naming the field, base64 as little-endian float32, the response shape; Ollama /api/embed
// and legacy /api/embeddings requests.
#include <gtest/gtest.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "server/embeddings_api.h"

namespace hearth::server {
namespace {

using json = nlohmann::json;

std::string param_of(const json& body) {
  OpenAiEmbeddingRequest r;
  ApiError e;
  EXPECT_FALSE(parse_openai_embedding_request(body, r, e)) << body.dump();
  EXPECT_EQ(e.status, 400);
  EXPECT_FALSE(e.message.empty());
  return e.param;
}

TEST(OpenAiEmbeddingRequest, EveryInputForm) {
  OpenAiEmbeddingRequest r;
  ApiError e;
  ASSERT_TRUE(parse_openai_embedding_request({{"model", "m"}, {"input", "hello"}}, r, e)) << e.message;
  ASSERT_EQ(r.inputs.size(), 1u);
  EXPECT_EQ(r.inputs[0].text, "hello");
  EXPECT_FALSE(r.inputs[0].ids);
  EXPECT_FALSE(r.base64);

  r = {};
  ASSERT_TRUE(parse_openai_embedding_request({{"input", {"a", "b", "c"}}, {"encoding_format", "base64"}}, r, e));
  ASSERT_EQ(r.inputs.size(), 3u);
  EXPECT_EQ(r.inputs[2].text, "c");
  EXPECT_TRUE(r.base64);

  r = {};
  ASSERT_TRUE(parse_openai_embedding_request({{"input", {101, 7, 102}}}, r, e));
  ASSERT_EQ(r.inputs.size(), 1u);
  EXPECT_EQ(*r.inputs[0].ids, (std::vector<int32_t>{101, 7, 102}));

  r = {};
  ASSERT_TRUE(parse_openai_embedding_request(
      {{"input", json::array({json::array({1, 2}), json::array({3})})}, {"dimensions", 384}, {"pooling", "cls"}}, r, e));
  ASSERT_EQ(r.inputs.size(), 2u);
  EXPECT_EQ(*r.inputs[1].ids, (std::vector<int32_t>{3}));
  EXPECT_EQ(*r.dimensions, 384);
  EXPECT_EQ(*r.pooling, Pooling::kCls);
}

TEST(OpenAiEmbeddingRequest, ErrorsNameTheField) {
  EXPECT_EQ(param_of({{"model", "m"}}), "input");
  EXPECT_EQ(param_of({{"input", json::array()}}), "input");
  EXPECT_EQ(param_of({{"input", 5}}), "input");
  EXPECT_EQ(param_of({{"input", {"a", 1}}}), "input");
  EXPECT_EQ(param_of({{"input", {-1, 2}}}), "input");
  EXPECT_EQ(param_of({{"input", json::array({json::array()})}}), "input");
  EXPECT_EQ(param_of({{"input", "a"}, {"encoding_format", "hex"}}), "encoding_format");
  EXPECT_EQ(param_of({{"input", "a"}, {"dimensions", 0}}), "dimensions");
  EXPECT_EQ(param_of({{"input", "a"}, {"dimensions", "384"}}), "dimensions");
  EXPECT_EQ(param_of({{"input", "a"}, {"pooling", "max"}}), "pooling");
  EXPECT_EQ(param_of({{"input", "a"}, {"model", 3}}), "model");
  EXPECT_EQ(param_of(json::array()), "");
}

TEST(OpenAiEmbeddingResponse, ShapeAndBase64IsLittleEndianFloat32) {
  const std::vector<std::vector<float>> v = {{1.0f, -2.5f}, {0.0f, 3.25f}};
  const json f = openai_embedding_response("m", v, false, 7);
  EXPECT_EQ(f["object"], "list");
  EXPECT_EQ(f["model"], "m");
  ASSERT_EQ(f["data"].size(), 2u);
  EXPECT_EQ(f["data"][1]["object"], "embedding");
  EXPECT_EQ(f["data"][1]["index"], 1);
  EXPECT_EQ(f["data"][1]["embedding"][1].get<float>(), 3.25f);
  EXPECT_EQ(f["usage"], json({{"prompt_tokens", 7}, {"total_tokens", 7}}));
  // 1.0f = 00 00 80 3f, -2.5f = 00 00 20 c0 -> base64 of those 8 bytes.
  EXPECT_EQ(base64_floats({1.0f, -2.5f}), "AACAPwAAIMA=");
  EXPECT_EQ(base64_floats({}), "");
  EXPECT_EQ(base64_floats({1.0f}), "AACAPw==");
  const json b = openai_embedding_response("m", v, true, 7);
  EXPECT_EQ(b["data"][0]["embedding"], "AACAPwAAIMA=");
}

TEST(OllamaEmbedRequest, EmbedAndLegacy) {
  auto r = parse_ollama_embed_request({{"model", "m"}, {"input", "x"}}, false);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->inputs, std::vector<std::string>{"x"});
  EXPECT_TRUE(r->truncate);
  r = parse_ollama_embed_request({{"model", "m"}, {"input", {"a", "b"}}, {"truncate", false}, {"keep_alive", "5m"}}, false);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->inputs.size(), 2u);
  EXPECT_FALSE(r->truncate);
  r = parse_ollama_embed_request({{"model", "m"}, {"prompt", "p"}}, true);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->legacy);
  EXPECT_EQ(r->inputs, std::vector<std::string>{"p"});
  r = parse_ollama_embed_request({{"model", "m"}}, true);  // empty prompt: an empty vector
  ASSERT_TRUE(r);
  EXPECT_EQ(r->inputs, std::vector<std::string>{""});

  const auto error = [](const json& body, bool legacy) {
    auto e = parse_ollama_embed_request(body, legacy);
    EXPECT_FALSE(e) << body.dump();
    return e ? std::string() : e.error().message;
  };
  EXPECT_NE(error({{"input", "x"}}, false).find("model"), std::string::npos);
  EXPECT_NE(error({{"model", "m"}}, false).find("input"), std::string::npos);
  EXPECT_NE(error({{"model", "m"}, {"input", {1}}}, false).find("input"), std::string::npos);
  EXPECT_NE(error({{"model", "m"}, {"input", "x"}, {"truncate", "yes"}}, false).find("truncate"), std::string::npos);
  EXPECT_NE(error({{"model", "m"}, {"prompt", 3}}, true).find("prompt"), std::string::npos);
  EXPECT_NE(error({{"model", "m"}, {"input", "x"}, {"keep_alive", "soon"}}, false), "");
}

// Review findings: ids that would wrap on conversion to int32, and unbounded input lists.
TEST(OpenAiEmbeddingRequest, IdsPastInt32AndHugeListsAreRefused) {
  EXPECT_EQ(param_of({{"input", json::array({json::array({4294967297ull})})}}), "input");
  EXPECT_EQ(param_of({{"input", json::array({2147483648ll})}}), "input");
  EXPECT_EQ(param_of({{"input", json(std::vector<std::string>(2049, "a"))}}), "input");
  OpenAiEmbeddingRequest r;
  ApiError e;
  EXPECT_TRUE(parse_openai_embedding_request({{"input", json(std::vector<std::string>(2048, "a"))}}, r, e));
}

TEST(OllamaEmbedRequest, HugeListsAreRefused) {
  auto r = parse_ollama_embed_request({{"model", "m"}, {"input", json(std::vector<std::string>(2049, "a"))}}, false);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("at most 2048"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace hearth::server
