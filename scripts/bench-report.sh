#!/usr/bin/env bash
# Writes the benchmark report from a saved criterion baseline (see scripts/bench.sh):
#   BENCHMARKS.md        every benchmark, default and native flags side by side;
#   README.md            the section between the `bench-report` markers: the summary
#                        (fused kernels, peers, losses, updates, training, online) at
#                        256 KiB (in L2) and 64 MiB (from memory).
#
#   scripts/bench.sh --save base --peers && scripts/bench-report.sh base
#
# A flag set whose directory has no results for the baseline is left out.
set -euo pipefail
cd "$(dirname "$0")/.."
baseline="${1:-base}"

cargo build --quiet --release -p npoa-bench --example bench_report
tool=target/release/examples/bench_report

dirs=()
for spec in default=target/criterion native=target-native/criterion; do
    path="${spec#*=}"
    if [[ -d "$path" ]] && find "$path" -type d -name "$baseline" -print -quit | grep -q .; then
        dirs+=(--dir "$spec")
    fi
done
if [[ ${#dirs[@]} == 0 ]]; then
    echo "bench-report.sh: no results for baseline '$baseline' (run scripts/bench.sh --save $baseline)" >&2
    exit 1
fi

cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ *//' || true)
cores=$(nproc 2>/dev/null || echo '?')
machine="Machine: ${cpu:-unknown CPU}, $cores cores; $(rustc -V); $(date -u +%Y-%m-%d). \
Flags: \`default\` = the target's baseline (x86-64: SSE2, \`f32x8\` as two 128-bit halves); \
\`native\` = \`RUSTFLAGS=\"-C target-cpu=native\"\` (here AVX2/AVX-512)."

# The instruction counts' section (between its markers, written by hand and by
# scripts/bench-counts.sh --write-doc) is carried over to the new report.
counts_start='<!-- counts:start -->'
counts_end='<!-- counts:end -->'
awk -v start="$counts_start" -v end="$counts_end" '
    $0 == start { keep = 1 } keep { print } $0 == end { keep = 0 }
' BENCHMARKS.md > target/bench-counts-section.md
"$tool" report --baseline "$baseline" --machine "$machine" "${dirs[@]}" > BENCHMARKS.md
if [[ -s target/bench-counts-section.md ]]; then
    { echo; cat target/bench-counts-section.md; } >> BENCHMARKS.md
fi
"$tool" report --baseline "$baseline" --machine "$machine" --summary "${dirs[@]}" > target/bench-summary.md

# Replace the README's generated section (between the markers, which stay).
start='<!-- bench-report:start -->'
end='<!-- bench-report:end -->'
if ! grep -qF "$start" README.md || ! grep -qF "$end" README.md; then
    echo "bench-report.sh: README.md has no '$start' … '$end' markers" >&2
    exit 1
fi
awk -v start="$start" -v end="$end" -v file=target/bench-summary.md '
    $0 == start { print; print ""; while ((getline line < file) > 0) print line; skip = 1; next }
    $0 == end { skip = 0 }
    !skip { print }
' README.md > target/README.new
mv target/README.new README.md
echo "bench-report.sh: wrote BENCHMARKS.md ($(wc -l < BENCHMARKS.md) lines) and the README section from baseline '$baseline' (${dirs[*]})"
