#!/usr/bin/env bash
# Thread scaling of the int8 GEMM (BM_gemm_threads, 2048^3, 1, 2, 4, ... threads up to the
# cores here) on a shared machine: the executable runs ROUNDS times, each time every thread
# count with REPS repetitions, and the summary gives per thread count the best and the median
# time over all repetitions and the speed-up over one thread, both ways (best/best and
# median/median). The best is what the code does when no other tenant gets in the way; the
# median is what a user sees on the shared machine. Alongside, one peak probe per core, all at
# once: the sum is what the cores give together (turbo, shared caches and neighbours included);
# and the one-thread GEMM itself, one pinned copy per core, all at once: the sum is what the
# cores give together on this very GEMM, the fair reference for the threaded rows.
#
#   bash bench/scaling.sh [--exe PATH] [--rounds N] [--reps N] [--out DIR] [--loader DIR]
#
# --exe      lightq_bench_gemm_<backend> (default: build/bench/bench/lightq_bench_gemm_avx512_vnni)
# --loader   a folder holding ld-linux-x86-64.so.2 and the executable's shared libraries, for a
#            machine without them (the executable runs through that loader)
# --out      where the JSON files and summary.txt go (default: build/bench/scaling)
set -euo pipefail

exe=build/bench/bench/lightq_bench_gemm_avx512_vnni
rounds=4
reps=5
out=build/bench/scaling
loader=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --exe) exe=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --loader) loader=$2; shift 2 ;;
    *) echo "scaling.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ -x "$exe" ]] || { echo "scaling.sh: no executable $exe (build it: cmake --build build/bench --target $(basename "$exe"))" >&2; exit 1; }
mkdir -p "$out"
prefix=()
[[ -n "$loader" ]] && prefix=("$loader/ld-linux-x86-64.so.2" --library-path "$loader")
pin=()
command -v taskset >/dev/null && pin=(taskset -c)

cores=$(nproc)
echo "scaling: $cores cores, $rounds rounds x $reps repetitions, $exe"
# One probe per core, all at once (the executable prints its probe and runs no benchmark).
for ((c = 0; c < cores; ++c)); do
  if [[ ${#pin[@]} -gt 0 ]]; then
    "${pin[@]}" "$c" "${prefix[@]}" "$exe" --benchmark_filter='^$' >"$out/probe_$c.txt" 2>&1 &
  else
    "${prefix[@]}" "$exe" --benchmark_filter='^$' >"$out/probe_$c.txt" 2>&1 &
  fi
done
wait
# The same one-thread GEMM run once per core, all at once, each copy pinned: what the cores
# give together on this GEMM (their shared L3, memory and power included), the reference for
# the threaded rows. On a shared machine the one-thread row itself lands on whichever core the
# scheduler picks, fast or slow.
for ((c = 0; c < cores; ++c)); do
  if [[ ${#pin[@]} -gt 0 ]]; then
    "${pin[@]}" "$c" "${prefix[@]}" "$exe" --benchmark_filter='BM_gemm_threads/.*/1/real_time$' --benchmark_repetitions="$reps" \
      --benchmark_min_time=0.2 --benchmark_out="$out/copy_$c.json" --benchmark_out_format=json >/dev/null 2>&1 &
  fi
done
wait
for ((r = 1; r <= rounds; ++r)); do
  "${prefix[@]}" "$exe" --benchmark_filter='BM_gemm_threads/' --benchmark_repetitions="$reps" --benchmark_min_time=0.2 \
    --benchmark_out="$out/threads_$r.json" --benchmark_out_format=json >/dev/null 2>&1
  echo "round $r done"
done

python3 - "$out" "$cores" <<'PY' | tee "$out/summary.txt"
import glob, json, re, statistics as st, sys
out, cores = sys.argv[1], int(sys.argv[2])
times = {}
for f in sorted(glob.glob(out + "/threads_*.json")):
    for b in json.load(open(f))["benchmarks"]:
        if b.get("run_type") != "iteration":
            continue
        times.setdefault(int(b["name"].split("/")[-2]), []).append(b["real_time"])
probes = []
for f in glob.glob(out + "/probe_*.txt"):
    m = re.search(r"int8 VNNI vpdpbusd zmm\s+([\d.]+) GOP/s", open(f).read())
    if m:
        probes.append(float(m.group(1)))
ops = 2.0 * 2048 ** 3
b1, m1 = min(times[1]), st.median(times[1])
print("int8 GEMM 2048^3 (qs8 x qc8w -> int8), wall-clock ms over %d samples per thread count" % len(times[1]))
print("| threads | best ms | median ms | best/best | median/median | GOP/s (best) |")
print("|--:|--:|--:|--:|--:|--:|")
for t in sorted(times):
    b, m = min(times[t]), st.median(times[t])
    print("| %d | %.2f | %.2f | %.2fx | %.2fx | %.0f |" % (t, b, m, b1 / b, m1 / m, ops / b / 1e6))
if probes:
    probes.sort()
    print("\nVNNI peak probe, one per core, %d cores at once: sum %.0f GOP/s = %.1fx the fastest core "
          "(slowest %.0f, median %.0f, fastest %.0f GOP/s)" % (len(probes), sum(probes), sum(probes) / probes[-1],
                                                                probes[0], st.median(probes), probes[-1]))
    tmax = max(times)
    print("%d threads at their best: %.0f%% of that sum" % (tmax, 100 * ops / min(times[tmax]) / 1e6 / sum(probes)))
copies = []
for f in glob.glob(out + "/copy_*.json"):
    runs = [b["real_time"] for b in json.load(open(f))["benchmarks"] if b.get("run_type") == "iteration"]
    if runs:
        copies.append(ops / st.median(runs) / 1e6)
if copies:
    copies.sort()
    tmax = max(times)
    total = sum(copies)
    print("\nThe one-thread GEMM, one pinned copy per core, %d at once (medians): sum %.0f GOP/s "
          "(slowest %.0f, median %.0f, fastest %.0f GOP/s per copy)" % (len(copies), total, copies[0], st.median(copies), copies[-1]))
    print("%d threads: %.0f%% of that sum at their best, %.0f%% at their median; %.1fx the median copy" %
          (tmax, 100 * ops / min(times[tmax]) / 1e6 / total, 100 * ops / st.median(times[tmax]) / 1e6 / total,
           ops / min(times[tmax]) / 1e6 / st.median(copies)))
PY
