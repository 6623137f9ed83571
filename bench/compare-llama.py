#!/usr/bin/env python3
"""Side-by-side speed of hearth and llama.cpp on the same GGUF files (docs/benchmarks.md).

  bench/compare-llama.py --llama-bench PATH/llama-bench -m A.gguf,B.gguf [-t 1,2] [-r 2]
                         [--rounds 2] [-p 512] [-n 128] [--hearth build/hearth] [--save DIR]

For every model and thread count it runs `hearth bench -o json` (A) and `llama-bench -o json` (B)
alternately, A B A B ... (--rounds pairs), on the same file with the same thread count, -p, -n
and -r, so slow drift of a shared machine (other jobs, heat) hits both engines alike. Samples
of all rounds are pooled per engine; the table gives mean ± stddev t/s, the ratio
hearth / llama.cpp, tg as a percentage of the memory-bandwidth roofline (one `hearth bench
--bandwidth` run at the start), and each process's peak RSS (the kernel's ru_maxrss of that
child, so both engines are measured the same way). Markdown on stdout, progress on stderr.

With --llama-cli PATH it also times load to first token: for every model and thread count,
--first-token-rounds A B pairs of `hearth run -p Hello -n 1` and `llama-cli -no-cnv -p Hello -n 1`
(greedy), each the wall time of the whole process (start, load the file, tokenise, one prompt
decode, one token), median per engine, after one untimed run of each (the file in the page
cache for both; hearth's packed-weight cache written, as after any first load).
--first-token-only skips the speed runs.
Python 3 standard library only.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def log(msg):
    print(f"[compare] {msg}", file=sys.stderr, flush=True)


def run(cmd, env=None):
    """Runs cmd to its end; returns (stdout text, peak RSS in bytes, wall seconds)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - t0
        out.seek(0)
        err.seek(0)
        text = out.read().decode("utf-8", "replace")
        if returncode != 0:
            tail = err.read().decode("utf-8", "replace")[-2000:]
            raise SystemExit(f"{' '.join(cmd)}\nexited with {returncode}:\n{tail}")
    return text, usage.ru_maxrss * 1024, seconds


def run_json(cmd, env=None):
    """Runs cmd; returns (parsed JSON of stdout, peak RSS in bytes, seconds)."""
    text, rss, seconds = run(cmd, env)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise SystemExit(f"{' '.join(cmd)}: stdout is not JSON ({e}):\n{text[:2000]}")
    return data, rss, seconds


def test_key(obj):
    return "pp%d" % obj["n_prompt"] if obj["n_gen"] == 0 else "tg%d" % obj["n_gen"]


def pooled(samples):
    if not samples:
        return float("nan"), float("nan")
    return statistics.fmean(samples), statistics.stdev(samples) if len(samples) > 1 else 0.0


