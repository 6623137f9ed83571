// A persistent pool of worker threads for data-parallel loops (matmul rows, attention heads).
// Token generation calls parallel_for hundreds of times per token, each a few microseconds of
// work, so dispatch must cost far less than a thread wake-up: workers spin on a generation
// counter for a while after each job (50 µs by default) and only then sleep on it
// (a futex through std::atomic::wait). The calling thread runs tasks too, as thread 0.
//
// Not a global: a pool belongs to whoever owns the inference context and is passed down
// explicitly (STYLE habit 5). One caller at a time; parallel_for is not re-entrant.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace hearth {

class ThreadPool {
 public:
  // n_threads counts the caller: 1 means no worker threads (everything runs inline).
  // spin_us: how long an idle thread polls for work (or for the end of a job) before sleeping;
  // 0 sleeps at once (for machines where spinning steals cores from other processes).
  explicit ThreadPool(int n_threads, int spin_us = kDefaultSpinUs);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(task, thread) for every task in [0, n_tasks), spread over the threads
  // (thread in [0, size())); returns when all have finished. Tasks are handed out one at a
  // time from a shared counter, so uneven tasks balance themselves. fn must not throw.
  template <class Fn>
  void parallel_for(int64_t n_tasks, Fn&& fn) {
    using F = std::remove_reference_t<Fn>;
    run(n_tasks, [](void* ctx, int64_t task, int thread) { (*static_cast<F*>(ctx))(task, thread); },
        const_cast<void*>(static_cast<const void*>(&fn)));
  }

  static constexpr int kDefaultSpinUs = 50;

 private:
  using TaskFn = void (*)(void* ctx, int64_t task, int thread);
  void run(int64_t n_tasks, TaskFn fn, void* ctx);
  void worker_main(int thread);
  void run_tasks(int thread);
  template <class Done>
  void spin_until(Done done) const;

  std::vector<std::thread> workers_;
  const int spin_us_;

  // The current job; written by the caller before it bumps generation_ (release), read by
  // workers after they see the new generation (acquire).
  TaskFn fn_ = nullptr;
  void* ctx_ = nullptr;
  int64_t n_tasks_ = 0;

  alignas(64) std::atomic<uint32_t> generation_{0};  // bumped once per job; workers wait on it
  alignas(64) std::atomic<int64_t> next_task_{0};
  alignas(64) std::atomic<int> busy_workers_{0};     // workers still in the current job
  std::atomic<bool> stop_{false};
};

}  // namespace hearth
