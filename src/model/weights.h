// Tensor look-up by name with shape and type checks, and the weights of one transformer, as
// the architecture files fill them in. Every check happens at load: a missing tensor, a wrong
// shape, a type without a kernel, or data past the end of the file is an Error naming the
// tensor, so the forward pass never meets a surprise.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "gguf/reader.h"
#include "kernels/kernels.h"
#include "model/config.h"
#include "ops/matmul.h"

namespace hearth {

// The weights of one block. Matrices are (out, in) as GGUF stores them (ne0 = in); vectors
// are F32. Optional tensors are null / empty (`nrows == 0`).
struct LayerWeights {
  const float* attn_norm = nullptr;    // (n_embd)
  const float* attn_norm_b = nullptr;  // (n_embd), LayerNorm only
  WeightMatrix wq, wk, wv;             // (n_embd_q, n_embd), (n_embd_kv, n_embd) ×2
  WeightMatrix wqkv;                   // (n_embd_q + 2 n_embd_kv, n_embd), phi3's fused form
  const float* bq = nullptr;           // (n_embd_q)   qwen2, some stablelm
  const float* bk = nullptr;           // (n_embd_kv)
  const float* bv = nullptr;           // (n_embd_kv)
  WeightMatrix wo;                     // (n_embd, n_embd_q)
  const float* ffn_norm = nullptr;     // (n_embd); null in stablelm's parallel-residual form
  const float* ffn_norm_b = nullptr;   // (n_embd)
  WeightMatrix ffn_gate;               // (n_ff, n_embd); empty when fused into ffn_up (phi3)
  WeightMatrix ffn_up;                 // (n_ff, n_embd) or (2 n_ff, n_embd): gate rows first
  WeightMatrix ffn_down;               // (n_embd, n_ff)
  // bert (post-norm encoder): output/FFN biases and the LayerNorms after each residual.
  const float* bo = nullptr;               // (n_embd) attn_output.bias
  const float* ffn_up_b = nullptr;         // (n_ff)
  const float* ffn_down_b = nullptr;       // (n_embd)
  const float* attn_out_norm = nullptr;    // (n_embd) attn_output_norm, after x + attention
  const float* attn_out_norm_b = nullptr;  // (n_embd)
  const float* layer_out_norm = nullptr;   // (n_embd) layer_output_norm, after x + FFN
  const float* layer_out_norm_b = nullptr; // (n_embd)
};

struct ModelWeights {
  const gguf::TensorInfo* token_embd = nullptr;  // (n_vocab, n_embd), any type with a dequantizer
  const float* output_norm = nullptr;            // (n_embd)
  const float* output_norm_b = nullptr;          // (n_embd), LayerNorm only
  WeightMatrix output;                           // (n_vocab, n_embd): output.weight or token_embd
  // Per-frequency divisors of RoPE (rope_dims / 2 each): Llama 3.1+ `rope_freqs`, or phi3
  // LongRoPE's short/long factors. Null when absent.
  const float* rope_freqs = nullptr;
  const float* rope_factors_short = nullptr;
  const float* rope_factors_long = nullptr;
  // bert's input embeddings: x = LN(token_embd[id] + token_types[0] + position_embd[pos]).
  const gguf::TensorInfo* token_types = nullptr;   // (n_token_types, n_embd)
  const gguf::TensorInfo* position_embd = nullptr; // (n_ctx_train, n_embd)
  const float* token_embd_norm = nullptr;          // (n_embd)
  const float* token_embd_norm_b = nullptr;        // (n_embd)
  std::vector<LayerWeights> layers;
  // Where the vectors point once copied off the file mapping (model/repack.h); else empty.
  std::vector<float> vector_copies;
};

// The address of every vector pointer of w (norms, biases, rope factors), set or not, so
// code that moves the vectors can redirect them.
std::vector<const float**> vector_slots(ModelWeights& w);

// Finds tensors by name and checks them against the shapes the configuration implies.
class WeightLoader {
 public:
  WeightLoader(const gguf::File& file, const KernelTable& kernels)
      : file_(file), kernels_(kernels) {}

  // A matrix of `rows` rows of `cols` elements (GGUF ne = {cols, rows}) whose type has a
  // dot-product kernel.
  Result<WeightMatrix> matrix(const std::string& name, int64_t cols, int64_t rows) const;
  // As matrix(), or an empty matrix when the tensor is absent.
  Result<WeightMatrix> optional_matrix(const std::string& name, int64_t cols, int64_t rows) const;
  // An F32 vector of n elements.
  Result<const float*> vector(const std::string& name, int64_t n) const;
  // As vector(), or null when absent.
  Result<const float*> optional_vector(const std::string& name, int64_t n) const;
  // Any tensor of shape ne, whatever its type (its dequantizer must exist).
  Result<const gguf::TensorInfo*> tensor(const std::string& name, std::vector<int64_t> ne) const;

  bool has(const std::string& name) const { return file_.find_tensor(name) != nullptr; }
  const gguf::File& file() const { return file_; }

 private:
  Result<const gguf::TensorInfo*> find(const std::string& name, const std::vector<int64_t>& ne) const;
  const gguf::File& file_;
  const KernelTable& kernels_;
};

// "blk.<layer>.<suffix>"
std::string layer_tensor(int64_t layer, const char* suffix);

// Loads token_embd, output_norm(.bias), output (or the tied embedding) and the rope factor
// tensors: the parts every architecture shares.
Status load_common_weights(const WeightLoader& loader, const ModelConfig& c, ModelWeights& w);

}  // namespace hearth

// In a Status-returning loader: dst = *expr, or return its error (the file and tensor it names).
#define HEARTH_LOAD(dst, expr)                \
  do {                                        \
    auto hearth_r_ = (expr);                  \
    if (!hearth_r_) return hearth_r_.error(); \
    (dst) = *hearth_r_;                       \
  } while (0)
