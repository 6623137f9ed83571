// The KV cache: growth in chunks, overflow, F16 and Q8_0 rows (store, view, copy between
// caches), the type flags' names, the head-size rule for Q8_0 at session creation, and every
// synthetic model's logits with a Q8_0 cache against llama.cpp's (F16-cache) reference.
//
// Tolerance for a Q8_0 cache. The reference was made with an F16 cache, and quantising the cache
// moves llama.cpp's own logits too: run at the reference commit with -ctk q8_0 (and -ctv q8_0
// with flash attention), its logits differ from the F16 reference by at most 3.9% of the std at
// a position (qwen2 Q4_K_M; 0.4-3.1% for the others) and by up to 3.0% on average over the
// prompt. hearth's Q8_0-cache logits are within 0.0-2.2% of llama.cpp's Q8_0-cache ones (the
// distance its F16 cache keeps from the F16 reference). So the test allows what llama.cpp
// itself moves, with a margin: 3.5% on the mean over positions, 4.5% at each.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/fp16.h"
#include "gguf/reader.h"
#include "gguf/writer.h"
#include "kernels/kernels.h"
#include "model/model.h"
#include "quant/blocks.h"
#include "quant/formats.h"
#include "runtime/kv_cache.h"
#include "runtime/session.h"
#include "runtime/thread_pool.h"
#include "test_data.h"

