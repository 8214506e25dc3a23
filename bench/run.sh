#!/usr/bin/env bash
# Builds and runs the lightq benchmarks, then writes docs/benchmarks.md and its plots.
#
#   bash bench/run.sh                 the standard run (every SIMD backend, 3 repetitions, medians;
#                                     ~10 minutes here) and docs/benchmarks.md
#   bash bench/run.sh --quick         smoke run (small filter, 1 repetition, short times)
#   bash bench/run.sh --filter REGEX  only benchmarks whose name matches REGEX
#
# Other options: --repetitions N, --min-time SECONDS, --build-dir DIR, --no-report,
# --no-install (never call apt-get), --cpu N (core to pin to), --cores N (pin to N cores, for
# multi-thread benchmarks; exported as LIGHTQ_BENCH_MAX_THREADS), --compilers "g++ clang++"
# (build and run once per compiler; the report compares them), --backends "avx2 avx512_vnni"
# (run only these backends' executables; "all" adds the scalar reference, which is slow).
# CXX=clang++ picks the compiler. --repetitions 5 --backends all is the exhaustive run
# (~1,000 benchmarks per backend: expect 30-60 minutes on 2 shared cores).
# On a fresh Debian/Ubuntu machine it installs what is missing (apt-get when root; otherwise it
# prints the exact command and stops). Runs pinned to one core, one thread. The repetitions of
# all benchmarks of an executable run in random order (Google Benchmark's random interleaving),
# so a lightq case and its peer columns are timed across the same stretch of a shared machine.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

quick=0
filter=""
repetitions=3
min_time=0.1
build_dir="build/bench"
report=1
install=1
cpu=""
cores=1
backends=""
compilers="${CXX:-}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) quick=1 ;;
    --filter) filter="${2:?--filter needs a regex}"; shift ;;
    --filter=*) filter="${1#*=}" ;;
    --repetitions) repetitions="${2:?}"; shift ;;
    --min-time) min_time="${2:?}"; shift ;;
    --build-dir) build_dir="${2:?}"; shift ;;
    --cpu) cpu="${2:?}"; shift ;;
    --cores) cores="${2:?}"; shift ;;
    --compilers) compilers="${2:?}"; shift ;;
    --backends) backends="${2:?}"; shift ;;
    --no-report) report=0 ;;
    --no-install) install=0 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "bench/run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [[ $quick == 1 ]]; then
  repetitions=1
  min_time=0.02
  # One small case per module: GEMM 128x768x768, memory 16 MiB / 8 MiB, elementwise 1 Mi items,
  # attention 1024 tokens x 64.
  [[ -n $filter ]] || filter='(/128/768/768|/16777216|/8388608|/1048576|/1024/64)$'
  export LIGHTQ_BENCH_QUICK=1
fi

say() { printf '\n== %s\n' "$*"; }

# --- 1. packages ------------------------------------------------------------------------------
# Required to build and run; optional ones add peer columns (oneDNN, OpenBLAS, XNNPACK) and plots.
required=(cmake g++ libxsimd-dev libbenchmark-dev)
optional=(libdnnl-dev libopenblas-dev libxnnpack-dev libpthreadpool-dev python3 python3-matplotlib)
if ! command -v ninja >/dev/null 2>&1 && ! command -v make >/dev/null 2>&1; then required+=(ninja-build); fi
for c in $compilers; do
  if [[ $c == clang* ]] && ! command -v "$c" >/dev/null 2>&1; then required+=(clang); fi
