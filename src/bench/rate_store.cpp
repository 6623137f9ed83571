// See rate_store.h.
#include "bench/rate_store.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bench/runner.h"

namespace hearth::bench {
namespace {

using json = nlohmann::json;

json to_json(const StoredRate& r) {
  return {{"host", r.machine.host}, {"cpu", r.machine.cpu}, {"model", r.model}, {"model_bytes", r.model_bytes},
          {"threads", r.threads}, {"pp_tok_s", r.pp_tok_s}, {"tg_tok_s", r.tg_tok_s}, {"n_prompt", r.n_prompt},
          {"n_gen", r.n_gen}, {"time", r.time}};
}

StoredRate from_json(const json& j) {
  StoredRate r;
  r.machine.host = j.value("host", "");
  r.machine.cpu = j.value("cpu", "");
  r.model = j.value("model", "");
  r.model_bytes = j.value("model_bytes", uint64_t(0));
  r.threads = j.value("threads", 0);
  r.pp_tok_s = j.value("pp_tok_s", 0.0);
  r.tg_tok_s = j.value("tg_tok_s", 0.0);
  r.n_prompt = j.value("n_prompt", int64_t(0));
  r.n_gen = j.value("n_gen", int64_t(0));
  r.time = j.value("time", "");
  return r;
}

bool same_slot(const StoredRate& a, const StoredRate& b) {
  return a.machine == b.machine && a.model == b.model && a.model_bytes == b.model_bytes && a.threads == b.threads;
}

}  // namespace

MachineId this_machine() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = 0;
  return {host, read_cpu_info()};
}

std::filesystem::path default_state_dir() {
  auto env = [](const char* name) -> std::string {
    const char* v = std::getenv(name);
    return v ? v : "";
  };
  if (std::string d = env("HEARTH_STATE_DIR"); !d.empty()) return d;
  if (std::string d = env("XDG_STATE_HOME"); !d.empty()) return std::filesystem::path(d) / "hearth";
  if (std::string d = env("HOME"); !d.empty()) return std::filesystem::path(d) / ".local" / "state" / "hearth";
  return {};
}

std::string canonical_model_path(const std::filesystem::path& model) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::weakly_canonical(model, ec);
  return ec ? model.string() : p.string();
}

Result<std::vector<StoredRate>> RateStore::load() const {
  std::ifstream in(file_);
  if (!in) return std::vector<StoredRate>{};
  std::stringstream ss;
  ss << in.rdbuf();
  json j = json::parse(ss.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("rates") || !j["rates"].is_array())
    return Error{file_.string() + ": not a hearth bench rate store (expected {\"rates\": [...]}); delete it to start anew"};
  std::vector<StoredRate> out;
  try {
    for (const json& e : j["rates"])
      if (e.is_object()) out.push_back(from_json(e));
  } catch (const json::exception& e) {
    return Error{file_.string() + ": a damaged entry (" + e.what() + ")"};
  }
  return out;
}

Status RateStore::record(const std::vector<StoredRate>& rates) const {
  Result<std::vector<StoredRate>> old = load();
  if (!old) return old.error();
  std::vector<StoredRate> all = std::move(*old);
  for (const StoredRate& r : rates) {
    std::erase_if(all, [&](const StoredRate& o) { return same_slot(o, r); });
    all.push_back(r);
  }
  json j = {{"version", 1}, {"rates", json::array()}};
  for (const StoredRate& r : all) j["rates"].push_back(to_json(r));
  std::error_code ec;
  std::filesystem::create_directories(file_.parent_path(), ec);
  if (ec) return Error{"cannot create " + file_.parent_path().string() + ": " + ec.message()};
  // A temporary name of this process, then rename(): readers see the old file or the new one.
  const std::filesystem::path tmp = file_.string() + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";  // a non-UTF-8 path must not throw
    out.flush();
    if (!out) {
      std::filesystem::remove(tmp, ec);
      return Error{"cannot write " + tmp.string()};
    }
  }
  std::filesystem::rename(tmp, file_, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return Error{"cannot replace " + file_.string() + ": " + ec.message()};
  }
  return {};
}

std::optional<StoredRate> RateStore::find(const std::filesystem::path& model, const MachineId& machine,
                                          int threads) const {
  Result<std::vector<StoredRate>> all = load();
  if (!all) return std::nullopt;
  const std::string path = canonical_model_path(model);
  std::error_code ec;
  const uint64_t bytes = std::filesystem::file_size(model, ec);
  std::optional<StoredRate> best;
  for (const StoredRate& r : *all) {
    if (r.machine != machine || r.model != path || (!ec && r.model_bytes != bytes)) continue;
    if (r.pp_tok_s <= 0 && r.tg_tok_s <= 0) continue;
    const bool exact = threads > 0 && r.threads == threads;
    const bool best_exact = best && threads > 0 && best->threads == threads;
    if (!best || (exact && !best_exact) || (!best_exact && r.threads > best->threads)) best = r;
  }
  return best;
}

}  // namespace hearth::bench
