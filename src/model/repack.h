// Load-time repacking of a model's matrices into the packed layouts of the kernel level in use
// (kernels/repack.h), where that level has packed kernels for the type. Each matrix gets its
// own aligned copy, written by every core in ~1 MiB pieces; behind each piece the pages of the
// mapped original are dropped (madvise MADV_DONTNEED on the read-only file mapping: the kernel
// re-reads them from the file if anything touches them again), so resident memory stays about
// one model's size all along, the peak included. A tied token embedding is then read from the
// packed output copy (model/blocks.cpp), and the norms and biases are copied off the mapping,
// so once loaded a repacked model reads nothing from the file: no fault brings pages back.
#pragma once

#include <thread>

#include "kernels/kernels.h"
#include "model/weights.h"

namespace hearth {

// Repacks every matrix of `w` that the kernel level can run packed; the rest are untouched.
// The packed copies come from the packed-weight cache when it holds this file's
// (model/pack_cache.h); otherwise they are made here and the returned thread writes them to
// the cache (the caller keeps it until done: joining waits for the write). HEARTH_REPACK=0 in
// the environment turns repacking off (for comparisons).
std::jthread repack_weights(const KernelTable& kernels, const gguf::File& file, ModelWeights& w);

}  // namespace hearth
