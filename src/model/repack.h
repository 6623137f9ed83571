// Load-time repacking of a model's matrices into the packed layouts of the kernel level in use
// (kernels/repack.h), where that level has packed kernels for the type. Each matrix gets its
// own aligned copy, and the pages of the mapped original are then dropped (madvise
// MADV_DONTNEED on the read-only file mapping: the kernel re-reads them from the file if
// anything touches them again), so resident memory stays about one model's size; the peak is
// the model plus one matrix.
#pragma once

#include "kernels/kernels.h"
#include "model/weights.h"

namespace hearth {

// Repacks every matrix of `w` that the kernel level can run packed; the rest are untouched.
// HEARTH_REPACK=0 in the environment turns this off (for comparisons).
void repack_weights(const KernelTable& kernels, ModelWeights& w);

}  // namespace hearth
