// The models folder as `hearth pull`, `ls` and `rm` see it: the same folder `hearth serve
// --models-dir` serves, with the same naming: a model is DIR/NAME.gguf and is called NAME (its
// file stem). A pull in progress or interrupted is DIR/NAME.gguf.partial, which serve ignores.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace hearth::models {

// --models-dir, else $HEARTH_MODELS, else $XDG_DATA_HOME/hearth/models, else
// ~/.local/share/hearth/models. `flag` may be empty; the environment is passed in, not read.
struct ModelsDirEnv {
  std::string hearth_models, xdg_data_home, home;
};
std::filesystem::path models_dir(std::string_view flag, const ModelsDirEnv& env);
ModelsDirEnv models_dir_env_from_process();

struct LocalModel {
  std::string name;                  // the file stem: what serve and rm call it
  std::filesystem::path path;
  uint64_t bytes = 0;
  std::filesystem::file_time_type modified;
  bool partial = false;              // NAME.gguf.partial: an unfinished pull
  // From the GGUF header (complete files only; empty/zero when the header cannot be read, with
  // the reason in `problem`).
  std::string architecture;
  std::string quant;                 // "Q4_K_M" from general.file_type, else the commonest weight type
  int64_t params = 0;
  std::string problem;
};

// Every *.gguf and *.gguf.partial in the folder, by name. A missing folder is an empty list.
Result<std::vector<LocalModel>> list_models(const std::filesystem::path& dir);

// The quantization name of a llama.cpp file type (general.file_type), "" when unknown.
std::string file_type_name(uint32_t file_type);

// Removes NAME.gguf (and NAME.gguf.partial) from the folder. NAME is a model name, not a path:
// anything with '/' or that would leave the folder is refused; an unknown name is an error that
// lists what the folder holds. Returns the paths removed.
Result<std::vector<std::filesystem::path>> remove_model(const std::filesystem::path& dir, std::string_view name);

// "2.0 GiB", "512 MiB", "12 KiB", "100 B".
std::string human_size(uint64_t bytes);
// "1.1B", "494M".
std::string human_params(int64_t params);

}  // namespace hearth::models
