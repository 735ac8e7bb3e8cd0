#!/usr/bin/env bash
# Instruction counts of the kernels in src/main.rs (each run 20 or 200 times on 4096 × 32
# data), for this tree and for BASE_REV (default HEAD~1), with the data set-up subtracted, and
# their ratio. Needs valgrind (`apt-get install valgrind`). Default flags (SSE2 on x86-64):
# valgrind does not run AVX-512 code. KERNELS (a space-separated list) picks the kernels.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
HERE=$PWD
ROOT=$(cd ../.. && pwd)
BASE=${1:-HEAD~1}
WORK=$(mktemp -d)
trap 'git -C "$ROOT" worktree remove --force "$WORK/base" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
git -C "$ROOT" worktree add -q --detach "$WORK/base" "$BASE"
mkdir -p "$WORK/base-counts"
cp -r "$HERE/src" "$WORK/base-counts/"
sed "s|path = \"../..\"|path = \"$WORK/base\"|" "$HERE/Cargo.toml" > "$WORK/base-counts/Cargo.toml"
cargo build --release -q --manifest-path "$HERE/Cargo.toml" --target-dir "$WORK/t-new"
cargo build --release -q --manifest-path "$WORK/base-counts/Cargo.toml" --target-dir "$WORK/t-base"
count() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$1" "$2" 2>&1 |
        grep -o 'Collected : [0-9]*' | grep -o '[0-9]*'
}
NEW=$WORK/t-new/release/npoa-counts
OLD=$WORK/t-base/release/npoa-counts
s_new=$(count "$NEW" setup)
s_old=$(count "$OLD" setup)
printf '%-10s %14s %14s %8s\n' kernel "$BASE" "this tree" ratio
for k in ${KERNELS:-absolute huber quantile logistic plain l1 bounds update mse mse300 fit8 fit8b1}; do
    a=$(($(count "$OLD" "$k") - s_old))
    b=$(($(count "$NEW" "$k") - s_new))
    printf '%-10s %14d %14d %8s\n' "$k" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.4f", b / a }')"
done
