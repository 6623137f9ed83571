// `hearth doctor [--json] [--sysfs-root DIR] [-m MODEL.gguf | --models-dir DIR] [--threads N]`:
// checks the board against what the Raspberry Pi LLM guides warn about — storage, RAM and swap,
// threads, governor, temperature under load, throttling and under-voltage, SIMD level — and says
// what to fix. The checks live in src/doctor/; this file parses the command line and prints.
//
// Exit code: 0 when no check failed (warnings allowed), 1 when one failed, 2 for a usage error.
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "doctor/doctor.h"

namespace hearth::cli {
namespace {

struct DoctorArgs {
  bool json = false;
  std::string sysfs_root = "/";
  std::string model, models_dir;
  std::optional<int> threads;
  int64_t ctx = 4096;
  double load_seconds = 5;
  int64_t read_mib = 256;
};

int usage_error(const std::string& message) {
  std::fprintf(stderr, "hearth doctor: %s\n", message.c_str());
  return 2;
}

int run_doctor_command(const DoctorArgs& a) {
  if (!a.model.empty() && !a.models_dir.empty()) return usage_error("give -m MODEL.gguf or --models-dir DIR, not both");
  if (a.threads && (*a.threads <= 0 || *a.threads > 4096)) return usage_error("--threads must be between 1 and 4096");
  if (a.ctx <= 0) return usage_error("--ctx must be positive");
  if (!(a.load_seconds >= 0 && a.load_seconds <= 120)) return usage_error("--load-seconds must be between 0 and 120");
  if (a.read_mib < 1 || a.read_mib > 16384) return usage_error("--read-mib must be between 1 and 16384");
  doctor::Options o;
  Result<system::SystemRoot> root = system::system_root_at(a.sysfs_root);
  if (!root) return usage_error(root.error().message);
  o.root = *root;
  std::error_code ec;
  if (!a.model.empty()) {
    if (!std::filesystem::is_regular_file(a.model, ec)) return usage_error(a.model + ": no such file");
    o.models.push_back(a.model);
  } else if (!a.models_dir.empty()) {
    Result<std::vector<std::filesystem::path>> models = doctor::models_in(a.models_dir);
    if (!models) return usage_error(models.error().message);
    if (models->empty()) std::fprintf(stderr, "hearth doctor: no *.gguf in %s\n", a.models_dir.c_str());
    o.models = std::move(*models);
  }
  o.threads = a.threads;
  o.ctx = a.ctx;
  o.load_seconds = a.load_seconds;
  o.read_bytes = uint64_t(a.read_mib) << 20;
  if (!a.json) {
    std::fprintf(stderr, "hearth doctor: checking (%.0f s of load on every core, then the readings)...\n", a.load_seconds);
  }
  const std::vector<doctor::Check> checks = doctor::run_doctor(o);
  const std::string text = a.json ? doctor::to_json(checks).dump(2) + "\n"
                                  : doctor::format_text(checks, system::read_board_model(o.root));
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0) {
    std::fprintf(stderr, "hearth doctor: cannot write to stdout\n");
    return 2;
  }
  return doctor::exit_code(checks);
}

}  // namespace

void add_doctor_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<DoctorArgs>();
  CLI::App* cmd = app.add_subcommand("doctor", "Check this board: storage, RAM, governor, heat, power, SIMD");
  cmd->add_flag("--json", args->json, "Print a JSON list of {check, status, detail, fix}");
  cmd->add_option("--sysfs-root", args->sysfs_root, "Read DIR/sys and DIR/proc instead of the live machine")
      ->capture_default_str();
  cmd->add_option("-m,--model", args->model, "GGUF model to check (storage, read speed, fit in RAM)");
  cmd->add_option("--models-dir", args->models_dir, "Check the models of this folder (the largest for speed)");
  cmd->add_option("-t,--threads", args->threads, "Thread count you run hearth with");
  cmd->add_option("-c,--ctx", args->ctx, "Context the RAM check plans for")->capture_default_str();
  cmd->add_option("--load-seconds", args->load_seconds, "Seconds of full load for the temperature check (0: skip)")
      ->capture_default_str();
  cmd->add_option("--read-mib", args->read_mib, "MiB of the model read for the speed test")->capture_default_str();
  cmd->callback([args, &exit_code] { exit_code = run_doctor_command(*args); });
}

}  // namespace hearth::cli
