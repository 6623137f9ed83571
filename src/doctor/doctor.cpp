#include "doctor/doctor.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <system_error>
#include <thread>

#include <fmt/format.h>

#include "plan/device.h"
#include "plan/model_shape.h"

namespace hearth::doctor {
namespace fs = std::filesystem;

namespace {

constexpr double kMiB = 1024.0 * 1024.0;
constexpr double kGiB = kMiB * 1024.0;

// GiB for models and RAM, MiB below one GiB (a tiny test model is not "0.0 GiB").
std::string gib(uint64_t bytes) {
  return double(bytes) < kGiB ? fmt::format("{:.0f} MiB", double(bytes) / kMiB) : fmt::format("{:.1f} GiB", double(bytes) / kGiB);
}
std::string mib(uint64_t bytes) { return fmt::format("{:.0f} MiB", double(bytes) / kMiB); }

std::string mhz_text(const std::optional<double>& v) { return v ? fmt::format("{:.0f}", *v) : std::string("n/a"); }

bool is_pi(const std::string& model) { return model.find("Raspberry Pi") != std::string::npos; }
bool is_pi5(const std::string& model) { return model.find("Raspberry Pi 5") != std::string::npos; }

// The official supplies (Raspberry Pi product pages): the Pi 5's 27 W USB-C PD supply delivers
// 5.1 V at 5 A, the Pi 4's 15.3 W one 5.1 V at 3 A. Phone chargers sag under a 4-core load.
std::string supply_fix(const std::string& board) {
  const std::string tail = "; a short, thick USB-C cable; no bus-powered SSD on a weak supply";
  if (is_pi5(board)) return "use the official 27 W USB-C supply (5.1 V, 5 A)" + tail;
  if (board.find("Raspberry Pi 4") != std::string::npos || board.find("Raspberry Pi 400") != std::string::npos)
    return "use the official 15.3 W USB-C supply (5.1 V, 3 A)" + tail;
  return "use the board's official supply (27 W for a Pi 5, 15.3 W for a Pi 4)" + tail;
}

std::string cooling_fix(const std::string& board) {
  if (board.empty()) return "fit a heatsink with a fan (the Active Cooler on a Pi 5, a fan case on a Pi 4) and give it air";
  if (is_pi5(board)) return "fit the Active Cooler (or a case with a fan) and give it air; a bare Pi 5 throttles within minutes of generation";
  return "fit a heatsink with a fan (a fan case or an Armour-type case); keep it out of closed cupboards";
}

}  // namespace

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::kOk: return "ok";
    case Verdict::kWarn: return "warn";
    case Verdict::kFail: return "fail";
  }
  return "?";
}

// ---- storage -----------------------------------------------------------------------------

Check judge_storage(const fs::path& model, const Result<system::BlockDevice>& device) {
  Check c{"storage", Verdict::kOk, "", ""};
  const std::string name = model.filename().string();
  if (!device) {
    c.status = Verdict::kWarn;
    c.detail = fmt::format("cannot tell which device holds {}: {}", name, device.error().message);
    c.fix = "run hearth doctor on the board itself (not in a container) to see the storage";
    return c;
  }
  const system::BlockDevice& d = *device;
  if (d.kind == system::StorageKind::kNotBlock) {
    c.detail = fmt::format("{} is on a file system without a block device (tmpfs, overlayfs or network); the "
                           "read speed below is what counts",
                           name);
    return c;
  }
  std::string flags;
  if (d.removable) flags += *d.removable ? ", removable" : ", not removable";
  if (d.rotational && d.kind != system::StorageKind::kVirtual)
    flags += *d.rotational ? ", rotational (a spinning disk)" : ", solid state";
  c.detail = fmt::format("{} is on {} ({}{})", name, d.partition.empty() ? d.name : d.partition,
                         system::storage_kind_name(d.kind), flags);
  if (d.kind == system::StorageKind::kMicroSd) {
    c.status = Verdict::kWarn;
    c.detail += ": microSD cards read 40-90 MB/s at best, so every cold start of a 4 GB model takes a minute";
    c.fix = "move the models to a USB 3 SSD (Pi 4/5) or an NVMe drive on a Pi 5 M.2 HAT, and point "
            "--models-dir (or -m) there";
  } else if (d.rotational.value_or(false) && d.kind != system::StorageKind::kVirtual) {
    // (virtio disks report rotational=1 whatever backs them; only a real disk's flag means it)
    c.status = Verdict::kWarn;
    c.fix = "a spinning disk seeks slowly and its spin-up delays the first request; prefer an SSD";
  }
  return c;
}

