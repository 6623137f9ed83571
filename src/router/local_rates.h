// Where the cost rule's rates for a [[local]] model come from, in order: prefill_tps/gen_tps
// written in its [[local]] entry; this machine's `hearth bench` figures for the model file
// (bench/rate_store.h); the planner's estimate for the file on this board (plan/planner.h);
// the [route] defaults. Applied by `hearth serve` when it reads --config (and on SIGHUP).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "bench/rate_store.h"
#include "plan/device.h"
#include "router/router_config.h"

namespace hearth::router {

struct RateLookup {
  const bench::RateStore* store = nullptr;  // null: no stored figures
  bench::MachineId machine;
  int threads = 0;                          // the server's compute threads (0: any)
  // The board the planner estimates for, asked for at most once and only when a model has no
  // stored figures; null or nullopt: no planner estimate.
  std::function<std::optional<plan::Device>()> device;
};

// Fills the rates each [[local]] of `config` leaves at 0; returns one line per backend saying
// where its rates came from ("pi: pp 38.0 tok/s, tg 7.5 tok/s (bench, 4 threads, 2026-12-03T…)").
std::vector<std::string> fill_local_rates(RouterConfig& config, const RateLookup& lookup);

// This board for the planner: a Raspberry Pi's documented profile (no measuring at start-up),
// else plan::measure_this_machine().
std::optional<plan::Device> planner_device();

}  // namespace hearth::router