def find_hearth(path):
    if path:
        return path
    for cand in ("build/hearth", "build-bench/hearth"):
        p = os.path.join(REPO, cand)
        if os.access(p, os.X_OK):
            return p
    raise SystemExit("no hearth binary found: give --hearth PATH")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--llama-bench", help="path of llama-bench (required unless --from-json)")
    ap.add_argument("--hearth", help="path of the hearth binary (default build/hearth)")
    ap.add_argument("-m", "--model", action="append", default=[], help="GGUF file(s), comma-separated or repeated")
    ap.add_argument("-t", "--threads", default="1,2", help="thread counts (default 1,2)")
    ap.add_argument("-p", "--n-prompt", type=int, default=512)
    ap.add_argument("-n", "--n-gen", type=int, default=128)
    ap.add_argument("-r", "--repetitions", type=int, default=2, help="repetitions per run (default 2)")
    ap.add_argument("--rounds", type=int, default=2, help="A B pairs per model and thread count (default 2)")
    ap.add_argument("--llama-cli", help="path of llama-cli: also time load to first token")
    ap.add_argument("--first-token-only", action="store_true", help="only the load timing (needs --llama-cli)")
    ap.add_argument("--first-token-rounds", type=int, default=3, help="A B pairs of the load timing (default 3)")
    ap.add_argument("--no-bandwidth", action="store_true", help="skip the roofline column")
    ap.add_argument("--save", help="folder for every run's raw JSON (runs.json, rewritten after each run)")
    ap.add_argument("--from-json", help="print the tables of a saved runs.json (no runs)")
    a = ap.parse_args()
    if a.from_json:
        with open(a.from_json) as f:
            saved = json.load(f)
        print_tables(saved["runs"], saved.get("bandwidth_gbs"))
        print_first_token(saved.get("first_token", []))
        return

    hearth = find_hearth(a.hearth)
    llama = a.llama_bench
    if a.first_token_only and not a.llama_cli:
        raise SystemExit("--first-token-only needs --llama-cli PATH")
    if not a.model or not (llama or a.first_token_only):
        raise SystemExit("give --llama-bench PATH and -m FILES")
    if not a.first_token_only and not (os.path.isfile(llama) and os.access(llama, os.X_OK)):
        raise SystemExit(f"{llama}: not an executable llama-bench")
    models = [m for arg in a.model for m in arg.split(",") if m]
    for m in models:
        if not os.path.isfile(m):
            raise SystemExit(f"{m}: no such file")
    try:
        threads = [int(t) for t in a.threads.split(",")]
        assert all(t > 0 for t in threads)
    except (ValueError, AssertionError):
        raise SystemExit(f"-t {a.threads}: give positive integers separated by commas")
    if a.n_prompt < 1 or a.n_gen < 1 or a.repetitions < 1 or a.rounds < 1:
        raise SystemExit("-p, -n, -r and --rounds must be at least 1")
    if a.llama_cli and not (os.path.isfile(a.llama_cli) and os.access(a.llama_cli, os.X_OK)):
        raise SystemExit(f"{a.llama_cli}: not an executable llama-cli")
    if a.first_token_rounds < 1:
        raise SystemExit("--first-token-rounds must be at least 1")
    if a.save:
        os.makedirs(a.save, exist_ok=True)

    started = time.monotonic()
    common = ["-p", str(a.n_prompt), "-n", str(a.n_gen), "-r", str(a.repetitions)]
    bandwidth = None
    if not a.no_bandwidth and not a.first_token_only:
        log("memory bandwidth (hearth bench --bandwidth, all cores)")
        data, _, _ = run_json([hearth, "bench", "-m", models[0], "-p", "1", "-n", "1", "-r", "1",
                               "--ttft", "none", "-q", "--bandwidth", "-o", "json"])
        bandwidth = next(o["bandwidth_gbs"] for o in data if "bandwidth_gbs" in o)
        log(f"  {bandwidth:.2f} GB/s")

    runs = []
    for model in models if not a.first_token_only else []:
        for t in threads:
            for rnd in range(a.rounds):
                for engine in ("hearth", "llama.cpp"):
                    if engine == "hearth":
                        cmd = [hearth, "bench", "-m", model, "-t", str(t), *common, "--ttft", "none", "-q", "-o", "json"]
                    else:
                        cmd = [llama, "-m", model, "-t", str(t), *common, "-o", "json"]
                    log(f"{os.path.basename(model)} t={t} round {rnd + 1}/{a.rounds}: {engine}")
                    data, rss, secs = run_json(cmd)
                    runs.append({"engine": engine, "model": model, "threads": t, "round": rnd,
                                 "cmd": cmd, "peak_rss_bytes": rss, "seconds": secs, "tests": data})
                    if a.save:  # after every run: an interrupted comparison keeps what it measured
                        with open(os.path.join(a.save, "runs.json"), "w") as f:
                            json.dump({"bandwidth_gbs": bandwidth, "runs": runs}, f, indent=1)
    first_token = []
    if a.llama_cli:
        for model in models:
            for t in threads:
                for rnd in range(-1, a.first_token_rounds):  # round -1: the untimed warm-up
                    for engine in ("hearth", "llama.cpp"):
                        if engine == "hearth":
                            cmd = [hearth, "run", "-m", model, "-t", str(t), "-p", "Hello", "-n", "1", "--temp", "0"]
                        else:
                            cmd = [a.llama_cli, "-m", model, "-t", str(t), "-p", "Hello", "-n", "1", "--temp", "0",
                                   "-no-cnv"]
                        log(f"{os.path.basename(model)} t={t} load to first token {rnd + 1}/{a.first_token_rounds}: {engine}")
                        _, rss, secs = run(cmd)
                        if rnd < 0:
                            continue
                        first_token.append({"engine": engine, "model": model, "threads": t, "round": rnd,
                                            "cmd": cmd, "seconds": secs, "peak_rss_bytes": rss})
                if a.save:
                    with open(os.path.join(a.save, "runs.json"), "w") as f:
                        json.dump({"bandwidth_gbs": bandwidth, "runs": runs, "first_token": first_token}, f, indent=1)
    if runs:
        print_tables(runs, bandwidth)
    print_first_token(first_token)
    if runs:
        print(f"{a.rounds} rounds (A B alternated) x {a.repetitions} repetitions per engine, model and thread "
              f"count; ", end="")
    print(f"took {(time.monotonic() - started) / 60:.1f} min.")


