// See weights.h.
#include "model/weights.h"

#include <string>

namespace hearth {
namespace {

std::string shape_string(const std::vector<int64_t>& ne) {
  std::string s = "[";
  for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "]";
}

}  // namespace

std::vector<const float**> vector_slots(ModelWeights& w) {
  std::vector<const float**> slots = {&w.output_norm,        &w.output_norm_b,
                                      &w.rope_freqs,         &w.rope_factors_short,
                                      &w.rope_factors_long,  &w.token_embd_norm,
                                      &w.token_embd_norm_b};
  for (LayerWeights& l : w.layers)
    for (const float** p : {&l.attn_norm, &l.attn_norm_b, &l.bq, &l.bk, &l.bv, &l.ffn_norm,
                            &l.ffn_norm_b, &l.bo, &l.ffn_up_b, &l.ffn_down_b, &l.attn_out_norm,
                            &l.attn_out_norm_b, &l.layer_out_norm, &l.layer_out_norm_b})
      slots.push_back(p);
  return slots;
}

std::string layer_tensor(int64_t layer, const char* suffix) {
  return "blk." + std::to_string(layer) + "." + suffix;
}

Result<const gguf::TensorInfo*> WeightLoader::find(const std::string& name,
                                                   const std::vector<int64_t>& ne) const {
  const gguf::TensorInfo* t = file_.find_tensor(name);
  if (t == nullptr) return Error{file_.name() + ": tensor " + name + " is missing"};
  if (t->ne != ne)
    return Error{file_.name() + ": tensor " + name + " has shape " + shape_string(t->ne) +
                 ", expected " + shape_string(ne)};
  // The reader checks this too; weights are where a truncated file would otherwise be read.
  const auto bytes = file_.bytes();
  if (t->data == nullptr || t->data < bytes.data() ||
      t->data + t->nbytes > bytes.data() + bytes.size())
    return Error{file_.name() + ": tensor " + name + " extends past the end of the file"};
  return t;
}

Result<const gguf::TensorInfo*> WeightLoader::tensor(const std::string& name,
                                                     std::vector<int64_t> ne) const {
  Result<const gguf::TensorInfo*> t = find(name, ne);
  if (!t) return t;
  const TypeTraits& tt = type_traits((*t)->type);
  if (tt.dequantize == nullptr)
    return Error{file_.name() + ": tensor " + name + " has type " + std::string(tt.name) +
                 ", which hearth cannot read"};
  return t;
}

Result<WeightMatrix> WeightLoader::matrix(const std::string& name, int64_t cols,
                                          int64_t rows) const {
  Result<const gguf::TensorInfo*> t = find(name, {cols, rows});
  if (!t) return t.error();
  const gguf::TensorInfo& info = **t;
  const TypeTraits& tt = type_traits(info.type);
  const FormatKernels& k = kernels_.of(info.type);
  if (k.vec_dot == nullptr || k.quantize_act == nullptr)
    return Error{file_.name() + ": tensor " + name + " has type " + std::string(tt.name) +
                 ", which has no matrix kernel"};
  const std::optional<size_t> row = row_bytes(info.type, cols);
  const int64_t act_block = type_traits(k.act_type).block_size;
  if (!row || cols % act_block != 0)
    return Error{file_.name() + ": tensor " + name + ": rows of " + std::to_string(cols) +
                 " are not whole " + std::string(tt.name) + " blocks"};
  WeightMatrix w;
  w.type = info.type;
  w.ne0 = cols;
  w.nrows = rows;
  w.data = info.data;
  w.row_stride = *row;
  return w;
}

Result<WeightMatrix> WeightLoader::optional_matrix(const std::string& name, int64_t cols,
                                                   int64_t rows) const {
  if (!has(name)) return WeightMatrix{};
  return matrix(name, cols, rows);
}

Result<const float*> WeightLoader::vector(const std::string& name, int64_t n) const {
  Result<const gguf::TensorInfo*> t = find(name, {n});
  if (!t) return t.error();
  if ((*t)->type != GgmlType::F32)
    return Error{file_.name() + ": tensor " + name + " has type " +
                 std::string(type_traits((*t)->type).name) + ", expected F32"};
  // GGUF aligns tensor data (32 bytes by default), so the floats can be read in place.
  if (reinterpret_cast<uintptr_t>((*t)->data) % alignof(float) != 0)
    return Error{file_.name() + ": tensor " + name + " is misaligned"};
  return reinterpret_cast<const float*>((*t)->data);
}

Result<const float*> WeightLoader::optional_vector(const std::string& name, int64_t n) const {
  if (!has(name)) return static_cast<const float*>(nullptr);
  return vector(name, n);
}

Status load_common_weights(const WeightLoader& loader, const ModelConfig& c, ModelWeights& w) {
  Result<const gguf::TensorInfo*> embd = loader.tensor("token_embd.weight", {c.n_embd, c.n_vocab});
  if (!embd) return embd.error();
  w.token_embd = *embd;
  Result<const float*> norm = loader.vector("output_norm.weight", c.n_embd);
  if (!norm) return norm.error();
  w.output_norm = *norm;
  if (c.norm_type == NormType::kLayer) {
    Result<const float*> b = loader.optional_vector("output_norm.bias", c.n_embd);
    if (!b) return b.error();
    w.output_norm_b = *b;
  }
  Result<WeightMatrix> out = c.tied_output ? loader.matrix("token_embd.weight", c.n_embd, c.n_vocab)
                                           : loader.matrix("output.weight", c.n_embd, c.n_vocab);
  if (!out) return out.error();
  w.output = *out;

  const int64_t n_freq = c.rope_dims / 2;
  Result<const float*> freqs = loader.optional_vector("rope_freqs.weight", n_freq);
  if (!freqs) return freqs.error();
  w.rope_freqs = *freqs;
  Result<const float*> f_short = loader.optional_vector("rope_factors_short.weight", n_freq);
  if (!f_short) return f_short.error();
  w.rope_factors_short = *f_short;
  Result<const float*> f_long = loader.optional_vector("rope_factors_long.weight", n_freq);
  if (!f_long) return f_long.error();
  w.rope_factors_long = *f_long;
  return {};
}

}  // namespace hearth
