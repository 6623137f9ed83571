// The cost rule's rates: `hearth bench` figures kept in the state directory (bench/rate_store.h)
// and where a [[local]] entry's rates come from (router/local_rates.h): config, stored figures
// of this machine for this model file, the planner, the [route] defaults. Files only; no sockets.
#include "router/local_rates.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "test_data.h"

namespace hearth::router {
namespace {

std::filesystem::path synth_path() { return test::models_dir() / "synth" / "synth-llama-tiny-Q8_0.gguf"; }

struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& name)
      : path(std::filesystem::temp_directory_path() / ("hearth-rates-" + name + "-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

bench::StoredRate rate(const std::filesystem::path& model, int threads, double pp, double tg) {
  bench::StoredRate r;
  r.machine = {"box", "cpu"};
  r.model = bench::canonical_model_path(model);
  std::error_code ec;
  r.model_bytes = std::filesystem::file_size(model, ec);
  r.threads = threads;
  r.pp_tok_s = pp;
  r.tg_tok_s = tg;
  r.time = "2026-12-03T07:00:00Z";
  return r;
}

TEST(RateStore, RecordsReplacesAndFinds) {
  HEARTH_REQUIRE_FILE(synth_path());
  TempDir dir("store");
  const bench::RateStore store(dir.path / "nested");
  EXPECT_TRUE(store.load()->empty());  // no file yet: an empty store
  ASSERT_TRUE(store.record({rate(synth_path(), 2, 100, 10), rate(synth_path(), 4, 180, 16)}).ok());
  ASSERT_TRUE(store.record({rate(synth_path(), 4, 200, 20)}).ok());  // same slot: replaced
  EXPECT_EQ(store.load()->size(), 2u);
  EXPECT_TRUE(std::filesystem::exists(store.file()));

  std::optional<bench::StoredRate> r = store.find(synth_path(), {"box", "cpu"}, 2);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->threads, 2);
  EXPECT_DOUBLE_EQ(r->pp_tok_s, 100);
  r = store.find(synth_path(), {"box", "cpu"}, 3);  // no exact thread count: the most threads
  ASSERT_TRUE(r);
  EXPECT_EQ(r->threads, 4);
  EXPECT_DOUBLE_EQ(r->tg_tok_s, 20);
  // Another spelling of the same path.
  r = store.find(synth_path().parent_path() / "." / synth_path().filename(), {"box", "cpu"});
  ASSERT_TRUE(r);
  // Another machine, another file: nothing.
  EXPECT_FALSE(store.find(synth_path(), {"other", "cpu"}));
  EXPECT_FALSE(store.find(synth_path().parent_path() / "synth-llama-tiny-F16.gguf", {"box", "cpu"}));
}

TEST(RateStore, DamagedFileIsAnErrorNamingIt) {
  TempDir dir("damaged");
  std::filesystem::create_directories(dir.path);
  std::ofstream(dir.path / "bench-rates.json") << "{not json";
  const bench::RateStore store(dir.path);
  Result<std::vector<bench::StoredRate>> r = store.load();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("bench-rates.json"), std::string::npos) << r.error().message;
  EXPECT_FALSE(store.record({}).ok());  // never overwrites what it cannot read
}

TEST(RateStore, StateDirFromTheEnvironment) {
  const char* saved = std::getenv("HEARTH_STATE_DIR");
  const std::string keep = saved ? saved : "";
  ::setenv("HEARTH_STATE_DIR", "/tmp/hearth-state-x", 1);
  EXPECT_EQ(bench::default_state_dir(), "/tmp/hearth-state-x");
  ::unsetenv("HEARTH_STATE_DIR");
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg && *xdg)
    EXPECT_EQ(bench::default_state_dir(), std::filesystem::path(xdg) / "hearth");
  else if (const char* home = std::getenv("HOME"); home && *home)
    EXPECT_EQ(bench::default_state_dir(), std::filesystem::path(home) / ".local/state/hearth");
  if (saved) ::setenv("HEARTH_STATE_DIR", keep.c_str(), 1);
}

TEST(LocalRates, ConfigThenBenchThenPlannerThenDefaults) {
  HEARTH_REQUIRE_FILE(synth_path());
  TempDir dir("fill");
  const bench::RateStore store(dir.path);
  ASSERT_TRUE(store.record({rate(synth_path(), 4, 300, 30)}).ok());
  RouterConfig c;
  c.locals.push_back({.name = "configured", .model = synth_path(), .prefill_tps = 7, .gen_tps = 3});
  c.locals.push_back({.name = "benched", .model = synth_path()});
  c.locals.push_back({.name = "planned", .model = synth_path().parent_path() / "synth-llama-tiny-F16.gguf"});
  int device_calls = 0;
  RateLookup lookup;
  lookup.store = &store;
  lookup.machine = {"box", "cpu"};
  lookup.threads = 4;
  lookup.device = [&]() -> std::optional<plan::Device> {
    ++device_calls;
    Result<plan::Device> d = plan::device_profile("pi5");
    return d ? std::optional<plan::Device>(*d) : std::nullopt;
  };
  const std::vector<std::string> lines = fill_local_rates(c, lookup);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_DOUBLE_EQ(c.locals[0].prefill_tps, 7);
  EXPECT_NE(lines[0].find("(config)"), std::string::npos) << lines[0];
  EXPECT_DOUBLE_EQ(c.locals[1].prefill_tps, 300);
  EXPECT_DOUBLE_EQ(c.locals[1].gen_tps, 30);
  EXPECT_NE(lines[1].find("hearth bench, 4 threads"), std::string::npos) << lines[1];
  if (std::filesystem::exists(c.locals[2].model)) {
    EXPECT_GT(c.locals[2].prefill_tps, 0);
    EXPECT_GT(c.locals[2].gen_tps, 0);
    EXPECT_NE(lines[2].find("planner estimate"), std::string::npos) << lines[2];
    EXPECT_EQ(device_calls, 1);
  }
  // Neither store nor planner: the [route] defaults stay (rates 0 mean "use them").
  RouterConfig d;
  d.locals.push_back({.name = "bare", .model = synth_path()});
  const std::vector<std::string> bare = fill_local_rates(d, RateLookup{});
  EXPECT_EQ(d.locals[0].prefill_tps, 0);
  EXPECT_NE(bare[0].find("default"), std::string::npos);
}

}  // namespace
}  // namespace hearth::router
