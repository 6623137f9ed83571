// The model registry: aliases, tags, a models folder, load on first use, idle unloading, and the
// RAM check (against a fake /proc/meminfo). Loads the tiny synthetic model only.
#include "server/model_registry.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>

#include "test_data.h"

namespace hearth::server {
namespace {

std::filesystem::path synth_path() { return test::models_dir() / "synth" / "synth-llama-tiny-Q8_0.gguf"; }

std::filesystem::path temp_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("hearth-registry-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

RegistryOptions options_for(std::vector<ModelSpec> models) {
  RegistryOptions o;
  o.models = std::move(models);
  o.scheduler.n_slots = 2;
  o.scheduler.n_ctx = 128;
  o.scheduler.n_threads = 1;
  o.check_ram = false;
  return o;
}

ModelSpec spec(std::string alias, std::filesystem::path path) {
  ModelSpec s;
  s.alias = std::move(alias);
  s.path = std::move(path);
  return s;
}

TEST(ModelRegistry, KvBytesAndMemAvailable) {
  ModelConfig c;
  c.n_layer = 22;
  c.n_head_kv = 4;
  c.head_dim = 64;
  // TinyLlama: 2 (K, V) x 22 layers x 2048 positions x 256 halves x 2 bytes = 44 MiB per slot.
  EXPECT_EQ(kv_cache_bytes(c, 2048, 1), 46137344u);
  EXPECT_EQ(kv_cache_bytes(c, 2048, 4), 4 * 46137344u);
  const auto dir = temp_dir("meminfo");
  std::ofstream(dir / "meminfo") << "MemTotal:        8000000 kB\nMemFree:  10 kB\nMemAvailable:    4000000 kB\n";
  EXPECT_EQ(read_mem_available((dir / "meminfo").string()), 4000000ull * 1024);
  EXPECT_FALSE(read_mem_available((dir / "absent").string()).has_value());
  std::filesystem::remove_all(dir);
}

TEST(ModelRegistry, RejectsBadSpecs) {
  EXPECT_FALSE(ModelRegistry::create(options_for({})).ok());
  EXPECT_FALSE(ModelRegistry::create(options_for({spec("x", "/no/such/file.gguf")})).ok());
  HEARTH_REQUIRE_FILE(synth_path());
  Result<std::unique_ptr<ModelRegistry>> twice =
      ModelRegistry::create(options_for({spec("a", synth_path()), spec("a", synth_path())}));
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.error().message.find("twice"), std::string::npos);
}

TEST(ModelRegistry, LoadsOnFirstUseByAliasOrTagAndUnloadsWhenIdle) {
  HEARTH_REQUIRE_FILE(synth_path());
  Result<std::unique_ptr<ModelRegistry>> r = ModelRegistry::create(options_for({spec("tiny", synth_path())}));
  ASSERT_TRUE(r.ok()) << r.error().message;
  ModelRegistry& reg = **r;
  ASSERT_EQ(reg.list().size(), 1u);
  EXPECT_FALSE(reg.list()[0].loaded);
  EXPECT_TRUE(reg.can_serve());

  Acquired missing = reg.acquire("other");
  EXPECT_FALSE(missing.model);
  EXPECT_EQ(missing.error.http_status, 404);

  Acquired a = reg.acquire("tiny");
  ASSERT_TRUE(a.model) << a.error.message;
  EXPECT_EQ(a.model->alias(), "tiny");
  EXPECT_EQ(a.model->scheduler().n_ctx(), 128);
  EXPECT_EQ(a.model->scheduler().stats().n_slots, 2);
  Acquired b = reg.acquire("tiny:latest");
  EXPECT_EQ(b.model, a.model);  // loaded once
  Acquired only = reg.acquire("");  // the only model
  EXPECT_EQ(only.model, a.model);
  EXPECT_TRUE(reg.list()[0].loaded);
  ASSERT_EQ(reg.loaded().size(), 1u);

  // A chat renders through the file's template; BOS once.
  const chat::Message m[] = {{"user", "hi"}};
  Result<std::vector<int32_t>> ids = a.model->render_chat(m);
  ASSERT_TRUE(ids.ok()) << ids.error().message;
  ASSERT_FALSE(ids->empty());
  EXPECT_EQ(ids->front(), a.model->vocab().bos());
  EXPECT_NE((*ids)[1], a.model->vocab().bos());

  reg.set_keep_alive("tiny", std::chrono::seconds(0));  // idle now: unloaded at once
  EXPECT_FALSE(reg.list()[0].loaded);
  EXPECT_TRUE(reg.loaded().empty());
  // The request holding it keeps it usable.
  EXPECT_EQ(a.model->alias(), "tiny");
  Acquired again = reg.acquire("tiny");
  ASSERT_TRUE(again.model);
  EXPECT_NE(again.model, a.model);
}

TEST(ModelRegistry, ModelsFolderByFileStem) {
  HEARTH_REQUIRE_FILE(synth_path());
  const auto dir = temp_dir("folder");
  std::filesystem::create_symlink(synth_path(), dir / "alpha.gguf");
  std::filesystem::create_symlink(synth_path(), dir / "beta.gguf");
  std::ofstream(dir / "notes.txt") << "not a model";
  RegistryOptions o = options_for({});
  o.models_dir = dir;
  Result<std::unique_ptr<ModelRegistry>> r = ModelRegistry::create(o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  std::vector<std::string> aliases;
  for (const ModelEntry& e : (*r)->list()) aliases.push_back(e.alias);
  EXPECT_EQ(aliases, (std::vector<std::string>{"alpha", "beta"}));
  Acquired none = (*r)->acquire("");  // two models: a name is needed
  EXPECT_EQ(none.error.http_status, 404);
  r->reset();
  std::filesystem::remove_all(dir);
}

TEST(ModelRegistry, RamCheckRefusesWithAClearError) {
  HEARTH_REQUIRE_FILE(synth_path());
  const auto dir = temp_dir("ram");
  std::ofstream(dir / "meminfo") << "MemAvailable:    1024 kB\n";
  RegistryOptions o = options_for({spec("tiny", synth_path())});
  o.check_ram = true;
  o.meminfo_path = (dir / "meminfo").string();
  Result<std::unique_ptr<ModelRegistry>> r = ModelRegistry::create(o);
  ASSERT_TRUE(r.ok());
  Acquired a = (*r)->acquire("tiny");
  EXPECT_FALSE(a.model);
  EXPECT_EQ(a.error.http_status, 507);
  EXPECT_NE(a.error.message.find("not enough memory"), std::string::npos) << a.error.message;
  EXPECT_NE(a.error.message.find("--ctx-size"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace hearth::server
