#!/usr/bin/env bash
# Runs every cargo-fuzz target for a while (default 600 s each, `JOBS` at a time, default 2) and
# prints, per target, the final coverage (libFuzzer's `cov`, `ft`), the executions and exec/s.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]   (no TARGET: every one `cargo fuzz list` gives)
# The corpus grows in fuzz/corpus/<target> (seeded from fuzz/seeds/<target>). With FRESH=1
# each target starts instead from a fresh copy of its seeds only, in a temporary directory, so
# that runs are comparable (the before/after coverage figures of fuzz/README.md are
# `FRESH=1 JOBS=1 scripts/fuzz.sh 60 kernels model_bytes train controller`).
# Needs a nightly toolchain and cargo-fuzz (`cargo install --locked cargo-fuzz`). Findings are
# left in fuzz/artifacts/<target>/ and the run exits non-zero.
set -uo pipefail
cd "$(dirname "$0")/../fuzz"
SECS=${1:-600}
shift || true
command -v cargo-fuzz >/dev/null 2>&1 || cargo install --locked cargo-fuzz
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then mapfile -t TARGETS < <(cargo +nightly fuzz list); fi
JOBS=${JOBS:-2}
FRESH=${FRESH:-0}
cargo +nightly fuzz build || exit 1
mkdir -p logs
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
run() {
    local t=$1
    if [ "$FRESH" = 1 ]; then
        mkdir -p "$tmp/$t"
        cp "seeds/$t"/* "$tmp/$t"/
        cargo +nightly fuzz run "$t" "$tmp/$t" -- -max_total_time="$SECS" -timeout=10 \
            > "logs/$t.log" 2>&1
    else
        mkdir -p "corpus/$t"
        cargo +nightly fuzz run "$t" "corpus/$t" "seeds/$t" -- -max_total_time="$SECS" -timeout=10 \
            > "logs/$t.log" 2>&1
    fi
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
    last=$(grep -E '^#[0-9]+.*DONE' "logs/$t.log" | tail -n 1)
    printf '%-12s cov %-6s ft %-7s exec/s %-6s %s\n' "$t" \
        "$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<<"$last")" \
        "$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")" \
        "$(sed -nE 's/.*exec\/s: ([0-9]+).*/\1/p' <<<"$last")" \
        "$(grep -E '^Done [0-9]+ runs' "logs/$t.log" | tail -n 1 || echo 'no summary (see fuzz/logs)')"
done
exit $status