done
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
if [[ $install == 1 ]] && command -v dpkg-query >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  missing_required=(); missing_optional=()
  for p in "${required[@]}"; do have_pkg "$p" || missing_required+=("$p"); done
  for p in "${optional[@]}"; do have_pkg "$p" || missing_optional+=("$p"); done
  if (( ${#missing_required[@]} + ${#missing_optional[@]} > 0 )); then
    if [[ $(id -u) == 0 ]]; then
      say "installing: ${missing_required[*]} ${missing_optional[*]}"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq
      if (( ${#missing_required[@]} > 0 )); then apt-get install -y -qq --no-install-recommends "${missing_required[@]}"; fi
      for p in "${missing_optional[@]}"; do  # optional: one at a time, a missing one is no error
        apt-get install -y -qq --no-install-recommends "$p" >/dev/null 2>&1 || echo "bench/run.sh: optional package $p not available, going on without it"
      done
    elif (( ${#missing_required[@]} > 0 )); then
      echo "bench/run.sh: missing packages. Run:"
      echo "  sudo apt-get install -y ${missing_required[*]} ${missing_optional[*]}"
      exit 1
    else
      echo "bench/run.sh: optional packages missing (peers / plots). For them run:"
      echo "  sudo apt-get install -y ${missing_optional[*]}"
    fi
  fi
fi

# --- 2./3. per compiler: configure, build, run ------------------------------------------------
generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
jobs="$(nproc 2>/dev/null || echo 2)"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
results_root="$build_dir/results/$stamp"
mkdir -p "$results_root"
ln -sfn "$stamp" "$build_dir/results/latest"

# One thread per benchmark unless --cores asks for more (peers included); OPENBLAS_CORETYPE and
# friends are left as they are.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 LIGHTQ_BENCH_MAX_THREADS="$cores"
pin=()
if command -v taskset >/dev/null 2>&1; then
  allowed="$(taskset -pc $$ 2>/dev/null | sed 's/.*: //' | tr ',' '\n' |
    awk -F- '{ if (NF == 2) { for (i = $1; i <= $2; ++i) print i } else print $1 }')"
  if [[ -z $cpu ]]; then  # the last `cores` cores this process may run on
    cpu="$(echo "$allowed" | tail -n "$cores" | paste -sd, -)"
  fi
  [[ -n $cpu ]] && pin=(taskset -c "$cpu")
fi

failed=0
first=1
[[ -n $compilers ]] || compilers="default"
for compiler in $compilers; do
  dir="$build_dir"
  results="$results_root"
  cxx_args=()
  if [[ $compiler != default ]]; then
    cxx_args=(-DCMAKE_CXX_COMPILER="$compiler")
    if [[ $first == 0 ]]; then
      tag="$(basename "$compiler" | tr -c 'A-Za-z0-9+._\n-' '_')"
      dir="$build_dir-$tag"
      results="$results_root/$tag"
    fi
  fi
  mkdir -p "$results"
  say "configuring $dir (Release${compiler:+, compiler $compiler})"
  cmake -S . -B "$dir" "${generator[@]}" "${cxx_args[@]}" -DCMAKE_BUILD_TYPE=Release -DLIGHTQ_BUILD_BENCHMARKS=ON \
    -DLIGHTQ_BUILD_TESTS=OFF -DLIGHTQ_BUILD_EXAMPLES=OFF -DLIGHTQ_INSTALL=OFF >"$dir.configure.log" 2>&1 ||
    { cat "$dir.configure.log"; exit 1; }
  grep -E "lightq benchmarks:" "$dir.configure.log" || true
  if grep -q "lightq benchmarks: skipped" "$dir.configure.log"; then
    echo "bench/run.sh: benchmarks are not built here (see above)"; exit 1
  fi
  say "building (-j$jobs)"
  cmake --build "$dir" -j "$jobs" --target lightq_benchmarks

  # Backends in order (scalar, avx2, avx512_vnni / neon, neon_dotprod), modules alphabetically.
  mapfile -t executables < <(find "$dir/bench" -maxdepth 1 -type f -name 'lightq_bench_*' -perm -u+x |
    awk '{ n = $0; b = 9; if (n ~ /_scalar$/) b = 0; else if (n ~ /_avx2$/) b = 1; else if (n ~ /_avx512_vnni$/) b = 2;
           else if (n ~ /_neon$/) b = 3; else if (n ~ /_neon_dotprod$/) b = 4; print b "\t" n }' | sort | cut -f2)
  if [[ -z $backends ]]; then  # default: every SIMD backend; the scalar twin only when asked for
    kept=()
    for exe in "${executables[@]}"; do [[ $exe =~ _scalar$ ]] || kept+=("$exe"); done
    (( ${#kept[@]} > 0 )) && executables=("${kept[@]}")
  elif [[ $backends != all ]]; then  # keep lightq_bench_<module>_<backend> of the backends asked for
    kept=()
    for exe in "${executables[@]}"; do
      for b in $backends; do
        if [[ $exe =~ _${b}$ && ! ( $b == neon && $exe =~ _neon_dotprod$ ) ]]; then kept+=("$exe"); fi
      done
    done
    executables=("${kept[@]+"${kept[@]}"}")
  fi
  (( ${#executables[@]} > 0 )) || { echo "bench/run.sh: no benchmark executables in $dir/bench${backends:+ for backends $backends}"; exit 1; }

  # Peers do not depend on lightq's compiler: run them with the first compiler only.
  if [[ $first == 0 ]]; then export LIGHTQ_BENCH_PEERS=0; fi
  say "running ${#executables[@]} executables${pin:+ pinned to core(s) $cpu}, $repetitions repetition(s), min time ${min_time}s${filter:+, filter $filter}"
  for exe in "${executables[@]}"; do
    name="$(basename "$exe")"
    json="$results/$name.json"
    args=(--benchmark_out="$json" --benchmark_out_format=json --benchmark_min_time="$min_time"
          --benchmark_repetitions="$repetitions" --benchmark_report_aggregates_only=true
          --benchmark_enable_random_interleaving=true)
    [[ -n $filter ]] && args+=(--benchmark_filter="$filter")
    say "$name"
    set +e
    "${pin[@]}" "$exe" "${args[@]}" 2>&1 | tee "$results/$name.log"
    rc=${PIPESTATUS[0]}
    set -e
    if [[ $rc == 77 ]]; then
      echo "($name skipped: this CPU cannot run its backend)"; rm -f "$json"
    elif [[ $rc != 0 ]]; then
      echo "bench/run.sh: $name failed with exit code $rc"; failed=1
    fi
    # An executable whose benchmarks all missed the filter leaves no (or an empty) file.
    if [[ -f $json ]] && ! grep -q '"name"' "$json"; then rm -f "$json"; fi
  done
  first=0
done
unset LIGHTQ_BENCH_PEERS
results="$results_root"

# --- 4. report --------------------------------------------------------------------------------
if [[ $report == 1 ]]; then
  say "report"
  python=""
  for candidate in python3 /usr/bin/python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import matplotlib' >/dev/null 2>&1; then
      python="$candidate"; break
    fi
  done
  if [[ -z $python ]] && command -v python3 >/dev/null 2>&1; then
    # Only for the plots, and only when missing: a user-level pip install.
    if python3 -m pip --version >/dev/null 2>&1 && [[ $install == 1 ]]; then
      python3 -m pip install --quiet --user matplotlib >/dev/null 2>&1 ||
        python3 -m pip install --quiet matplotlib >/dev/null 2>&1 || true
    fi
    python=python3
  fi
  if [[ -z $python ]]; then
    echo "bench/run.sh: python3 not found: no report (results are in $results)"
  else
    shopt -s nullglob
    jsons=("$results"/*.json "$results"/*/*.json)
    if (( ${#jsons[@]} == 0 )); then
      echo "bench/run.sh: no results to report"; failed=1
    else
      report_args=(--out docs/benchmarks.md --plots docs/benchmarks --summary)
      [[ $quick == 1 ]] && report_args+=(--title-note "quick smoke run (bench/run.sh --quick): 1 repetition, short times; not for quoting")
      "$python" bench/report.py "${report_args[@]}" "${jsons[@]}"
    fi
  fi
fi
echo
echo "results: $results"
exit $failed
