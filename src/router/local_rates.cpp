// See local_rates.h.
#include "router/local_rates.h"

#include <cstdio>

#include "plan/model_shape.h"
#include "plan/planner.h"
#include "system/machine.h"

namespace hearth::router {

std::vector<std::string> fill_local_rates(RouterConfig& config, const RateLookup& lookup) {
  std::vector<std::string> lines;
  std::optional<std::optional<plan::Device>> device;  // outer: asked yet
  char buf[512];
  for (LocalBackend& l : config.locals) {
    if (l.prefill_tps > 0 && l.gen_tps > 0) {
      std::snprintf(buf, sizeof buf, "%s: pp %.1f tok/s, tg %.1f tok/s (config)", l.name.c_str(), l.prefill_tps,
                    l.gen_tps);
      lines.push_back(buf);
      continue;
    }
    if (lookup.store) {
      if (std::optional<bench::StoredRate> r = lookup.store->find(l.model, lookup.machine, lookup.threads)) {
        if (l.prefill_tps <= 0 && r->pp_tok_s > 0) l.prefill_tps = r->pp_tok_s;
        if (l.gen_tps <= 0 && r->tg_tok_s > 0) l.gen_tps = r->tg_tok_s;
        if (l.prefill_tps > 0 && l.gen_tps > 0) {
          std::snprintf(buf, sizeof buf, "%s: pp %.1f tok/s, tg %.1f tok/s (hearth bench, %d threads, %s)",
                        l.name.c_str(), l.prefill_tps, l.gen_tps, r->threads, r->time.c_str());
          lines.push_back(buf);
          continue;
        }
      }
    }
    if (lookup.device && !device) device = lookup.device();
    if (device && *device) {
      Result<plan::ModelShape> shape = plan::shape_from_gguf(l.model);
      if (shape) {
        const plan::Plan p = plan::make_plan(*shape, **device, {});
        if (l.prefill_tps <= 0 && p.pp_tok_s > 0) l.prefill_tps = p.pp_tok_s;
        if (l.gen_tps <= 0 && p.tg_tok_s > 0) l.gen_tps = p.tg_tok_s;
        std::snprintf(buf, sizeof buf, "%s: pp %.1f tok/s, tg %.1f tok/s (planner estimate for %s; run hearth bench "
                      "-m %s to measure)", l.name.c_str(), l.prefill_tps, l.gen_tps, (*device)->description.c_str(),
                      l.model.string().c_str());
        lines.push_back(buf);
        continue;
      }
      std::snprintf(buf, sizeof buf, "%s: no planner estimate (%s)", l.name.c_str(), shape.error().message.c_str());
      lines.push_back(buf);
      continue;
    }
    lines.push_back(l.name + ": [route] default rates");
  }
  return lines;
}

std::optional<plan::Device> planner_device() {
  const std::string model = system::read_board_model(system::SystemRoot{});
  if (model.find("Raspberry Pi 5") != std::string::npos) {
    if (Result<plan::Device> d = plan::device_profile("pi5")) return *d;
  } else if (model.find("Raspberry Pi") != std::string::npos) {
    if (Result<plan::Device> d = plan::device_profile("pi4")) return *d;
  }
  Result<plan::Device> d = plan::measure_this_machine();
  if (!d) return std::nullopt;
  return *d;
}

}  // namespace hearth::router