namespace hearth {
namespace {

using ::testing::HasSubstr;
using T = GgmlType;

std::vector<float> random_row(int64_t n, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = normal(rng);
  return v;
}

// The elements a view holds for position `pos` (K or V), dequantised.
std::vector<float> read_row(const KvLayerView& view, bool k, int64_t pos) {
  std::vector<float> out(static_cast<size_t>(view.row_len));
  const GgmlType type = k ? view.k_type : view.v_type;
  const uint16_t* row = k ? view.k_at(pos) : view.v_at(pos);
  if (type == T::Q8_0)
    dequantize_row_q8_0(row, out.data(), view.row_len);
  else
    for (int64_t i = 0; i < view.row_len; ++i) out[static_cast<size_t>(i)] = fp16_to_f32(row[i]);
  return out;
}

TEST(KvCache, TypeNames) {
  EXPECT_EQ(*kv_cache_type_from_name("f16"), T::F16);
  EXPECT_EQ(*kv_cache_type_from_name("q8_0"), T::Q8_0);
  EXPECT_EQ(*kv_cache_type_from_name("Q8_0"), T::Q8_0);
  auto bad = kv_cache_type_from_name("q4_0");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error().message, HasSubstr("f16 or q8_0"));
}

TEST(KvCache, CreateRejectsBadShapesAndTypes) {
  EXPECT_FALSE(KvCache::create(0, 64, 16).ok());
  EXPECT_FALSE(KvCache::create(1, 64, 0).ok());
  EXPECT_FALSE(KvCache::create(1, 64, 16, 4, {T::Q4_0, T::F16}).ok());
  auto odd = KvCache::create(1, 48, 16, 4, {T::F16, T::Q8_0});
  ASSERT_FALSE(odd.ok());
  EXPECT_THAT(odd.error().message, HasSubstr("multiple of 32"));
  EXPECT_TRUE(KvCache::create(1, 48, 16, 4, {T::F16, T::F16}).ok());
}

TEST(KvCache, GrowsInChunksAndRefusesOverflow) {
  for (KvCacheTypes types : {KvCacheTypes{}, KvCacheTypes{T::Q8_0, T::Q8_0}}) {
    auto kv = KvCache::create(2, 64, 10, 4, types);
    ASSERT_TRUE(kv.ok());
    EXPECT_EQ(kv->bytes_allocated(), 0u);
    ASSERT_TRUE(kv->reserve(5).ok());
    EXPECT_EQ(kv->reserved(), 8);
    const size_t row_bytes = types.k == T::Q8_0 ? 2 * 34 : 64 * 2;
    EXPECT_EQ(kv->bytes_allocated(), 2u * 2 * 8 * row_bytes);
    ASSERT_TRUE(kv->reserve(10).ok());
    auto over = kv->reserve(11);
    ASSERT_FALSE(over.ok());
    EXPECT_THAT(over.error().message, HasSubstr("context overflow"));
  }
}

TEST(KvCache, StoresRowsInItsTypes) {
  std::mt19937 rng(7);
  for (KvCacheTypes types : {KvCacheTypes{}, KvCacheTypes{T::Q8_0, T::F16},
                             KvCacheTypes{T::F16, T::Q8_0}, KvCacheTypes{T::Q8_0, T::Q8_0}}) {
    auto kv = KvCache::create(2, 64, 12, 5, types);
    ASSERT_TRUE(kv.ok());
    ASSERT_TRUE(kv->reserve(12).ok());
    std::vector<std::vector<float>> ks, vs;
    for (int64_t p = 0; p < 12; ++p) {
      ks.push_back(random_row(64, rng));
      vs.push_back(random_row(64, rng));
      kv->store(1, p, ks.back().data(), vs.back().data());
    }
    const KvLayerView view = kv->view(1, 12);
    EXPECT_EQ(view.k_type, types.k);
    EXPECT_EQ(view.v_type, types.v);
    for (int64_t p = 0; p < 12; ++p) {
      for (bool is_k : {true, false}) {
        const std::vector<float>& want = is_k ? ks[static_cast<size_t>(p)] : vs[static_cast<size_t>(p)];
        const std::vector<float> got = read_row(view, is_k, p);
        const bool q8 = (is_k ? types.k : types.v) == T::Q8_0;
        for (size_t i = 0; i < want.size(); ++i) {
          if (q8) {
            // Q8_0: within half a step of the block's scale (max |x| / 127).
            float amax = 0;
            for (size_t j = i / 32 * 32; j < i / 32 * 32 + 32; ++j) amax = std::max(amax, std::fabs(want[j]));
            EXPECT_NEAR(got[i], want[i], amax / 127.0f * 0.5f + 1e-3f * amax);
          } else {
            EXPECT_EQ(got[i], fp16_to_f32(f32_to_fp16(want[i])));
          }
        }
      }
    }
    if (types.k == T::F16) {  // the raw F16 accessor the forward pass used to write through
      EXPECT_EQ(kv->k_row(1, 3)[5], f32_to_fp16(ks[3][5]));
    }
  }
}

TEST(KvCache, CopyPrefixBetweenCachesOfOtherChunking) {
  std::mt19937 rng(11);
  for (KvCacheTypes types : {KvCacheTypes{}, KvCacheTypes{T::Q8_0, T::Q8_0}}) {
    auto src = KvCache::create(2, 64, 40, 7, types);
    auto dst = KvCache::create(2, 64, 40, 5, types);
    ASSERT_TRUE(src.ok() && dst.ok());
    ASSERT_TRUE(src->reserve(30).ok());
    for (int64_t l = 0; l < 2; ++l)
      for (int64_t p = 0; p < 30; ++p) {
        const auto k = random_row(64, rng), v = random_row(64, rng);
        src->store(l, p, k.data(), v.data());
      }
    ASSERT_TRUE(dst->copy_prefix_from(*src, 23).ok());
    EXPECT_GE(dst->reserved(), 23);
    for (int64_t l = 0; l < 2; ++l)
      for (int64_t p = 0; p < 23; ++p)
        for (bool is_k : {true, false})
          EXPECT_EQ(read_row(dst->view(l, 23), is_k, p), read_row(src->view(l, 23), is_k, p))
              << "layer " << l << " position " << p;
  }
  auto f16 = KvCache::create(2, 64, 40);
  auto q8 = KvCache::create(2, 64, 40, 8, {T::Q8_0, T::Q8_0});
  ASSERT_TRUE(q8->reserve(4).ok());
  auto mixed = f16->copy_prefix_from(*q8, 4);
  ASSERT_FALSE(mixed.ok());
  EXPECT_THAT(mixed.error().message, HasSubstr("layouts"));
}

// ---- sessions over the synthetic models --------------------------------------------------

bool emulated() {
  const char* cpu = std::getenv("QEMU_CPU");
  return cpu != nullptr && *cpu != '\0';
}

// A copy of the F16 llama file with 16 heads of 16 (same tensor shapes, head size not a
// multiple of 32).
std::filesystem::path write_head16_copy(const std::filesystem::path& source) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("hearth-kv-head16-" + std::to_string(::getpid()) + ".gguf");
  auto file = gguf::File::open(source);
  EXPECT_TRUE(file.ok());
  gguf::Writer w;
  for (const auto& [key, value] : file->metadata()) {
    if (key == "general.alignment") continue;
    w.set(key, value);
  }
  w.set("llama.attention.head_count", gguf::Value::u32(16));
  w.set("llama.attention.head_count_kv", gguf::Value::u32(16));
  w.set("llama.rope.dimension_count", gguf::Value::u32(16));
  for (const auto& t : file->tensors())
    EXPECT_TRUE(w.add_tensor(t.name, t.type, t.ne, std::span<const uint8_t>(t.data, t.nbytes)).ok());
  EXPECT_TRUE(w.write(path).ok());
  return path;
}

TEST(KvCacheSession, Q8_0NeedsAHeadSizeMultipleOf32) {
  const auto source = test::models_dir() / "synth" / "synth-llama-tiny-F16.gguf";
  HEARTH_REQUIRE_FILE(source);
  const auto path = write_head16_copy(source);
  auto model = Model::load(path, *choose_kernels().table);
  std::filesystem::remove(path);
  ASSERT_TRUE(model.ok()) << model.error().message;
  ASSERT_EQ((*model)->config().head_dim, 16);
  ThreadPool pool(1);
  EXPECT_TRUE(Session::create(*model, pool, {.n_ctx = 64}).ok());
  for (KvCacheTypes types : {KvCacheTypes{T::Q8_0, T::F16}, KvCacheTypes{T::F16, T::Q8_0}}) {
    auto s = Session::create(*model, pool, {.n_ctx = 64, .cache_types = types});
    ASSERT_FALSE(s.ok());
    EXPECT_THAT(s.error().message, HasSubstr("multiple of 32"));
    EXPECT_THAT(s.error().message, HasSubstr("16"));
  }
}

