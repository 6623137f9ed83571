// See repack.h.
#include "model/repack.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "kernels/repack.h"
#include "kernels/tile.h"
#include "model/pack_cache.h"
#include "runtime/thread_pool.h"

namespace hearth {
namespace {

// Source bytes per repacking task: small enough that the pages dropped behind each task keep
// the peak near one model's size, large enough that a task outweighs its dispatch.
constexpr size_t kChunkBytes = size_t{1} << 20;

// Drops the whole pages inside [p, p + n) from this process's resident set.
void drop_pages(const void* p, size_t n) {
  const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const auto begin = (reinterpret_cast<uintptr_t>(p) + page - 1) & ~(page - 1);
  const auto end = (reinterpret_cast<uintptr_t>(p) + n) & ~(page - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

// An anonymous mapping of `bytes`, 2 MiB aligned and offered to transparent huge pages:
// writing the copies then costs one page fault per 2 MiB instead of per 4 KiB (faults are
// most of the repacking time in a VM), and every weight read later misses the TLB less.
// Null when the mapping fails.
std::shared_ptr<void> map_packed(size_t bytes) {
  constexpr size_t kHuge = size_t{2} << 20;
  const size_t span = bytes + kHuge;
  void* p = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  const auto base = reinterpret_cast<uintptr_t>(p);
  const uintptr_t start = (base + kHuge - 1) & ~(kHuge - 1);
  // The slack before and after the aligned stretch goes back at once.
  if (start > base) munmap(p, start - base);
  if (base + span > start + bytes) {
    const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
    const uintptr_t end = (start + bytes + page - 1) & ~(page - 1);
    if (base + span > end) munmap(reinterpret_cast<void*>(end), base + span - end);
  }
  auto* aligned = reinterpret_cast<void*>(start);
  madvise(aligned, bytes, MADV_HUGEPAGE);  // advice only: without THP, 4 KiB pages
  return std::shared_ptr<void>(aligned, [bytes](void* q) { munmap(q, bytes); });
}

// One matrix to repack into `dst`, in tasks of `groups_per_task` row groups.
struct Job {
  WeightMatrix* m = nullptr;
  size_t bytes = 0;  // packed size
  uint8_t* dst = nullptr;
  size_t group_bytes = 0;  // packed bytes per row group
  int64_t groups_per_task = 0;
  int64_t first_task = 0;  // index of its first task among all jobs'
};

// nullopt when the kernel level has no packed form of `m` (the plain layout is used).
std::optional<Job> plan_job(const TileKernels& tiles, WeightMatrix& m) {
  if (m.nrows == 0 || m.data == nullptr || m.packed != nullptr) return std::nullopt;
  if (tiles.packed_of(m.type) == nullptr) return std::nullopt;
  const std::optional<size_t> bytes = packed_bytes(m.type, m.ne0, m.nrows);
  if (!bytes) return std::nullopt;
  Job j;
  j.m = &m;
  j.bytes = *bytes;
  const int64_t groups = m.nrows / kPackRows;
  j.group_bytes = *bytes / static_cast<size_t>(groups);
  const size_t src_group = m.row_stride * kPackRows;
  j.groups_per_task = std::clamp<int64_t>(static_cast<int64_t>(kChunkBytes / src_group), 1, groups);
  return j;
}

int64_t tasks_of(const Job& j) {
  const int64_t groups = j.m->nrows / kPackRows;
  return (groups + j.groups_per_task - 1) / j.groups_per_task;
}

void run_task(const Job& j, int64_t task) {
  const WeightMatrix& m = *j.m;
  const int64_t g0 = task * j.groups_per_task;
  const int64_t g1 = std::min(g0 + j.groups_per_task, m.nrows / kPackRows);
  const size_t src_group = m.row_stride * kPackRows;
  const auto* src = static_cast<const uint8_t*>(m.data) + static_cast<size_t>(g0) * src_group;
  repack_rows(m.type, src, m.row_stride, m.ne0, (g1 - g0) * kPackRows,
              j.dst + static_cast<size_t>(g0) * j.group_bytes);
  drop_pages(src, static_cast<size_t>(g1 - g0) * src_group);
}

// Copies the vectors (norms, biases) off the mapping. The forward pass reads them every
// token, and a read of a dropped neighbourhood faults back the whole folio around it: with
// the file in 2 MiB folios each norm would bring back 2 MiB of repacked weights.
// Returns the tensors copied, whose pages the caller drops once nothing reads them there.
std::vector<const gguf::TensorInfo*> copy_vectors(const gguf::File& file, ModelWeights& w) {
  // The tensor holding each vector (a bias may sit inside a fused tensor), copied once.
  std::map<const uint8_t*, const gguf::TensorInfo*> by_start;
  for (const gguf::TensorInfo& t : file.tensors()) by_start.emplace(t.data, &t);
  auto holder = [&](const float* v) -> const gguf::TensorInfo* {
    const auto* p = reinterpret_cast<const uint8_t*>(v);
    auto it = by_start.upper_bound(p);
    if (it == by_start.begin()) return nullptr;
    const gguf::TensorInfo* t = (--it)->second;
    return p < t->data + t->nbytes ? t : nullptr;
  };
  std::vector<std::pair<const float**, const gguf::TensorInfo*>> held;
  std::map<const gguf::TensorInfo*, size_t> offset_of;  // in floats
  size_t total = 0;
  for (const float** slot : vector_slots(w))
    if (const gguf::TensorInfo* t = *slot != nullptr ? holder(*slot) : nullptr; t != nullptr) {
      held.emplace_back(slot, t);
      if (offset_of.emplace(t, total).second)
        total += (t->nbytes + sizeof(float) - 1) / sizeof(float);
    }
  w.vector_copies.assign(total, 0.0f);
  for (const auto& [t, at] : offset_of)
    std::memcpy(w.vector_copies.data() + at, t->data, t->nbytes);
  for (const auto& [slot, t] : held)
    *slot = w.vector_copies.data() + offset_of.at(t) +
            (reinterpret_cast<const uint8_t*>(*slot) - t->data) / sizeof(float);
  std::vector<const gguf::TensorInfo*> copied;
  for (const auto& entry : offset_of) copied.push_back(entry.first);
  return copied;
}

ThreadPool all_cores() {
  return ThreadPool(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())), 0);
}

// Reads every planned matrix's packed copy from the cache into fresh huge-page memory, every
// core at once; false (nothing kept) when any read fails, so the caller repacks instead.
bool read_all(const pack_cache::Reader& reader, std::vector<Job>& jobs) {
  constexpr uint64_t kReadBytes = uint64_t{4} << 20;
  struct Piece {
    size_t job;
    uint64_t begin, n;
  };
  std::vector<Piece> pieces;
  for (size_t i = 0; i < jobs.size(); ++i) {
    std::shared_ptr<void> storage = map_packed(jobs[i].bytes);
    if (!storage) return false;
    jobs[i].dst = static_cast<uint8_t*>(storage.get());
    jobs[i].m->packed_storage = std::move(storage);
    for (uint64_t at = 0; at < jobs[i].bytes; at += kReadBytes)
      pieces.push_back({i, at, std::min<uint64_t>(kReadBytes, jobs[i].bytes - at)});
  }
  std::atomic<bool> ok{true};
  ThreadPool pool = all_cores();
  pool.parallel_for(static_cast<int64_t>(pieces.size()), [&](int64_t k, int) {
    const Piece& p = pieces[static_cast<size_t>(k)];
    if (ok.load(std::memory_order_relaxed) &&
        !reader.read(p.job, p.begin, p.n, jobs[p.job].dst + p.begin).ok())
      ok.store(false, std::memory_order_relaxed);
  });
  for (Job& j : jobs) {
    if (ok)
      j.m->packed = j.dst;
    else
      j.m->packed_storage.reset();
  }
  return ok;
}

// Repacks the planned matrices into fresh memory, every core at once.
void repack_all(std::vector<Job>& planned) {
  std::vector<Job> jobs;
  int64_t n_tasks = 0;
  for (Job& j : planned) {
    std::shared_ptr<void> storage = map_packed(j.bytes);
    if (!storage) continue;  // no memory for this copy: the plain layout still works
    j.dst = static_cast<uint8_t*>(storage.get());
    j.m->packed_storage = std::move(storage);
    j.first_task = n_tasks;
    n_tasks += tasks_of(j);
    jobs.push_back(j);
  }
  // Tasks run in plan order, so the resident set grows by the copies while the originals
  // leave behind them.
  ThreadPool pool = all_cores();
  pool.parallel_for(n_tasks, [&](int64_t task, int) {
    const auto it = std::upper_bound(jobs.begin(), jobs.end(), task,
                                     [](int64_t t, const Job& j) { return t < j.first_task; });
    const Job& j = *(it - 1);
    run_task(j, task - j.first_task);
  });
  for (const Job& j : jobs) {
    // Pages straddling two tasks' ranges are dropped only now, once both have run.
    drop_pages(j.m->data, j.m->row_stride * static_cast<size_t>(j.m->nrows));
    j.m->packed = j.dst;
  }
  planned = std::move(jobs);
}

}  // namespace

std::jthread repack_weights(const KernelTable& kernels, const gguf::File& file, ModelWeights& w) {
  if (const char* env = std::getenv("HEARTH_REPACK"); env != nullptr && std::strcmp(env, "0") == 0)
    return {};
  const TileKernels& tiles = tile_kernels(kernels.isa);
  std::vector<Job> jobs;
  for (LayerWeights& l : w.layers)
    for (WeightMatrix* m :
         {&l.wq, &l.wk, &l.wv, &l.wqkv, &l.wo, &l.ffn_gate, &l.ffn_up, &l.ffn_down})
      if (std::optional<Job> j = plan_job(tiles, *m)) jobs.push_back(*j);
  if (std::optional<Job> j = plan_job(tiles, w.output)) jobs.push_back(*j);
  if (jobs.empty()) return {};
  // Before the repacking, whose page drops then also clear what these reads faulted in.
  const std::vector<const gguf::TensorInfo*> copied = copy_vectors(file, w);

  std::vector<pack_cache::Entry> entries;
  for (const Job& j : jobs)
    entries.push_back({j.m->type, j.m->ne0, j.m->nrows,
                       static_cast<uint64_t>(static_cast<const uint8_t*>(j.m->data) -
                                             file.bytes().data()),
                       j.bytes});
  const std::optional<std::filesystem::path> dir = pack_cache::directory();
  const std::optional<std::string> key = dir ? pack_cache::key(file, entries) : std::nullopt;
  const std::optional<pack_cache::Reader> reader =
      key ? pack_cache::Reader::open(*dir, *key, entries) : std::nullopt;
  // From the cache the originals are never read; either way the copied vectors' pages go.
  const bool from_cache = reader && read_all(*reader, jobs);
  const size_t planned = jobs.size();
  if (!from_cache) repack_all(jobs);
  for (const gguf::TensorInfo* t : copied) drop_pages(t->data, t->nbytes);
  // Some copies failed (no memory): not a full entry to cache.
  if (from_cache || !key || jobs.size() != planned) return {};
  // Written behind the caller's back (the first token does not wait for the disk); the
  // thread holds the copies it writes, and joining it waits for the write to finish.
  std::vector<std::shared_ptr<const void>> owners;
  std::vector<const void*> data;
  for (const Job& j : jobs) {
    owners.push_back(j.m->packed_storage);
    data.push_back(j.dst);
  }
  return std::jthread([dir = *dir, key = *key, entries = std::move(entries),
                       owners = std::move(owners), data = std::move(data)] {
    if (Status s = pack_cache::write(dir, key, entries, data); !s)
      std::fprintf(stderr, "hearth: packed weights not cached: %s\n", s.error().message.c_str());
  });
}

}  // namespace hearth
