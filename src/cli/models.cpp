// `hearth ls [--models-dir DIR] [--json]` and `hearth rm NAME [--models-dir DIR]`: what the
// models folder holds (the folder `hearth pull` fills and `hearth serve --models-dir` serves).
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "models/models_dir.h"

namespace hearth::cli {
namespace {

struct DirArgs {
  std::string models_dir, name;
  bool json = false;
};

std::filesystem::path folder(const DirArgs& a) {
  return models::models_dir(a.models_dir, models::models_dir_env_from_process());
}

std::string iso_time(std::filesystem::file_time_type t) {
  const auto sys = std::chrono::file_clock::to_sys(t);
  const std::time_t tt = std::chrono::system_clock::to_time_t(sys);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

int run_ls(const DirArgs& a) {
  const std::filesystem::path dir = folder(a);
  Result<std::vector<models::LocalModel>> list = models::list_models(dir);
  if (!list) {
    std::fprintf(stderr, "hearth ls: %s\n", list.error().message.c_str());
    return 1;
  }
  std::string out;
  if (a.json) {
    nlohmann::json j = nlohmann::json::array();
    for (const models::LocalModel& m : *list) {
      nlohmann::json e = {{"name", m.name}, {"path", m.path.string()}, {"bytes", m.bytes},
                          {"modified", iso_time(m.modified)}, {"partial", m.partial}};
      if (!m.partial) {
        e["architecture"] = m.architecture;
        e["quant"] = m.quant;
        e["params"] = m.params;
        if (!m.problem.empty()) e["error"] = m.problem;
      }
      j.push_back(std::move(e));
    }
    out = j.dump(2) + "\n";
  } else if (list->empty()) {
    std::fprintf(stderr, "hearth ls: no models in %s (get one with hearth pull)\n", dir.c_str());
  } else {
    out = fmt::format("{:<40} {:>10} {:<8} {:<10} {:>7}  {}\n", "NAME", "SIZE", "QUANT", "ARCH", "PARAMS", "MODIFIED");
    for (const models::LocalModel& m : *list) {
      if (m.partial) {
        out += fmt::format("{:<40} {:>10} {:<8} {:<10} {:>7}  {}\n", m.name, models::human_size(m.bytes),
                           "partial", "-", "-", iso_time(m.modified) + "  (unfinished pull: run it again to resume)");
      } else if (!m.problem.empty()) {
        out += fmt::format("{:<40} {:>10} {:<8} {:<10} {:>7}  {}\n", m.name, models::human_size(m.bytes), "?", "?", "?",
                           iso_time(m.modified) + "  (unreadable: " + m.problem + ")");
      } else {
        out += fmt::format("{:<40} {:>10} {:<8} {:<10} {:>7}  {}\n", m.name, models::human_size(m.bytes),
                           m.quant.empty() ? "?" : m.quant, m.architecture.empty() ? "?" : m.architecture,
                           models::human_params(m.params), iso_time(m.modified));
      }
    }
  }
  if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size() || std::fflush(stdout) != 0) {
    std::fprintf(stderr, "hearth ls: cannot write to stdout\n");
    return 1;
  }
  return 0;
}

int run_rm(const DirArgs& a) {
  Result<std::vector<std::filesystem::path>> removed = models::remove_model(folder(a), a.name);
  if (!removed) {
    std::fprintf(stderr, "hearth rm: %s\n", removed.error().message.c_str());
    return 1;
  }
  for (const auto& p : *removed) std::printf("removed %s\n", p.c_str());
  return 0;
}

}  // namespace

void add_ls_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<DirArgs>();
  CLI::App* cmd = app.add_subcommand("ls", "List the models in the models folder");
  cmd->add_option("--models-dir", args->models_dir, "Models folder (default $HEARTH_MODELS or ~/.local/share/hearth/models)");
  cmd->add_flag("--json", args->json, "Print a JSON array");
  cmd->callback([args, &exit_code] { exit_code = run_ls(*args); });
}

void add_rm_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<DirArgs>();
  CLI::App* cmd = app.add_subcommand("rm", "Remove a model (or an unfinished pull) from the models folder");
  cmd->add_option("name", args->name, "Model name as hearth ls shows it")->required();
  cmd->add_option("--models-dir", args->models_dir, "Models folder (default $HEARTH_MODELS or ~/.local/share/hearth/models)");
  cmd->callback([args, &exit_code] { exit_code = run_rm(*args); });
}

}  // namespace hearth::cli