def print_tables(runs, bandwidth):
    """Markdown tables from the runs (also for --from-json of a saved, possibly partial, set)."""
    results, meta = {}, {}
    for run in runs:
        for obj in run["tests"]:
            slot = results.setdefault((run["model"], run["threads"], test_key(obj)), {}).setdefault(
                run["engine"], {"ts": []})
            slot["ts"].extend(obj["samples_ts"])
            if run["engine"] == "hearth":
                meta[run["model"]] = {"size": obj["model_size"], "bytes_per_token": obj.get("bytes_per_token")}
    models = list(dict.fromkeys(r["model"] for r in runs))
    threads = list(dict.fromkeys(r["threads"] for r in runs))
    mib = lambda b: b / 1048576.0
    print(f"| model | size | threads | test | llama.cpp t/s | hearth t/s | hearth / llama.cpp |"
          + (" hearth % of roofline |" if bandwidth else ""))
    print("| --- | ---: | ---: | --- | ---: | ---: | ---: |" + (" ---: |" if bandwidth else ""))
    for (model, t, test), by in results.items():
        hm, hs = pooled(by.get("hearth", {}).get("ts", []))
        lm, ls = pooled(by.get("llama.cpp", {}).get("ts", []))
        m = meta.get(model, {})
        roof = ""
        if bandwidth:
            bpt = m.get("bytes_per_token")
            roof = f" {100.0 * hm / (bandwidth * 1e9 / bpt):.0f}% |" if test.startswith("tg") and bpt else " |"
        ratio = f"{hm / lm:.2f}x" if lm == lm and hm == hm and lm > 0 else "n/a"
        print(f"| {os.path.basename(model)} | {mib(m.get('size', 0)):.0f} MiB | {t} | {test} | {lm:.2f} ± {ls:.2f} "
              f"| {hm:.2f} ± {hs:.2f} | {ratio} |{roof}")
    print()
    print("| model | threads | llama.cpp peak RSS | hearth peak RSS | hearth / llama.cpp |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for model in models:
        for t in threads:
            peak = {e: max([r["peak_rss_bytes"] for r in runs if r["engine"] == e and r["model"] == model
                            and r["threads"] == t], default=0) for e in ("hearth", "llama.cpp")}
            if not (peak["hearth"] and peak["llama.cpp"]):
                continue
            print(f"| {os.path.basename(model)} | {t} | {mib(peak['llama.cpp']):.0f} MiB | {mib(peak['hearth']):.0f} MiB "
                  f"| {peak['hearth'] / peak['llama.cpp']:.2f}x |")
    print()
    if bandwidth:
        print(f"Memory bandwidth (STREAM triad, all cores, hearth bench --bandwidth): {bandwidth:.2f} GB/s.")


def print_first_token(rows):
    """The load-to-first-token table: median wall seconds per engine, model and thread count."""
    if not rows:
        return
    print("| model | threads | llama.cpp load to first token | hearth load to first token | hearth / llama.cpp |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for model in dict.fromkeys(r["model"] for r in rows):
        for t in dict.fromkeys(r["threads"] for r in rows):
            med = {e: statistics.median([r["seconds"] for r in rows if r["engine"] == e and r["model"] == model
                                         and r["threads"] == t] or [float("nan")]) for e in ("hearth", "llama.cpp")}
            print(f"| {os.path.basename(model)} | {t} | {med['llama.cpp']:.2f} s | {med['hearth']:.2f} s "
                  f"| {med['hearth'] / med['llama.cpp']:.2f}x |")
    print()


if __name__ == "__main__":
    main()