Check judge_read_speed(const fs::path& model, uint64_t file_bytes, const Result<system::ReadSpeed>& speed) {
  Check c{"read_speed", Verdict::kOk, "", ""};
  if (!speed) {
    c.status = Verdict::kWarn;
    c.detail = speed.error().message;
    c.fix = "check that the model file is readable by this user";
    return c;
  }
  const system::ReadSpeed& s = *speed;
  if (s.bytes == 0 || s.seconds <= 0) {
    c.status = Verdict::kWarn;
    c.detail = fmt::format("{} is empty: nothing to measure", model.filename().string());
    c.fix = "the download is incomplete: fetch the model again";
    return c;
  }
  const double mbs = s.mb_per_s();
  c.detail = fmt::format("read {} of {} in {:.2f} s: {:.0f} MB/s{}", mib(s.bytes), model.filename().string(), s.seconds,
                         mbs, s.cache_dropped ? "" : " (the page cache could not be dropped: may be RAM speed)");
  if (file_bytes > 0) c.detail += fmt::format("; a cold load of the whole {} takes about {:.0f} s", gib(file_bytes), double(file_bytes) / 1e6 / mbs);
  // A Pi 4/5 reads a decent microSD at 40-90 MB/s, a USB 3 SSD at 300-400 MB/s, NVMe on a Pi 5
  // at 400-900 MB/s; under 50 MB/s the storage, not the CPU, sets the start-up time.
  if (mbs < 50) {
    c.status = Verdict::kWarn;
    c.fix = "under 50 MB/s: use an SSD over USB 3 (the blue ports) or NVMe, or an A2-rated card";
  }
  return c;
}

// ---- memory ------------------------------------------------------------------------------

Check judge_memory(const Result<system::MemInfo>& mem, const std::vector<ModelNeed>& models, int64_t ctx) {
  Check c{"memory", Verdict::kOk, "", ""};
  if (!mem) {
    c.status = Verdict::kWarn;
    c.detail = mem.error().message;
    c.fix = "run hearth doctor on the machine itself; /proc/meminfo should always be readable";
    return c;
  }
  c.detail = fmt::format("RAM {} total, {} available", gib(mem->total), gib(mem->available));
  for (const ModelNeed& m : models) {
    if (!m.plan) {
      c.status = std::max(c.status, Verdict::kWarn);
      c.detail += fmt::format("; {}: {}", m.name, m.plan.error().message);
      if (c.fix.empty()) c.fix = "check the model file with hearth inspect";
      continue;
    }
    const plan::Plan& p = *m.plan;
    // What the model takes itself (weights, KV cache at ctx, compute buffers), without the
    // planner's OS reserve: against MemAvailable the OS is already counted.
    const uint64_t need = p.weight_bytes + p.kv_bytes + p.compute_bytes;
    c.detail += fmt::format("; {} needs {} at a {}-token context (weights {}, KV {})", m.name, gib(need), p.ctx,
                            gib(p.weight_bytes), mib(p.kv_bytes));
    if (!p.fits) {
      c.status = Verdict::kFail;
      c.detail += p.max_ctx > 0 ? fmt::format(": more than this board holds (largest context that fits: {})", p.max_ctx)
                                : ": more than this board holds at any context";
      c.fix = "use a smaller quant or model (hearth plan --params N --quant q4_k_m shows what fits), or a shorter --ctx";
    } else if (need > mem->available) {
      c.status = std::max(c.status, Verdict::kWarn);
      c.detail += ": fits the RAM, but not what is free now";
      if (c.fix.empty()) c.fix = "stop other memory users (a desktop session, browsers, containers) before serving";
    }
  }
  if (models.empty()) c.detail += fmt::format(" (give -m MODEL.gguf to check a model at ctx {})", ctx);
  return c;
}

