// bert's encoder (all-MiniLM-L6-v2, bge-small/base): the forward pass that embeddings come
// from (runtime/embed.h pools and normalises its output). Separate from the decoders'
// ForwardContext because it has no KV cache, no positions past one input and no logits.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/status.h"
#include "model/model.h"
#include "runtime/thread_pool.h"

namespace hearth {

// Per-call activations, (n_tokens, width) row-major F32, grown to the largest batch seen.
struct BertScratch {
  std::vector<float> x;      // (n, n_embd) the residual stream
  std::vector<float> q, k, v;// (n, n_embd) each
  std::vector<float> attn;   // (n, n_embd) attention output before attn_output
  std::vector<float> proj;   // (n, n_embd) a sub-block's output projection
  std::vector<float> ffn;    // (n, n_ff)
  std::vector<float> row;    // (n_embd) one dequantised embedding row
  std::vector<float> scores; // attention weights (threads × longest sequence)
  std::vector<uint8_t> act;  // quantised activations for matmul
};

// tokens: the ids of every sequence, back to back; starts: each sequence's first row, then
// tokens.size() (sequence i is rows [starts[i], starts[i+1]), each 1..context_length long).
// hidden receives the last layer's output: (tokens.size(), n_embd). Ids outside the
// vocabulary and overlong sequences are Errors.
Status encode_bert(const Model& model, ThreadPool& pool, BertScratch& s,
                   std::span<const int32_t> tokens, std::span<const int64_t> starts, float* hidden);

}  // namespace hearth
