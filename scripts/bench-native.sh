#!/usr/bin/env bash
# Runs the kernel benchmarks built for this machine's CPU (`-C target-cpu=native`), in a
# separate target directory so that the default and native builds don't rebuild each other.
# Extra arguments go to `cargo bench`, e.g.:
#   scripts/bench-native.sh -- --quick 'fused/d32/'
#   scripts/bench-native.sh -- --save-baseline native
#   BENCH=losses scripts/bench-native.sh      # the other losses' benchmarks
# The SIMD path gives the same bits with any flags; only its speed changes.
set -euo pipefail
cd "$(dirname "$0")/.."
export RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }-C target-cpu=native"
export CARGO_TARGET_DIR=target-native
exec cargo bench -p npoa-bench --bench "${BENCH:-kernels}" "$@"
