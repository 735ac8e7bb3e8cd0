#!/usr/bin/env bash
# Runs every cargo-fuzz target for a while (default 600 s each, `JOBS` at a time, default 2) and
# prints the executions per target. Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
# Needs a nightly toolchain and cargo-fuzz (`cargo install --locked cargo-fuzz`). Findings are
# left in fuzz/artifacts/<target>/ and the run exits non-zero.
set -uo pipefail
cd "$(dirname "$0")/../fuzz"
SECS=${1:-600}
shift || true
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then TARGETS=(kernels controller train model_bytes csv online); fi
JOBS=${JOBS:-2}
command -v cargo-fuzz >/dev/null 2>&1 || cargo install --locked cargo-fuzz
cargo +nightly fuzz build || exit 1
mkdir -p logs
status=0
run() {
    local t=$1
    mkdir -p "corpus/$t"
    cargo +nightly fuzz run "$t" "corpus/$t" "seeds/$t" -- -max_total_time="$SECS" \
        > "logs/$t.log" 2>&1
}
pids=()
names=()
for t in "${TARGETS[@]}"; do
    run "$t" &
    pids+=($!)
    names+=("$t")
    if [ ${#pids[@]} -ge "$JOBS" ]; then
        wait "${pids[0]}" || status=1
        pids=("${pids[@]:1}")
    fi
done
for p in "${pids[@]}"; do wait "$p" || status=1; done
for t in "${names[@]}"; do
    printf '%-12s %s\n' "$t" "$(grep -E '^Done [0-9]+ runs' "logs/$t.log" | tail -1 || echo 'no summary (see fuzz/logs)')"
done
exit $status
