// `hearth doctor`: the things the Raspberry Pi LLM guides warn about, checked on this board, each
// with a verdict and what to do. The checks are pure functions of readings (judge_*), so the
// rules are tested on fixture values; run_doctor() takes the readings (through src/system/, so
// `--sysfs-root DIR` points every one of them at a fixture tree) and calls them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "kernels/kernels.h"
#include "plan/planner.h"
#include "system/machine.h"
#include "system/storage.h"

namespace hearth::doctor {

enum class Verdict { kOk, kWarn, kFail };
const char* verdict_name(Verdict v);  // "ok", "warn", "fail" (the JSON values)

struct Check {
  std::string check;   // "storage", "read_speed", "memory", "swap", "threads", "governor",
                       // "temperature", "power", "simd"
  Verdict status = Verdict::kOk;
  std::string detail;  // what was measured, with the numbers
  std::string fix;     // what to do; empty when there is nothing to do
};

// ---- the rules ---------------------------------------------------------------------------
Check judge_storage(const std::filesystem::path& model, const Result<system::BlockDevice>& device);
// `file_bytes`: the whole model, to say how long a cold load takes at the measured speed.
Check judge_read_speed(const std::filesystem::path& model, uint64_t file_bytes, const Result<system::ReadSpeed>& speed);

// One model's memory need at the doctor's context, from the planner (src/plan).
struct ModelNeed {
  std::string name;
  Result<plan::Plan> plan = Error{};
};
Check judge_memory(const Result<system::MemInfo>& mem, const std::vector<ModelNeed>& models, int64_t ctx);
Check judge_swap(const Result<system::MemInfo>& mem);
Check judge_threads(std::optional<int> threads, int cores);
Check judge_governor(const system::Clocks& clocks, bool is_pi);

// Temperature before and under the load, the hottest reading during it, and the slowest clock
// seen while loaded (a clock below the maximum while hot is the firmware throttling).
struct LoadReadings {
  system::Temperature idle;
  std::optional<double> load_max_c;
  std::optional<double> load_clock_min_mhz;
  std::optional<double> clock_max_mhz;
  double seconds = 0;  // 0: no load was run
  int threads = 0;
};
Check judge_temperature(const LoadReadings& r);
Check judge_power(const system::Throttle& throttle, const std::string& board_model);
// `chosen`: the kernels' level (HEARTH_ISA or the best); `best`: what the CPU can run.
Check judge_simd(Isa chosen, Isa best, const std::string& board_model);

// ---- running them ------------------------------------------------------------------------
struct Options {
  system::SystemRoot root;
  std::vector<std::filesystem::path> models;  // -m FILE, or every *.gguf of --models-dir
  std::optional<int> threads;                 // --threads as the user will run hearth
  int64_t ctx = 4096;                         // context the memory check plans for
  double load_seconds = 5;                    // the busy loop on all cores; 0 skips it
  uint64_t read_bytes = 256ull << 20;         // of the model file, for the read speed
  double read_seconds = 5;                    // bound on the read test
};
// The models of a --models-dir: every *.gguf, largest first; an Error naming the folder when it
// cannot be listed.
Result<std::vector<std::filesystem::path>> models_in(const std::filesystem::path& dir);

std::vector<Check> run_doctor(const Options& options);
// Runs every core flat out for `seconds`, sampling temperature and clocks; what the
// temperature check judges.
LoadReadings measure_under_load(const system::SystemRoot& root, double seconds, int threads);

// "[ OK ] storage     ..." lines with "fix: ..." under each that has one.
std::string format_text(const std::vector<Check>& checks, const std::string& board_model);
nlohmann::json to_json(const std::vector<Check>& checks);
// 0 unless a check failed (1); warnings alone do not fail the command.
int exit_code(const std::vector<Check>& checks);

}  // namespace hearth::doctor
