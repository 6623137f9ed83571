// What `hearth pull REF` names, before anything is fetched:
//   https://host/path/file.gguf         a URL, fetched as it is
//   owner/repo/file.gguf                a file in a Hugging Face repo (subfolders allowed)
//   owner/repo:file.gguf                the same, Ollama-style
//   hf.co/owner/repo:Q4_K_M             a quantization: the repo's one *.gguf whose name holds
//   owner/repo:Q4_K_M                   the tag (listed through the Hub's tree API first)
//   hf.co/owner/repo                    the same with Q4_K_M, Ollama's default
// and the file names the models folder uses (the server names a model after its file stem).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace hearth::models {

// https://huggingface.co; HF_ENDPOINT (as huggingface_hub reads it) points at a mirror.
inline constexpr std::string_view kDefaultHfEndpoint = "https://huggingface.co";

struct ModelRef {
  std::string url;          // set for a URL or a repo file: what to download
  std::string repo;         // "owner/repo" for Hugging Face references
  std::string file;         // path of the file inside the repo ("" until a quant is resolved)
  std::string quant;        // set when the file is still to be chosen by quantization tag
  std::string default_name; // the model's name in the folder (file stem without .gguf)
};

// Parses REF; errors say what form was expected. `hf_endpoint` has no trailing slash.
Result<ModelRef> parse_model_ref(std::string_view ref, std::string_view hf_endpoint);

// https://ENDPOINT/owner/repo/resolve/main/PATH (each path segment percent-encoded).
std::string hf_resolve_url(std::string_view hf_endpoint, std::string_view repo, std::string_view file);
// https://ENDPOINT/api/models/owner/repo/tree/main?recursive=true: the repo's files as JSON.
std::string hf_tree_url(std::string_view hf_endpoint, std::string_view repo);

struct RepoFile {
  std::string path;
  std::string sha256;  // the LFS oid (the file's SHA-256); "" for a non-LFS file
  uint64_t size = 0;
};
// The files of a tree API answer (a JSON array of {type, path, size, lfs: {oid, size}}).
Result<std::vector<RepoFile>> parse_hf_tree(std::string_view json_text);
// The one *.gguf whose name contains `quant` as a whole token (case-insensitive; "Q4_K_M"
// matches "model-Q4_K_M.gguf", not "model-Q4_K_M_L.gguf"); split files (-00001-of-00003) are
// refused by name. Errors list the quantizations the repo has.
Result<RepoFile> choose_quant_file(const std::vector<RepoFile>& files, std::string_view quant,
                                   std::string_view repo);

// A model name usable as a file stem in the models folder: letters, digits, '.', '_', '-', '+'
// (no '/', no leading '.', at most 200 characters). Returns an error naming the problem.
Status check_model_name(std::string_view name);
// NAME as a user may type it for ls/rm/serve: "qwen", "qwen.gguf" and "qwen:latest" are one.
std::string normalize_model_name(std::string_view name);

}  // namespace hearth::models
