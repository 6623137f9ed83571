#!/usr/bin/env bash
# Embedding throughput, hearth next to llama.cpp's llama-embedding on the same GGUF file, lines
# file and thread counts, runs alternated A B A B so drift cancels. Sentences/s is lines ÷ wall
# time of the whole process (load, tokenize, encode, print every vector), the same work for both.
#
#   bench/compare-embedding.sh HEARTH LLAMA_EMBEDDING MODEL.gguf SENTENCES.txt [threads] [rounds] [batch]
#
# llama-embedding packs whole lines into batches of `batch` tokens (default 256, its fastest
# setting here; 2048 is several times slower, attention being dense over the batch); every line
# must fit in one batch.
set -euo pipefail
if [[ $# -lt 4 ]]; then
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
hearth=$1 llama=$2 model=$3 lines=$4 threads=${5:-"1 2"} rounds=${6:-3} batch=${7:-256}
n=$(grep -c . "$lines")
wall() {  # command... -> seconds of wall time
  local t0 t1
  t0=$(date +%s.%N)
  "$@" > /dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}'
}
echo "| threads | engine | wall s (per round) | sentences/s (mean) |"
echo "|---|---|---|---|"
for t in $threads; do
  h=() l=()
  for ((r = 0; r < rounds; ++r)); do
    h+=("$(wall "$hearth" embed -m "$model" -t "$t" --stdin < "$lines")")
    l+=("$(wall "$llama" -m "$model" -f "$lines" --pooling mean --embd-normalize 2 -b "$batch" \
      -ub "$batch" -c "$batch" -t "$t" --embd-output-format array)")
  done
  for engine in hearth llama.cpp; do
    if [[ $engine == hearth ]]; then v=("${h[@]}"); else v=("${l[@]}"); fi
    mean=$(printf '%s\n' "${v[@]}" | awk '{s += $1} END {printf "%.3f", s / NR}')
    printf '| %s | %s | %s | %.0f |\n' "$t" "$engine" "$(printf '%.2f ' "${v[@]}")" \
      "$(awk -v n="$n" -v m="$mean" 'BEGIN {print n / m}')"
  done
done