Check judge_swap(const Result<system::MemInfo>& mem) {
  Check c{"swap", Verdict::kOk, "", ""};
  if (!mem) {
    c.status = Verdict::kWarn;
    c.detail = mem.error().message;
    c.fix = "run hearth doctor on the machine itself; /proc/meminfo should always be readable";
    return c;
  }
  if (mem->swap_total == 0) {
    c.detail = "no swap; fine for hearth: weights are memory-mapped and re-read from the file, never swapped";
    return c;
  }
  const uint64_t used = mem->swap_used();
  c.detail = fmt::format("swap {} total, {} in use", mib(mem->swap_total), mib(used));
  // Some swap in use is normal after a long uptime; hundreds of MiB means RAM ran short, and a
  // KV cache or buffer page that has to come back from a microSD stalls generation for seconds.
  if (used > (256ull << 20) && used * 4 > mem->swap_total) {
    c.status = Verdict::kWarn;
    c.fix = "RAM has run short: close other programs or pick a smaller model; keep swap off a microSD card "
            "(zram, or a swap file on the SSD)";
  }
  return c;
}

Check judge_threads(std::optional<int> threads, int cores) {
  Check c{"threads", Verdict::kOk, "", ""};
  if (!threads) {
    c.detail = fmt::format("{} cores online; hearth uses all {} by default", cores, cores);
    return c;
  }
  c.detail = fmt::format("--threads {} on {} cores", *threads, cores);
  if (*threads > cores) {
    c.status = Verdict::kWarn;
    c.detail += ": more threads than cores, so they take turns and each matrix product waits for the slowest";
    c.fix = fmt::format("use -t {} (or leave it out)", cores);
  } else if (*threads < cores) {
    c.detail += fmt::format(": {} core(s) left idle; prefill runs about {:.0f}% slower", cores - *threads,
                            100.0 * (1.0 - double(*threads) / cores));
  }
  return c;
}

Check judge_governor(const system::Clocks& clocks, bool is_pi) {
  Check c{"governor", Verdict::kOk, "", ""};
  if (clocks.cores.empty()) {
    c.status = is_pi ? Verdict::kWarn : Verdict::kOk;
    c.detail = "no cpufreq here (a VM or container): the clock and governor are the host's business";
    if (is_pi) c.fix = "a Raspberry Pi kernel has cpufreq: check that /sys is mounted";
    return c;
  }
  const std::vector<std::string> govs = clocks.governors();
  std::string list;
  for (const std::string& g : govs) list += (list.empty() ? "" : ", ") + g;
  c.detail = fmt::format("governor {} on {} cores; clock now {}-{} MHz, max {} MHz", list.empty() ? "unknown" : list,
                         clocks.cores.size(), mhz_text(clocks.cur_min_mhz()), mhz_text(clocks.cur_max_mhz()),
                         mhz_text(clocks.max_mhz()));
  for (const std::string& g : govs) {
    // powersave pins the lowest clock; ondemand/conservative ramp up only after a sampling
    // period, so every short burst (a prompt, a token) starts slow.
    if (g == "powersave" || g == "ondemand" || g == "conservative" || g == "userspace") {
      c.status = Verdict::kWarn;
      c.fix = "echo performance | sudo tee /sys/devices/system/cpu/cpu*/cpufreq/scaling_governor (to keep it: "
              "GOVERNOR=performance in /etc/default/cpufrequtils, package cpufrequtils)";
    }
  }
  if (!clocks.problems.empty()) {
    c.status = std::max(c.status, Verdict::kWarn);
    c.detail += "; " + clocks.problems.front();
    if (c.fix.empty()) c.fix = "the kernel's cpufreq files hold unexpected values: update the kernel";
  }
  return c;
}

