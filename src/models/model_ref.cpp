// See model_ref.h.
#include "models/model_ref.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <set>

namespace hearth::models {
namespace {

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(uint8_t(s[i])) != std::tolower(uint8_t(prefix[i]))) return false;
  return true;
}

bool ends_with_ci(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && starts_with_ci(s.substr(s.size() - suffix.size()), suffix);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = char(std::tolower(uint8_t(c)));
  return out;
}

// A Hugging Face owner or repo name: letters, digits, '-', '_', '.'; no "." or ".." alone.
bool valid_repo_part(std::string_view s) {
  if (s.empty() || s.size() > 96 || s == "." || s == "..") return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(uint8_t(c)) || c == '-' || c == '_' || c == '.';
  });
}

// A path inside a repo: segments without "..", no empty segments, no control characters.
bool valid_repo_path(std::string_view s) {
  if (s.empty() || s.front() == '/' || s.back() == '/') return false;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t end = std::min(s.find('/', start), s.size());
    const std::string_view seg = s.substr(start, end - start);
    if (seg.empty() || seg == "." || seg == "..") return false;
    for (char c : seg)
      if (uint8_t(c) < 0x20 || c == '\\' || c == '?' || c == '#') return false;
    start = end + 1;
  }
  return true;
}

std::string percent_encode_segment(std::string_view seg) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : seg) {
    const auto c = uint8_t(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string file_stem_of(std::string_view path) {
  std::string_view base = path.substr(path.rfind('/') == std::string_view::npos ? 0 : path.rfind('/') + 1);
  if (ends_with_ci(base, ".gguf")) base.remove_suffix(5);
  return std::string(base);
}

// "Q4_K_M" appears in `name` bounded by non-alphanumerics (and not followed by "_x").
bool holds_quant_token(std::string_view name, std::string_view quant) {
  const std::string n = lower(name), q = lower(quant);
  for (size_t pos = n.find(q); pos != std::string::npos; pos = n.find(q, pos + 1)) {
    const bool left = pos == 0 || !std::isalnum(uint8_t(n[pos - 1]));
    const size_t after = pos + q.size();
    const bool right = after == n.size() || (!std::isalnum(uint8_t(n[after])) && n[after] != '_');
    if (left && right) return true;
  }
  return false;
}

bool is_split_part(std::string_view name) {
  // llama.cpp's gguf-split names: model-00001-of-00003.gguf.
  const std::string n = lower(name);
  const size_t of = n.find("-of-");
  return of != std::string::npos && of >= 6 && std::isdigit(uint8_t(n[of - 1])) && n[of - 6] == '-';
}

}  // namespace

std::string hf_resolve_url(std::string_view hf_endpoint, std::string_view repo, std::string_view file) {
  std::string url = std::string(hf_endpoint) + "/" + std::string(repo) + "/resolve/main";
  size_t start = 0;
  while (start <= file.size()) {
    const size_t end = std::min(file.find('/', start), file.size());
    url += "/" + percent_encode_segment(file.substr(start, end - start));
    start = end + 1;
  }
  return url;
}

std::string hf_tree_url(std::string_view hf_endpoint, std::string_view repo) {
  return std::string(hf_endpoint) + "/api/models/" + std::string(repo) + "/tree/main?recursive=true";
}

Result<ModelRef> parse_model_ref(std::string_view ref, std::string_view hf_endpoint) {
  ModelRef out;
  if (ref.empty()) return Error{"no model reference given"};
  for (char c : ref)
    if (uint8_t(c) <= 0x20) return Error{"model reference '" + std::string(ref) + "' contains a space or control character"};
  if (starts_with_ci(ref, "http://") || starts_with_ci(ref, "https://")) {
    out.url = std::string(ref);
    std::string_view path = ref.substr(ref.find("//") + 2);
    const size_t slash = path.find('/');
    if (slash == std::string_view::npos || slash == 0) return Error{"URL '" + std::string(ref) + "' has no file path"};
    path = path.substr(slash);
    path = path.substr(0, std::min(path.find('?'), path.find('#')));
    out.default_name = file_stem_of(path);
    return out;
  }
  if (starts_with_ci(ref, "hf.co/")) ref.remove_prefix(6);
  else if (starts_with_ci(ref, "huggingface.co/")) ref.remove_prefix(15);
  const std::string_view usage =
      " (expected owner/repo/file.gguf, owner/repo:file.gguf, hf.co/owner/repo:QUANT or an http(s) URL)";
  std::string_view repo_part = ref, rest;
  if (const size_t colon = ref.find(':'); colon != std::string_view::npos) {
    repo_part = ref.substr(0, colon);
    rest = ref.substr(colon + 1);
    if (rest.empty()) return Error{"model reference '" + std::string(ref) + "' ends with ':'" + std::string(usage)};
  }
  const size_t slash = repo_part.find('/');
  if (slash == std::string_view::npos) return Error{"model reference '" + std::string(ref) + "' names no repo" + std::string(usage)};
  const std::string_view owner = repo_part.substr(0, slash);
  std::string_view name = repo_part.substr(slash + 1);
  std::string_view file;
  if (const size_t second = name.find('/'); second != std::string_view::npos) {
    if (!rest.empty()) return Error{"model reference '" + std::string(ref) + "' gives both a path and a ':' tag" + std::string(usage)};
    file = name.substr(second + 1);
    name = name.substr(0, second);
  }
  if (!valid_repo_part(owner) || !valid_repo_part(name))
    return Error{"'" + std::string(repo_part.substr(0, file.empty() ? repo_part.size() : slash + 1 + name.size())) +
                 "' is not a Hugging Face repo name" + std::string(usage)};
  out.repo = std::string(owner) + "/" + std::string(name);
  if (file.empty() && ends_with_ci(rest, ".gguf")) file = rest;
  if (!file.empty()) {
    if (!valid_repo_path(file)) return Error{"'" + std::string(file) + "' is not a file path in a repo"};
    out.file = std::string(file);
    out.url = hf_resolve_url(hf_endpoint, out.repo, out.file);
    out.default_name = file_stem_of(out.file);
    return out;
  }
  out.quant = rest.empty() ? "Q4_K_M" : std::string(rest);  // Ollama's default for hf.co repos
  if (!std::all_of(out.quant.begin(), out.quant.end(), [](char c) { return std::isalnum(uint8_t(c)) || c == '_' || c == '-' || c == '.'; }))
    return Error{"'" + out.quant + "' is not a quantization tag (like Q4_K_M) or a .gguf file name"};
  return out;
}

Result<std::vector<RepoFile>> parse_hf_tree(std::string_view json_text) {
  const nlohmann::json j = nlohmann::json::parse(json_text, nullptr, false);
  if (!j.is_array()) return Error{"the Hub's file list is not a JSON array"};
  std::vector<RepoFile> files;
  for (const auto& e : j) {
    if (!e.is_object() || !e.contains("type") || e["type"] != "file" || !e.contains("path") || !e["path"].is_string()) continue;
    RepoFile f;
    f.path = e["path"].get<std::string>();
    if (e.contains("size") && e["size"].is_number_unsigned()) f.size = e["size"].get<uint64_t>();
    if (e.contains("lfs") && e["lfs"].is_object()) {
      const auto& lfs = e["lfs"];
      // The LFS oid is the SHA-256 of the file's content (git-lfs spec: "oid sha256:<hex>").
      if (lfs.contains("oid") && lfs["oid"].is_string()) {
        std::string oid = lfs["oid"].get<std::string>();
        if (oid.rfind("sha256:", 0) == 0) oid = oid.substr(7);
        if (oid.size() == 64) f.sha256 = lower(oid);
      }
      if (lfs.contains("size") && lfs["size"].is_number_unsigned()) f.size = lfs["size"].get<uint64_t>();
    }
    files.push_back(std::move(f));
  }
  return files;
}

Result<RepoFile> choose_quant_file(const std::vector<RepoFile>& files, std::string_view quant, std::string_view repo) {
  std::vector<const RepoFile*> matches;
  std::set<std::string> ggufs;
  for (const RepoFile& f : files) {
    if (!ends_with_ci(f.path, ".gguf")) continue;
    const std::string base = f.path.substr(f.path.rfind('/') == std::string::npos ? 0 : f.path.rfind('/') + 1);
    ggufs.insert(base);
    if (holds_quant_token(base, quant)) matches.push_back(&f);
  }
  if (matches.empty()) {
    std::string have;
    for (const auto& g : ggufs) have += (have.empty() ? "" : ", ") + g;
    return Error{"the repo " + std::string(repo) + " has no .gguf file for " + std::string(quant) +
                 (have.empty() ? std::string(" (it has no .gguf files)") : "; it has: " + have)};
  }
  if (std::all_of(matches.begin(), matches.end(), [](const RepoFile* f) { return is_split_part(f->path); }))
    return Error{"the " + std::string(quant) + " model in " + std::string(repo) + " is split into parts (" +
                 matches.front()->path + ", ...); hearth reads single-file GGUFs: merge them with llama-gguf-split --merge"};
  std::erase_if(matches, [](const RepoFile* f) { return is_split_part(f->path); });
  if (matches.size() > 1) {
    std::string names;
    for (const RepoFile* f : matches) names += (names.empty() ? "" : ", ") + f->path;
    return Error{"several files in " + std::string(repo) + " match " + std::string(quant) + ": " + names +
                 "; name one: hearth pull " + std::string(repo) + "/FILE"};
  }
  return *matches.front();
}

Status check_model_name(std::string_view name) {
  if (name.empty()) return Error{"the model name is empty"};
  if (name.size() > 200) return Error{"the model name is longer than 200 characters"};
  if (name.front() == '.') return Error{"the model name '" + std::string(name) + "' starts with '.'"};
  for (char c : name)
    if (!(std::isalnum(uint8_t(c)) || c == '.' || c == '_' || c == '-' || c == '+'))
      return Error{"the model name '" + std::string(name) + "' may only hold letters, digits, '.', '_', '-' and '+' (no '" +
                   std::string(1, c) + "')"};
  return {};
}

std::string normalize_model_name(std::string_view name) {
  constexpr std::string_view kLatest = ":latest";
  if (name.size() > kLatest.size() && name.substr(name.size() - kLatest.size()) == kLatest) name.remove_suffix(kLatest.size());
  if (ends_with_ci(name, ".gguf") && name.size() > 5) name.remove_suffix(5);
  return std::string(name);
}

}  // namespace hearth::models
