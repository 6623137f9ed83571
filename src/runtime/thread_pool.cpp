// See thread_pool.h. Memory ordering: the job fields are plain data published by the
// release increment of generation_ and read after an acquire load of it; each worker's
// decrement of busy_workers_ (release) publishes its results to the caller's acquire load.
#include "runtime/thread_pool.h"

#include <system_error>

#include <chrono>

namespace hearth {
namespace {

// Tell the core we are spinning: frees pipeline resources for the SMT sibling and saves power.
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

}  // namespace

// Polls done() with a pause between polls, for at most spin_us_. The clock is read once per 64
// polls: a pause is 10-140 cycles depending on the core, so iteration counts are no clock.
template <class Done>
void ThreadPool::spin_until(Done done) const {
  if (spin_us_ <= 0) return;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(spin_us_);
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (done()) return;
      cpu_relax();
    }
    if (std::chrono::steady_clock::now() > deadline) return;
  }
}

ThreadPool::ThreadPool(int n_threads, int spin_us) : spin_us_(spin_us) {
  const int workers = n_threads > 1 ? n_threads - 1 : 0;
  workers_.reserve(static_cast<size_t>(workers));
  // A system out of threads (ulimit, cgroup pids.max) gets a smaller pool, not std::terminate:
  // size() reports what was really started and run() only counts those workers.
  try {
    for (int i = 0; i < workers; ++i) workers_.emplace_back([this, i] { worker_main(i + 1); });
  } catch (const std::system_error&) {
  }
}

ThreadPool::~ThreadPool() {
  stop_.store(true, std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::run_tasks(int thread) {
  for (;;) {
    const int64_t task = next_task_.fetch_add(1, std::memory_order_relaxed);
    if (task >= n_tasks_) return;
    fn_(ctx_, task, thread);
  }
}

void ThreadPool::run(int64_t n_tasks, TaskFn fn, void* ctx) {
  if (n_tasks <= 0) return;
  if (workers_.empty() || n_tasks == 1) {
    for (int64_t t = 0; t < n_tasks; ++t) fn(ctx, t, 0);
    return;
  }
  fn_ = fn;
  ctx_ = ctx;
  n_tasks_ = n_tasks;
  next_task_.store(0, std::memory_order_relaxed);
  busy_workers_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();  // no system call while every worker is still spinning

  run_tasks(0);

  // Workers finish their last task within about one task length; spin, then sleep.
  spin_until([this] { return busy_workers_.load(std::memory_order_acquire) == 0; });
  for (int busy; (busy = busy_workers_.load(std::memory_order_acquire)) != 0;)
    busy_workers_.wait(busy, std::memory_order_acquire);
}

void ThreadPool::worker_main(int thread) {
  uint32_t seen = 0;
  for (;;) {
    uint32_t now = seen;
    spin_until([&] { return (now = generation_.load(std::memory_order_acquire)) != seen; });
    while (now == seen) {
      generation_.wait(seen, std::memory_order_acquire);
      now = generation_.load(std::memory_order_acquire);
    }
    seen = now;
    if (stop_.load(std::memory_order_relaxed)) return;
    run_tasks(thread);
    if (busy_workers_.fetch_sub(1, std::memory_order_acq_rel) == 1) busy_workers_.notify_one();
  }
}

}  // namespace hearth
