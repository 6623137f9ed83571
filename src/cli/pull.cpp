// `hearth pull REF [--models-dir DIR] [--sha256 HEX] [--name NAME]`: a GGUF from Hugging Face or
// a URL into the models folder `hearth serve --models-dir` serves. What REF may be is in
// models/model_ref.h; how the bytes are fetched and checked in models/download.h.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/progress_bar.h"
#include "core/sha256.h"
#include "models/download.h"
#include "models/model_ref.h"
#include "models/models_dir.h"

namespace hearth::cli {
namespace {

struct PullArgs {
  std::string ref, models_dir, sha256, name;
  bool quiet = false;
};

int fail(const std::string& message) {
  std::fprintf(stderr, "hearth pull: %s\n", message.c_str());
  return 1;
}

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

int run_pull(const PullArgs& a) {
  if (!models::download_supported()) return fail(models::download_file({}).error().message);
  std::string endpoint = env_or("HF_ENDPOINT", std::string(models::kDefaultHfEndpoint));
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  // huggingface_hub's names for the token: HF_TOKEN, and the older HUGGING_FACE_HUB_TOKEN.
  const std::string token = env_or("HF_TOKEN", env_or("HUGGING_FACE_HUB_TOKEN", ""));
  if (!a.sha256.empty() && !is_sha256_hex(a.sha256)) return fail("--sha256 must be 64 hex digits, got '" + a.sha256 + "'");

  Result<models::ModelRef> ref = models::parse_model_ref(a.ref, endpoint);
  if (!ref) return fail(ref.error().message);
  // The token goes only to the Hub (and never to the CDN it redirects to): a URL elsewhere must
  // not learn it.
  const bool to_hub = ref->url.empty() || ref->url.rfind(endpoint + "/", 0) == 0;
  const std::string hub_token = to_hub ? token : "";
  std::string expected_sha = a.sha256;
  std::string sha_source = a.sha256.empty() ? "" : "--sha256";
  if (!ref->quant.empty()) {
    Result<std::string> tree = models::fetch_text(models::hf_tree_url(endpoint, ref->repo), hub_token);
    if (!tree) return fail(tree.error().message);
    Result<std::vector<models::RepoFile>> files = models::parse_hf_tree(*tree);
    if (!files) return fail(files.error().message);
    Result<models::RepoFile> chosen = models::choose_quant_file(*files, ref->quant, ref->repo);
    if (!chosen) return fail(chosen.error().message);
    ref->file = chosen->path;
    ref->url = models::hf_resolve_url(endpoint, ref->repo, ref->file);
    const std::string base = ref->file.substr(ref->file.rfind('/') == std::string::npos ? 0 : ref->file.rfind('/') + 1);
    ref->default_name = models::normalize_model_name(base);
    if (expected_sha.empty() && !chosen->sha256.empty()) expected_sha = chosen->sha256, sha_source = "the Hub's file list";
  }
  const std::string name = a.name.empty() ? ref->default_name : models::normalize_model_name(a.name);
  if (Status s = models::check_model_name(name); !s)
    return fail(s.error().message + (a.name.empty() ? "; choose one with --name" : ""));

  const std::filesystem::path dir = models::models_dir(a.models_dir, models::models_dir_env_from_process());
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fail("cannot create the models folder " + dir.string() + ": " + ec.message());
  const std::filesystem::path dest = dir / (name + ".gguf");
  if (std::filesystem::exists(dest, ec))
    return fail(dest.string() + " already exists; remove it first with: hearth rm " + name);

  models::DownloadOptions o;
  o.url = ref->url;
  o.dest = dest;
  o.expected_sha256 = expected_sha;
  o.expected_sha256_source = sha_source;
  o.bearer_token = hub_token;
  const bool tty = !a.quiet && ::isatty(2);
  if (tty) {
    o.on_progress = [&name](const models::DownloadProgress& p) {
      ProgressLine line;
      line.count = 1;
      line.fraction = p.bytes_total ? double(p.bytes_done) / double(p.bytes_total) : 0.0;
      line.rate = p.seconds > 0 ? double(p.bytes_session) / p.seconds / 1e6 : 0.0;
      line.unit = "MB/s";
      line.seconds = p.seconds;
      // From this pull's own rate: bytes an earlier pull left do not make the rest faster.
      const double bps = p.seconds > 0 ? double(p.bytes_session) / p.seconds : 0.0;
      line.eta_seconds = p.bytes_total && bps > 0 ? double(p.bytes_total - p.bytes_done) / bps : 0.0;
      line.name = name;
      draw_progress_bar(line);
    };
  }
  if (!a.quiet) std::fprintf(stderr, "hearth pull: %s -> %s\n", o.url.c_str(), dest.c_str());
  Result<models::DownloadResult> r = models::download_file(o);
  if (tty) std::fprintf(stderr, "\n");
  if (!r) return fail(r.error().message);
  const std::string check = r->sha256_source.empty()
                                ? "SHA-256 not checked: the server gave none (pass --sha256 HEX to check)"
                                : "SHA-256 verified against " + r->sha256_source;
  std::printf("%s  %s  %s\n", name.c_str(), models::human_size(r->bytes).c_str(), dest.c_str());
  if (!a.quiet)
    std::fprintf(stderr, "hearth pull: done%s%s; sha256 %s; %s\n", r->resumed ? " (resumed)" : "",
                 r->restarted ? " (the server ignored Range: fetched from the start)" : "", r->sha256.c_str(), check.c_str());
  return 0;
}

}  // namespace

void add_pull_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<PullArgs>();
  CLI::App* cmd = app.add_subcommand("pull", "Download a GGUF model from Hugging Face or a URL into the models folder");
  cmd->add_option("ref", args->ref, "owner/repo/file.gguf, owner/repo:file.gguf, hf.co/owner/repo:QUANT or an http(s) URL")
      ->required();
  cmd->add_option("--models-dir", args->models_dir, "Models folder (default $HEARTH_MODELS or ~/.local/share/hearth/models)");
  cmd->add_option("--sha256", args->sha256, "Expected SHA-256 of the file (hex)");
  cmd->add_option("--name", args->name, "Model name in the folder (default: the file name without .gguf)");
  cmd->add_flag("-q,--quiet", args->quiet, "No progress bar or messages on stderr");
  cmd->callback([args, &exit_code] { exit_code = run_pull(*args); });
}

}  // namespace hearth::cli
