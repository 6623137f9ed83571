// See models_dir.h.
#include "models/models_dir.h"

#include <algorithm>
#include <cstdlib>
#include <map>

#include <fmt/format.h>

#include "gguf/reader.h"
#include "models/model_ref.h"
#include "quant/ggml_type.h"
#include "tools/quant_mix.h"

namespace hearth::models {
namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

void read_header(LocalModel& m) {
  Result<gguf::File> f = gguf::File::open(m.path);
  if (!f) {
    m.problem = f.error().message;
    return;
  }
  if (Result<std::string> arch = f->get_string("general.architecture")) m.architecture = *arch;
  std::map<std::string, uint64_t> bytes_per_type;
  for (const gguf::TensorInfo& t : f->tensors()) {
    m.params += t.n_elements();
    if (t.ne.size() >= 2) bytes_per_type[std::string(type_traits(t.type).name)] += t.nbytes;
  }
  if (Result<uint64_t> ft = f->get_uint("general.file_type")) m.quant = file_type_name(uint32_t(*ft));
  if (m.quant.empty() && !bytes_per_type.empty())  // no (known) file type: the type most weight bytes have
    m.quant = std::max_element(bytes_per_type.begin(), bytes_per_type.end(),
                               [](const auto& a, const auto& b) { return a.second < b.second; })->first;
}

}  // namespace

ModelsDirEnv models_dir_env_from_process() {
  ModelsDirEnv env;
  if (const char* v = std::getenv("HEARTH_MODELS")) env.hearth_models = v;
  if (const char* v = std::getenv("XDG_DATA_HOME")) env.xdg_data_home = v;
  if (const char* v = std::getenv("HOME")) env.home = v;
  return env;
}

std::filesystem::path models_dir(std::string_view flag, const ModelsDirEnv& env) {
  if (!flag.empty()) return std::filesystem::path(flag);
  if (!env.hearth_models.empty()) return env.hearth_models;
  if (!env.xdg_data_home.empty()) return std::filesystem::path(env.xdg_data_home) / "hearth" / "models";
  if (!env.home.empty()) return std::filesystem::path(env.home) / ".local" / "share" / "hearth" / "models";
  return "models";
}

std::string file_type_name(uint32_t file_type) {
  // llama_ftype values; the mixes hearth quantizes to know their own, the rest are listed here.
  for (const std::string& name : quant_mix_names())
    if (std::optional<QuantMix> mix = parse_quant_mix(name); mix && mix->file_type == file_type) return mix->name;
  switch (file_type) {
    case 0: return "F32";
    case 1: return "F16";
    case 16: return "IQ2_XXS";
    case 17: return "IQ2_XS";
    case 19: return "IQ3_XXS";
    case 20: return "IQ1_S";
    case 23: return "IQ3_M";
    case 24: return "IQ2_S";
    case 25: return "IQ2_M";
    case 31: return "IQ1_M";
    case 32: return "BF16";
    default: return "";
  }
}

Result<std::vector<LocalModel>> list_models(const std::filesystem::path& dir) {
  std::vector<LocalModel> out;
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return out;
  if (!std::filesystem::is_directory(dir, ec)) return Error{"models folder " + dir.string() + " is not a directory"};
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) return Error{"cannot read the models folder " + dir.string() + ": " + ec.message()};
  for (const auto& e : it) {
    if (!e.is_regular_file(ec)) continue;
    const std::string file = e.path().filename().string();
    LocalModel m;
    if (ends_with(file, ".gguf.partial")) {
      m.partial = true;
      m.name = file.substr(0, file.size() - 13);
    } else if (ends_with(file, ".gguf")) {
      m.name = file.substr(0, file.size() - 5);
    } else {
      continue;
    }
    m.path = e.path();
    m.bytes = e.file_size(ec);
    m.modified = e.last_write_time(ec);
    if (!m.partial) read_header(m);
    out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(), [](const LocalModel& a, const LocalModel& b) {
    return a.name != b.name ? a.name < b.name : a.partial < b.partial;
  });
  return out;
}

Result<std::vector<std::filesystem::path>> remove_model(const std::filesystem::path& dir, std::string_view name_in) {
  if (name_in.find('/') != std::string_view::npos || name_in.find('\\') != std::string_view::npos)
    return Error{"'" + std::string(name_in) + "' is a path; hearth rm takes a model name from hearth ls"};
  std::string name = normalize_model_name(name_in);
  if (ends_with(name, ".gguf.partial")) name = name.substr(0, name.size() - 13);
  if (Status s = check_model_name(name); !s) return s.error();
  std::vector<std::filesystem::path> removed;
  for (const std::filesystem::path& p : {dir / (name + ".gguf"), dir / (name + ".gguf.partial")}) {
    std::error_code ec;
    // symlink_status: a link is removed, never what it points to.
    if (!std::filesystem::exists(std::filesystem::symlink_status(p, ec))) continue;
    if (std::filesystem::is_directory(std::filesystem::symlink_status(p, ec)))
      return Error{p.string() + " is a directory; hearth rm only removes model files"};
    if (!std::filesystem::remove(p, ec) || ec) return Error{"cannot remove " + p.string() + ": " + ec.message()};
    removed.push_back(p);
  }
  if (removed.empty()) {
    std::string have;
    if (Result<std::vector<LocalModel>> all = list_models(dir))
      for (const LocalModel& m : *all) have += (have.empty() ? "" : ", ") + m.name + (m.partial ? " (partial)" : "");
    return Error{"no model named '" + name + "' in " + dir.string() +
                 (have.empty() ? std::string(" (the folder holds none)") : "; it holds: " + have)};
  }
  return removed;
}

std::string human_size(uint64_t b) {
  const double v = double(b);
  if (b >= (1ull << 30)) return fmt::format("{:.1f} GiB", v / double(1ull << 30));
  if (b >= (1ull << 20)) return fmt::format("{:.0f} MiB", v / double(1ull << 20));
  if (b >= (1ull << 10)) return fmt::format("{:.0f} KiB", v / 1024.0);
  return fmt::format("{} B", b);
}

std::string human_params(int64_t p) {
  if (p >= 1'000'000'000) return fmt::format("{:.1f}B", double(p) / 1e9);
  if (p >= 1'000'000) return fmt::format("{:.0f}M", double(p) / 1e6);
  if (p >= 1'000) return fmt::format("{:.0f}K", double(p) / 1e3);
  return std::to_string(p);
}

}  // namespace hearth::models