// ---- temperature and power -----------------------------------------------------------------

Check judge_temperature(const LoadReadings& r) {
  Check c{"temperature", Verdict::kOk, "", ""};
  if (!r.idle.celsius && !r.load_max_c) {
    c.status = Verdict::kWarn;
    c.detail = r.idle.problem.empty() ? "no temperature readable" : r.idle.problem;
    c.fix = "run on the board itself (containers and VMs hide /sys/class/thermal); on a Pi the zone is cpu-thermal";
    return c;
  }
  const auto fmt_c = [](const std::optional<double>& t) {
    return t ? fmt::format("{:.1f} °C", *t) : std::string("n/a");
  };
  const double hottest = std::max(r.idle.celsius.value_or(-1000), r.load_max_c.value_or(-1000));
  if (r.seconds > 0) {
    c.detail = fmt::format("{} idle -> {} after {:.1f} s on {} threads", fmt_c(r.idle.celsius), fmt_c(r.load_max_c),
                           r.seconds, r.threads);
    if (r.load_clock_min_mhz && r.clock_max_mhz)
      c.detail += fmt::format(", clock {:.0f} of {:.0f} MHz under load", *r.load_clock_min_mhz, *r.clock_max_mhz);
  } else {
    c.detail = fmt::format("{} (no load test: --load-seconds 0)", fmt_c(r.idle.celsius));
  }
  if (!r.idle.zone.empty()) c.detail += ", zone " + r.idle.zone;
  // The Pi firmware caps the ARM clock progressively from 80 °C and hard at 85 °C (Raspberry Pi
  // documentation, "Frequency management and thermal control"). A few seconds of load that
  // already reach 70 °C will reach 80 within minutes of generation.
  if (hottest >= 80) {
    c.status = Verdict::kFail;
    c.detail += ": at the firmware's throttling limit (80 °C)";
  } else if (hottest >= 70) {
    c.status = Verdict::kWarn;
    c.detail += ": close to the 80 °C throttling limit";
  }
  if (c.status != Verdict::kOk) c.fix = cooling_fix("");
  return c;
}

Check judge_power(const system::Throttle& t, const std::string& board) {
  Check c{"power", Verdict::kOk, "", ""};
  if (!t.bits) {
    // Off a Pi there is nothing to read and nothing wrong; on a Pi it should be readable.
    if (is_pi(board) || !t.source.empty()) {
      c.status = Verdict::kWarn;
      c.detail = t.problem;
      c.fix = "install vcgencmd (sudo apt install raspi-utils, or libraspberrypi-bin on older releases)";
    } else {
      c.detail = "no Raspberry Pi firmware flags on this machine: nothing to check";
    }
    return c;
  }
  const uint32_t b = *t.bits;
  c.detail = fmt::format("get_throttled 0x{:x} ({}) from {}", b, system::describe_throttle_bits(b), t.source);
  using namespace system;
  if (b & (kUnderVoltageNow | kUnderVoltageOccurred)) {
    // Under-voltage makes the firmware throttle and can corrupt the SD card: always a failure.
    c.status = Verdict::kFail;
    c.fix = supply_fix(board);
  } else if (b & (kThrottledNow | kFreqCappedNow)) {
    c.status = Verdict::kFail;
    c.fix = cooling_fix(board);
  } else if (b & (kThrottledOccurred | kFreqCappedOccurred | kSoftTempLimitOccurred | kSoftTempLimitNow)) {
    c.status = Verdict::kWarn;
    c.fix = cooling_fix(board) + " (the flags 'since boot' clear on reboot)";
  }
  return c;
}

