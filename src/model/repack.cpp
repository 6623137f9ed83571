// See repack.h.
#include "model/repack.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <new>

#include "kernels/repack.h"
#include "kernels/tile.h"

namespace hearth {
namespace {

// Drops the whole pages inside [p, p + n) from this process's resident set.
void drop_pages(const void* p, size_t n) {
  const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const auto begin = (reinterpret_cast<uintptr_t>(p) + page - 1) & ~(page - 1);
  const auto end = (reinterpret_cast<uintptr_t>(p) + n) & ~(page - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

void repack_matrix(const TileKernels& tiles, WeightMatrix& m) {
  if (m.nrows == 0 || m.data == nullptr || m.packed != nullptr) return;
  if (tiles.packed_of(m.type) == nullptr) return;
  const std::optional<size_t> bytes = packed_bytes(m.type, m.ne0, m.nrows);
  if (!bytes) return;
  auto* dst = static_cast<uint8_t*>(::operator new(*bytes, std::align_val_t{64}, std::nothrow));
  if (dst == nullptr) return;  // no memory for a copy: the plain layout still works
  repack_rows(m.type, m.data, m.row_stride, m.ne0, m.nrows, dst);
  m.packed = dst;
  m.packed_storage = std::shared_ptr<const void>(
      dst, [](const void* q) { ::operator delete(const_cast<void*>(q), std::align_val_t{64}); });
  drop_pages(m.data, m.row_stride * static_cast<size_t>(m.nrows));
}

}  // namespace

void repack_weights(const KernelTable& kernels, ModelWeights& w) {
  if (const char* env = std::getenv("HEARTH_REPACK"); env != nullptr && std::strcmp(env, "0") == 0)
    return;
  const TileKernels& tiles = tile_kernels(kernels.isa);
  for (LayerWeights& l : w.layers)
    for (WeightMatrix* m : {&l.wq, &l.wk, &l.wv, &l.wqkv, &l.wo, &l.ffn_gate, &l.ffn_up, &l.ffn_down})
      repack_matrix(tiles, *m);
  repack_matrix(tiles, w.output);
}

}  // namespace hearth
