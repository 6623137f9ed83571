#!/usr/bin/env bash
# Fuzzes the GGUF reader (libFuzzer, ASan+UBSan) for a bounded time.
#   scripts/fuzz.sh [SECONDS]      default 60
# Seeds: the first 256 KiB of every GGUF under $HEARTH_TEST_MODELS (default ../shared/models),
# plus fuzz/seeds/ and fuzz/regressions/. Exits non-zero on any crash, leak or timeout; the input
# is saved under build-fuzz/crashes/ — copy it into fuzz/regressions/ (a unit test replays it).
set -euo pipefail
seconds=${1:-60}
cd "$(dirname "$0")/.."
root=$PWD
models=${HEARTH_TEST_MODELS:-$root/../shared/models}
build=$root/build-fuzz

CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DHEARTH_FUZZ=ON -DHEARTH_BUILD_TESTS=OFF -DHEARTH_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" --target gguf_reader_fuzz -j "$(nproc)"

seeds=$build/seeds
corpus=$build/corpus
crashes=$build/crashes
rm -rf "$seeds"
mkdir -p "$seeds" "$corpus" "$crashes"
if [ -d "$models" ]; then
  while IFS= read -r -d '' f; do
    head -c 262144 "$f" >"$seeds/$(basename "$f").head"
  done < <(find "$models" -name '*.gguf' -print0)
else
  echo "fuzz.sh: $models absent; using the committed seeds only" >&2
fi
cp fuzz/seeds/* fuzz/regressions/* "$seeds"/ 2>/dev/null || true
echo "fuzz.sh: $(ls "$seeds" | wc -l) seeds, ${seconds}s"

# -max_len covers a whole header of the shared models; -rss_limit_mb catches allocation bombs
# (the reader's allocations are bounded by a small multiple of the input size).
status=0
"$build/fuzz/gguf_reader_fuzz" -max_total_time="$seconds" -max_len=262144 -rss_limit_mb=1024 \
  -malloc_limit_mb=512 -timeout=20 -print_final_stats=1 -artifact_prefix="$crashes/" \
  "$corpus" "$seeds" || status=$?
if [ "$status" -ne 0 ]; then
  echo "fuzz.sh: the fuzzer failed (status $status); crashing input in $crashes/:" >&2
  ls -l "$crashes" >&2
  exit 1
fi
echo "fuzz.sh: no crash in ${seconds}s"