Check judge_simd(Isa chosen, Isa best, const std::string& board) {
  Check c{"simd", Verdict::kOk, "", ""};
  c.detail = fmt::format("kernels run at {} (the best this CPU can run: {})", isa_name(chosen), isa_name(best));
  if (chosen != best) {
    c.status = Verdict::kWarn;
    c.detail += "; HEARTH_ISA forces a slower level";
    c.fix = "unset HEARTH_ISA (it is for tests and comparisons)";
    return c;
  }
  const bool arm = best == Isa::kNeon || best == Isa::kDotprod;
  if (arm && is_pi5(board) && best != Isa::kDotprod) {
    // The Cortex-A76 has SDOT; without it the int8 dot products run 4x narrower.
    c.status = Verdict::kWarn;
    c.detail += "; a Pi 5's Cortex-A76 has the dot-product instructions, but the kernel does not report asimddp";
    c.fix = "run the 64-bit Raspberry Pi OS with its own kernel (an old or 32-bit kernel hides the feature)";
  } else if (best == Isa::kScalar) {
    c.status = Verdict::kWarn;
    c.detail += "; no SIMD kernels for this CPU: several times slower";
    c.fix = "run on an x86-64 CPU with AVX2 or an arm64 (64-bit) OS";
  } else if (best == Isa::kNeon) {
    c.detail += is_pi(board) ? " (a Pi 4's Cortex-A72 has no dot-product instructions: NEON is its best)"
                             : " (no dot-product instructions on this CPU)";
  }
  return c;
}

// ---- running the checks ----------------------------------------------------------------------

Result<std::vector<fs::path>> models_in(const fs::path& dir) {
  std::error_code ec;
  std::vector<std::pair<uintmax_t, fs::path>> found;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    if (it->path().extension() != ".gguf") continue;
    std::error_code ec2;
    if (!it->is_regular_file(ec2)) continue;
    found.emplace_back(it->file_size(ec2), it->path());
  }
  if (ec) return Error{fmt::format("--models-dir {}: {}", dir.string(), ec.message())};
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<fs::path> out;
  for (auto& [size, p] : found) out.push_back(std::move(p));
  return out;
}

LoadReadings measure_under_load(const system::SystemRoot& root, double seconds, int threads) {
  LoadReadings r;
  r.idle = system::read_cpu_temperature(root);
  r.clock_max_mhz = system::read_clocks(root).max_mhz();
  r.seconds = std::max(0.0, seconds);
  r.threads = threads;
  if (r.seconds <= 0) return r;
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  for (int i = 0; i < threads; ++i)
    workers.emplace_back([&stop, i] {
      // Dependent multiply-adds keep the FP pipes busy; the volatile store keeps the loop alive.
      double x = 1.0 + i * 1e-3, y = 0.999999;
      volatile double sink = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        for (int k = 0; k < 4096; ++k) x = x * y + 1e-9;
        sink = x;
      }
      (void)sink;
    });
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                               std::chrono::duration<double>(r.seconds));
  // Sample while loaded: the hottest temperature and the slowest clock.
  for (;;) {
    const system::Temperature t = system::read_cpu_temperature(root);
    if (t.celsius && (!r.load_max_c || *t.celsius > *r.load_max_c)) r.load_max_c = t.celsius;
    if (const auto mhz = system::read_clocks(root).cur_min_mhz(); mhz && (!r.load_clock_min_mhz || *mhz < *r.load_clock_min_mhz))
      r.load_clock_min_mhz = mhz;
    if (std::chrono::steady_clock::now() >= end) break;
    const std::chrono::steady_clock::duration left = end - std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(std::chrono::milliseconds(250), left));
  }
  stop = true;
  for (std::thread& w : workers) w.join();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

