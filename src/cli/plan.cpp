// `hearth plan MODEL.gguf | --params 3.8B --quant q4_k_m [--ctx N] [--device pi4|pi5|this|custom]`:
// will the model fit, how fast will it generate and prefill, what does it cost in energy.
// The model lives in plan/; this file parses the command line and prints.
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "plan/device.h"
#include "plan/planner.h"
#include "plan/units.h"

namespace hearth::cli {
namespace {

struct PlanArgs {
  std::string file;
  std::string params, quant;
  int64_t ctx = 4096;
  std::string device = "pi5";
  std::string ram, bandwidth, ghz;
  std::optional<int> cores;
  std::string cache_type = "f16";
  double duty = 0.1;
  std::optional<double> idle_w, load_w, tg_efficiency, pp_efficiency;
  bool json = false;
};

int fail(const std::string& message) {
  std::fprintf(stderr, "hearth plan: %s\n", message.c_str());
  return 1;
}

int run_plan(const PlanArgs& a) {
  if (a.file.empty() == a.params.empty()) return fail("give a MODEL.gguf or --params N --quant Q (one of them)");
  if (!a.params.empty() && a.quant.empty()) return fail("--params needs --quant (e.g. q4_k_m)");
  if (a.ctx <= 0) return fail("--ctx must be positive");
  if (!(a.duty >= 0 && a.duty <= 1)) return fail("--duty must be between 0 and 1");
  Result<plan::CacheType> cache = plan::parse_cache_type(a.cache_type);
  if (!cache) return fail(cache.error().message);

  Result<plan::ModelShape> model = Error{};
  if (!a.file.empty()) {
    model = plan::shape_from_gguf(a.file);
  } else {
    Result<double> params = plan::parse_params(a.params);
    if (!params) return fail(params.error().message);
    model = plan::shape_from_params(*params, a.quant);
  }
  if (!model) return fail(model.error().message);

  Result<plan::Device> device = a.device == "this" ? plan::measure_this_machine() : plan::device_profile(a.device);
  if (!device) return fail(device.error().message);
  plan::Device& d = *device;
  if (!a.ram.empty()) {
    Result<uint64_t> ram = plan::parse_bytes(a.ram);
    if (!ram) return fail(ram.error().message);
    d.ram_bytes = *ram;
  }
  if (!a.bandwidth.empty()) {
    Result<double> bw = plan::parse_bandwidth(a.bandwidth);
    if (!bw) return fail(bw.error().message);
    d.bandwidth_bytes_per_s = *bw;
  }
  if (!a.ghz.empty()) {
    Result<double> ghz = plan::parse_ghz(a.ghz);
    if (!ghz) return fail(ghz.error().message);
    d.ghz = *ghz;
  }
  if (a.cores) {
    if (*a.cores <= 0 || *a.cores > 4096) return fail("--cores must be between 1 and 4096");
    d.cores = *a.cores;
  }
  if (a.idle_w) d.idle_watts = *a.idle_w;
  if (a.load_w) d.load_watts = *a.load_w;
  if (a.tg_efficiency) d.tg_efficiency = *a.tg_efficiency;
  if (a.pp_efficiency) d.pp_efficiency = *a.pp_efficiency;
  if (d.ram_bytes == 0 || d.bandwidth_bytes_per_s <= 0 || d.cores <= 0 || d.ghz <= 0)
    return fail("--device custom needs --ram, --bandwidth, --cores and --ghz");
  if (d.idle_watts < 0 || d.load_watts < 0) return fail("--idle-w and --load-w must not be negative");
  if (!(d.tg_efficiency > 0 && d.tg_efficiency <= 1) || !(d.pp_efficiency > 0 && d.pp_efficiency <= 1))
    return fail("efficiencies must be in (0, 1]");

  plan::PlanOptions options;
  options.ctx = a.ctx;
  options.cache = *cache;
  options.duty = a.duty;
  const plan::Plan p = plan::make_plan(*model, d, options);
  const std::string text =
      a.json ? plan::plan_json(*model, d, options, p).dump(2) + "\n" : plan::plan_text(*model, d, options, p);
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0)
    return fail("cannot write to stdout");
  return 0;
}

}  // namespace

void add_plan_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<PlanArgs>();
  CLI::App* cmd = app.add_subcommand("plan", "Predict whether a model fits a board and how fast it will run");
  cmd->add_option("model", args->file, "GGUF model file");
  cmd->add_option("--params", args->params, "Parameter count instead of a file (3.8B, 500M)");
  cmd->add_option("--quant", args->quant, "Quantization with --params (q4_k_m, q8_0, ...)");
  cmd->add_option("--ctx,-c", args->ctx, "Context length")->capture_default_str();
  cmd->add_option("--device", args->device, "pi4, pi400, pi5, this (measure), custom")->capture_default_str();
  cmd->add_option("--ram", args->ram, "RAM size (8G)");
  cmd->add_option("--bandwidth", args->bandwidth, "Sustained memory bandwidth (6GB/s)");
  cmd->add_option("--cores", args->cores, "CPU cores");
  cmd->add_option("--ghz", args->ghz, "CPU clock (1.8 or 1800MHz)");
  cmd->add_option("--cache-type", args->cache_type, "KV cache type: f16, q8_0")->capture_default_str();
  cmd->add_option("--duty", args->duty, "Fraction of the day spent generating")->capture_default_str();
  cmd->add_option("--idle-w", args->idle_w, "Idle power in watts");
  cmd->add_option("--load-w", args->load_w, "Power under load in watts");
  cmd->add_option("--tg-efficiency", args->tg_efficiency, "Achieved / roofline for generation");
  cmd->add_option("--pp-efficiency", args->pp_efficiency, "Achieved / peak arithmetic for prefill");
  cmd->add_flag("--json", args->json, "Print one JSON object");
  cmd->callback([args, &exit_code] { exit_code = run_plan(*args); });
}

}  // namespace hearth::cli
