#include "runtime/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

namespace hearth {
namespace {

TEST(ThreadPool, EveryTaskRunsOnceOnAValidThread) {
  for (int threads : {1, 2, 3, 4}) {
    for (int spin_us : {0, 50}) {
      ThreadPool pool(threads, spin_us);
      EXPECT_EQ(pool.size(), threads);
      for (int64_t n : {0, 1, 2, 3, 7, 64, 1001}) {
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
        std::atomic<bool> bad_thread{false};
        pool.parallel_for(n, [&](int64_t task, int thread) {
          hits[static_cast<size_t>(task)].fetch_add(1);
          if (thread < 0 || thread >= threads) bad_thread = true;
        });
        for (int64_t i = 0; i < n; ++i) EXPECT_EQ(hits[static_cast<size_t>(i)].load(), 1) << i;
        EXPECT_FALSE(bad_thread);
      }
    }
  }
}

// Many tiny jobs back to back, as token generation issues them: results of each job must be
// visible to the caller when parallel_for returns.
TEST(ThreadPool, ManySmallJobsSeeEachOthersResults) {
  ThreadPool pool(4);
  std::vector<int64_t> data(64, 0);
  for (int round = 0; round < 2000; ++round)
    pool.parallel_for(static_cast<int64_t>(data.size()),
                      [&](int64_t i, int) { data[static_cast<size_t>(i)] += i; });
  for (size_t i = 0; i < data.size(); ++i) EXPECT_EQ(data[i], static_cast<int64_t>(i) * 2000);
}

TEST(ThreadPool, PerThreadScratchByThreadIndex) {
  ThreadPool pool(3);
  std::vector<int64_t> per_thread(3, 0);
  pool.parallel_for(300, [&](int64_t task, int thread) { per_thread[static_cast<size_t>(thread)] += task; });
  EXPECT_EQ(per_thread[0] + per_thread[1] + per_thread[2], 299 * 300 / 2);
}

}  // namespace
}  // namespace hearth