std::vector<Check> run_doctor(const Options& o) {
  std::vector<Check> checks;
  const std::string board = system::read_board_model(o.root);
  int cores = system::count_online_cpus(o.root);
  if (cores <= 0) cores = int(std::max(1u, std::thread::hardware_concurrency()));

  // Storage and read speed of the largest model (the one whose load takes longest).
  if (!o.models.empty()) {
    const fs::path& m = o.models.front();
    Result<system::BlockDevice> dev = Error{};
    if (Result<system::DeviceNumber> n = system::device_of(m); n) dev = system::resolve_block_device(o.root, *n);
    else dev = n.error();
    checks.push_back(judge_storage(m, dev));
    std::error_code ec;
    const uintmax_t size = fs::file_size(m, ec);
    checks.push_back(judge_read_speed(m, ec ? 0 : uint64_t(size), system::measure_read_speed(m, o.read_bytes, o.read_seconds)));
  }

  const Result<system::MemInfo> mem = system::read_meminfo(o.root);
  std::vector<ModelNeed> needs;
  for (const fs::path& m : o.models) {
    ModelNeed need{m.filename().string()};
    Result<plan::ModelShape> shape = plan::shape_from_gguf(m);
    if (!shape) {
      need.plan = shape.error();
    } else if (mem) {
      // This board as the planner sees it: its RAM, and at least what is in use now kept back.
      plan::Device d;
      d.name = "this";
      d.ram_bytes = mem->total;
      d.os_reserve_bytes = std::max<uint64_t>(400ull << 20, mem->total - mem->available);
      d.cores = cores;
      d.ghz = 1, d.bandwidth_bytes_per_s = 1e9, d.ops_per_cycle_int8 = d.ops_per_cycle_f16 = d.ops_per_cycle_f32 = 16;
      d.tg_efficiency = d.pp_efficiency = 1;
      plan::PlanOptions po;
      po.ctx = shape->context_length > 0 ? std::min(o.ctx, shape->context_length) : o.ctx;
      need.plan = plan::make_plan(*shape, d, po);
    } else {
      need.plan = mem.error();
    }
    needs.push_back(std::move(need));
  }
  checks.push_back(judge_memory(mem, needs, o.ctx));
  checks.push_back(judge_swap(mem));
  checks.push_back(judge_threads(o.threads, cores));
  checks.push_back(judge_governor(system::read_clocks(o.root), is_pi(board)));
  checks.push_back(judge_temperature(measure_under_load(o.root, o.load_seconds, cores)));
  // After the load: a supply that sags under four busy cores has set its flags by now.
  checks.push_back(judge_power(system::read_throttle(o.root), board));
  checks.push_back(judge_simd(choose_kernels().table->isa, best_isa(), board));
  return checks;
}

std::string format_text(const std::vector<Check>& checks, const std::string& board) {
  std::string out = fmt::format("hearth doctor{}\n", board.empty() ? "" : ": " + board);
  for (const Check& c : checks) {
    const char* label = c.status == Verdict::kOk ? " OK " : c.status == Verdict::kWarn ? "WARN" : "FAIL";
    out += fmt::format("[{}] {:<12} {}\n", label, c.check, c.detail);
    if (!c.fix.empty()) out += fmt::format("       {:<12} fix: {}\n", "", c.fix);
  }
  return out;
}

nlohmann::json to_json(const std::vector<Check>& checks) {
  nlohmann::json list = nlohmann::json::array();
  for (const Check& c : checks)
    list.push_back({{"check", c.check}, {"status", verdict_name(c.status)}, {"detail", c.detail}, {"fix", c.fix}});
  return list;
}

int exit_code(const std::vector<Check>& checks) {
  return std::any_of(checks.begin(), checks.end(), [](const Check& c) { return c.status == Verdict::kFail; }) ? 1 : 0;
}

}  // namespace hearth::doctor
