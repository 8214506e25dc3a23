#!/usr/bin/env bash
# The README's test command: installs what is missing, then builds and runs every test:
#   1. g++ Release, x86 backends (scalar, avx2, avx512_vnni) + package/consumer tests
#   2. clang++ Release, x86 backends (the hot loops are built by both compilers)
#   3. AddressSanitizer + UndefinedBehaviorSanitizer (g++)
#   4. aarch64 cross build (neon, neon_dotprod, scalar) run under qemu-aarch64
# Prints which backends ran and ends with "N passed, N failed".
# Usage: tests/run.sh [--quick]   (--quick: step 1 and 4 only)
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
quick=0
[[ "${1:-}" == "--quick" ]] && quick=1

bash cmake/install-deps.sh test || exit 1

start=$(date +%s)
passed=0
failed=0
summary=()
logdir="$root/build/test-logs"
mkdir -p "$logdir"

run_preset() {  # name
  local name=$1 t0 rc log
  t0=$(date +%s)
  log="$logdir/$name.log"
  echo "=== [$name] configure + build"
  if ! cmake --preset "$name" >"$log" 2>&1 || ! cmake --build --preset "$name" >>"$log" 2>&1; then
    tail -60 "$log"
    echo "=== [$name] BUILD FAILED (full log: $log)"
    failed=$((failed + 1))
    summary+=("$name: build failed")
    return
  fi
  echo "=== [$name] test"
  ctest --preset "$name" 2>&1 | tee -a "$log" | grep -vE '^ +Start +[0-9]+:'
  rc=${PIPESTATUS[0]}
  local p f s
  p=$(grep -cE '^\s*[0-9]+/[0-9]+ Test +#[0-9]+: .* Passed' "$log" || true)
  f=$(grep -cE '^\s*[0-9]+/[0-9]+ Test +#[0-9]+: .*(Failed|\*\*\*Exception|\*\*\*Timeout|Not Run)' "$log" || true)
  s=$(grep -cE '^\s*[0-9]+/[0-9]+ Test +#[0-9]+: .*Skipped' "$log" || true)
  passed=$((passed + p))
  failed=$((failed + f))
  [[ $rc -ne 0 && $f -eq 0 ]] && failed=$((failed + 1))
  # Which backends really ran, from the test executables' own lines.
  local lastlog="build/$name/Testing/Temporary/LastTest.log"
  local ran skipped
  ran=$(grep -ohE 'lightq tests: [a-z_]+ on backend [a-z0-9_]+ PASSED' "$lastlog" 2>/dev/null | awk '{print $6}' | sort -u | tr '\n' ' ')
  skipped=$(grep -ohE 'SKIPPED [a-z_]+ on backend [a-z0-9_]+' "$lastlog" 2>/dev/null | awk '{print $5}' | sort -u | tr '\n' ' ')
  summary+=("$name: $p passed, $f failed, $s skipped in $(( $(date +%s) - t0 ))s; backends run: ${ran:-none}${skipped:+; skipped (CPU lacks them): $skipped}")
}

run_preset default
if [[ $quick -eq 0 ]]; then
  run_preset clang
  run_preset sanitize
fi
run_preset aarch64

echo
echo "=== lightq test summary ($(( $(date +%s) - start ))s)"
for line in "${summary[@]}"; do echo "  $line"; done
echo
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