double stddev(const std::vector<float>& v) {
  double m = 0;
  for (float x : v) m += x;
  m /= double(v.size());
  double s = 0;
  for (float x : v) s += (x - m) * (x - m);
  return std::sqrt(s / double(v.size()));
}

std::vector<std::string> synth_decoders() {
  if (emulated())  // one file per architecture: the same code, at a fraction of qemu's time
    return {"synth-llama-tiny-Q4_K_M", "synth-llama3-tiny-F16", "synth-qwen2-tiny-Q8_0",
            "synth-phi3-tiny-F16", "synth-stablelm-tiny-Q4_K_M"};
  std::vector<std::string> names;
  const auto dir = test::reference_dir() / "logits";
  if (!std::filesystem::is_directory(dir)) return {"(absent)"};
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".json") names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

class KvCacheQ8Reference : public ::testing::TestWithParam<std::string> {};

// The prompt in one batch and token by token (the decode path), with a Q8_0 K and V cache,
// and with Q8_0 K only (the combination llama.cpp runs without flash attention).
TEST_P(KvCacheQ8Reference, LogitsWithinTheQuantisedTolerance) {
  const auto ref_path = test::reference_dir() / "logits" / (GetParam() + ".json");
  const auto model_path = test::models_dir() / "synth" / (GetParam() + ".gguf");
  HEARTH_REQUIRE_FILE(ref_path);
  HEARTH_REQUIRE_FILE(model_path);
  std::ifstream in(ref_path);
  const nlohmann::json ref = nlohmann::json::parse(in);
  const auto tokens = ref["prompt_tokens"].get<std::vector<int32_t>>();
  auto model = Model::load(model_path, *choose_kernels().table);
  ASSERT_TRUE(model.ok()) << model.error().message;
  const auto n_vocab = static_cast<size_t>((*model)->config().n_vocab);
  ThreadPool pool(2);
  for (KvCacheTypes types : {KvCacheTypes{T::Q8_0, T::Q8_0}, KvCacheTypes{T::Q8_0, T::F16}}) {
    for (size_t batch : {tokens.size(), size_t{1}}) {
      auto session = Session::create(*model, pool, {.n_ctx = 512, .cache_types = types});
      ASSERT_TRUE(session.ok()) << session.error().message;
      double sum_ratio = 0;
      for (size_t i = 0; i < tokens.size(); i += batch) {
        const size_t m = std::min(batch, tokens.size() - i);
        auto logits = session->decode(std::span<const int32_t>(tokens.data() + i, m), true);
        ASSERT_TRUE(logits.ok()) << logits.error().message;
        for (size_t t = 0; t < m; ++t) {
          const auto want = ref["prompt_logits"][i + t].get<std::vector<float>>();
          double sq = 0;
          for (size_t j = 0; j < n_vocab; ++j) {
            const double d = (*logits)[t * n_vocab + j] - want[j];
            sq += d * d;
          }
          const double rms = std::sqrt(sq / double(n_vocab)), sd = stddev(want);
          EXPECT_LE(rms, 0.045 * sd) << GetParam() << " V " << type_traits(types.v).name
                                     << " batch " << batch << " position " << i + t;
          sum_ratio += rms / sd;
        }
      }
      EXPECT_LE(sum_ratio / double(tokens.size()), 0.035)
          << GetParam() << " V " << type_traits(types.v).name << " batch " << batch;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Synth, KvCacheQ8Reference, ::testing::ValuesIn(synth_decoders()),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (char& c : s)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return s;
                         });

// The default cache is F16, and asking for F16 explicitly changes nothing.
TEST(KvCacheSession, DefaultIsF16) {
  const auto path = test::models_dir() / "synth" / "synth-qwen2-tiny-Q8_0.gguf";
  HEARTH_REQUIRE_FILE(path);
  auto model = Model::load(path, *choose_kernels().table);
  ASSERT_TRUE(model.ok());
  ThreadPool pool(1);
  auto a = Session::create(*model, pool, {.n_ctx = 64});
  auto b = Session::create(*model, pool, {.n_ctx = 64, .cache_types = {T::F16, T::F16}});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->kv_cache().types().k, T::F16);
  EXPECT_EQ(a->kv_cache().types().v, T::F16);
  const std::vector<int32_t> ids = {1, 5, 9, 200, 7};
  auto la = a->decode(ids, true);
  const std::vector<float> first(la->begin(), la->end());
  auto lb = b->decode(ids, true);
  EXPECT_EQ(first, std::vector<float>(lb->begin(), lb->end()));
}

}  // namespace
}  // namespace hearth
