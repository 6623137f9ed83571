#!/usr/bin/env bash
# bench/make-models.sh [OUT_DIR]
#
# Writes the benchmark models of docs/benchmarks.md into OUT_DIR (default /work/ext/models;
# keep them outside the repository): random weights with the exact tensor shapes of
#   TinyLlama 1.1B  (llama: n_embd 2048, 22 layers, 32 heads / 4 KV heads, n_ff 5632,
#                    vocab 32000, ctx 2048, separate output matrix)  in Q4_0, Q4_K_M, Q5_K_M, Q8_0
#   Qwen2 0.5B      (qwen2: n_embd 896, 24 layers, 14 heads / 2 KV heads, n_ff 4864,
#                    vocab 151936, q/k/v biases, tied embeddings)    in Q4_K_M
# with `hearth synth` (an F16 file per shape) and `hearth quantize` (each type from it, with the
# tensor-type mixes of llama-quantize). Files that exist are kept, so a rerun is cheap.
#
# Environment: HEARTH (the hearth binary; default build/hearth, then build-bench/hearth),
# SHARED (the shared data folder; default REPO/../shared), THREADS (default: all cores),
# KEEP_F16=1 keeps the F16 sources (2.2 GB + 1 GB).
# Took about 30 minutes on a busy 2-core x86 VM (most of it quantizing the K-quants).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-/work/ext/models}
shared=${SHARED:-$repo/../shared}
hearth=${HEARTH:-}
if [[ -z $hearth ]]; then
  for candidate in "$repo/build/hearth" "$repo/build-bench/hearth"; do
    [[ -x $candidate ]] && hearth=$candidate && break
  done
fi
[[ -x ${hearth:-} ]] || { echo "make-models.sh: no hearth binary (set HEARTH=...)" >&2; exit 1; }
threads=${THREADS:-$(nproc)}
mkdir -p "$out"

spm_vocab=$shared/models/vocab/ggml-vocab-llama-spm.gguf
gpt2_vocab=$shared/models/vocab/ggml-vocab-gpt-2.gguf
for f in "$spm_vocab" "$gpt2_vocab"; do
  [[ -f $f ]] || { echo "make-models.sh: missing $f (set SHARED=...)" >&2; exit 1; }
done

# Qwen2's tokenizer file is not among the shared vocab files: GPT-2's byte-level BPE padded to
# Qwen2's 151936 tokens, with Qwen2's pre-tokenizer name, gives the same embedding/output shape.
qwen_vocab=$out/vocab-qwen2-shaped.gguf
[[ -f $qwen_vocab ]] || python3 "$repo/bench/pad_vocab.py" "$gpt2_vocab" 151936 "$qwen_vocab" qwen2

# synth ARCH PRESET VOCAB F16_OUT
synth() {
  [[ -f $4 ]] && return 0
  echo "== hearth synth $2 -> $4" >&2
  "$hearth" synth --arch "$1" --preset "$2" --type F16 --vocab-from "$3" --threads "$threads" "$4.part" 2>&1 | tail -1 >&2
  mv "$4.part" "$4"
}

# quantize F16_IN TYPE OUT
quantize() {
  [[ -f $3 ]] && return 0
  echo "== hearth quantize $2 -> $3" >&2
  "$hearth" quantize --threads "$threads" "$1" "$3.part" "$2" 2>&1 | tail -1 >&2
  mv "$3.part" "$3"
}

tiny_f16=$out/tinyllama-1.1b-F16.gguf
qwen_f16=$out/qwen2-0.5b-fullvocab-F16.gguf
need_tiny=0
for t in Q4_0 Q4_K_M Q5_K_M Q8_0; do [[ -f $out/tinyllama-1.1b-$t.gguf ]] || need_tiny=1; done
if (( need_tiny )); then
  synth llama tinyllama-1.1b "$spm_vocab" "$tiny_f16"
  for t in Q4_0 Q4_K_M Q5_K_M Q8_0; do quantize "$tiny_f16" "$t" "$out/tinyllama-1.1b-$t.gguf"; done
fi
if [[ ! -f $out/qwen2-0.5b-fullvocab-Q4_K_M.gguf ]]; then
  synth qwen2 qwen2-0.5b "$qwen_vocab" "$qwen_f16"
  quantize "$qwen_f16" Q4_K_M "$out/qwen2-0.5b-fullvocab-Q4_K_M.gguf"
fi
if [[ ${KEEP_F16:-0} != 1 ]]; then rm -f "$tiny_f16" "$qwen_f16"; fi

ls -l "$out"/tinyllama-1.1b-{Q4_0,Q4_K_M,Q5_K_M,Q8_0}.gguf "$out"/qwen2-0.5b-fullvocab-Q4_K_M.gguf
