// This board's measured speeds, kept between runs: `hearth bench` records each model file's
// prefill (pp) and generation (tg) rate per thread count and machine, and the router
// (router/local_rates.h) reads them for its cost rule when a [[local]] entry gives no rates.
//
// The store is one small JSON file, `bench-rates.json` in the state directory (docs/router.md):
// $HEARTH_STATE_DIR, else $XDG_STATE_HOME/hearth, else ~/.local/state/hearth. It is rewritten
// whole through a temporary file and rename(), so a reader never sees half a file. JSON rather
// than SQLite: a few dozen rows written once per bench run need no query engine, and no new
// library has to be found for the arm64 cross build and its qemu runs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace hearth::bench {

// Which machine measured a rate: host name and CPU model (a disk moved to another board, or a
// home directory shared over NFS, must not carry one board's figures to another).
struct MachineId {
  std::string host;
  std::string cpu;
  bool operator==(const MachineId&) const = default;
};
MachineId this_machine();

struct StoredRate {
  MachineId machine;
  std::string model;          // absolute path of the model file
  uint64_t model_bytes = 0;   // its size: a file replaced under the same name is another model
  int threads = 0;
  double pp_tok_s = 0;        // 0: not measured
  double tg_tok_s = 0;
  int64_t n_prompt = 0, n_gen = 0;
  std::string time;           // RFC 3339, when measured
};

// $HEARTH_STATE_DIR, $XDG_STATE_HOME/hearth, $HOME/.local/state/hearth; empty when none is set.
std::filesystem::path default_state_dir();

class RateStore {
 public:
  explicit RateStore(std::filesystem::path dir) : file_(std::move(dir) / "bench-rates.json") {}
  const std::filesystem::path& file() const { return file_; }

  // Every stored rate; a missing file is an empty store, a damaged one an Error naming it.
  Result<std::vector<StoredRate>> load() const;
  // Adds the rates, replacing any of the same machine, model file, size and thread count;
  // creates the directory. Atomic (temporary file + rename).
  Status record(const std::vector<StoredRate>& rates) const;
  // The rate of `model` (any spelling of its path) on `machine`: the entry with `threads` if
  // there is one, else the one with the most threads; nullopt when the model was never measured
  // here.
  std::optional<StoredRate> find(const std::filesystem::path& model, const MachineId& machine, int threads = 0) const;

 private:
  std::filesystem::path file_;
};

// The absolute, symlink-resolved spelling of a model path (as stored), or the path as given.
std::string canonical_model_path(const std::filesystem::path& model);

}  // namespace hearth::bench
