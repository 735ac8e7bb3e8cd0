#!/usr/bin/env bash
# Instruction counts of the per-update paths (bench/benches/per_sample.rs, Callgrind through
# gungraun) and a table of instructions per update; saves them as a gungraun baseline or
# compares them with one. Counts repeat exactly run after run, on a busy machine too.
#
#   scripts/bench-counts.sh                       # run, print the table (change: previous run)
#   scripts/bench-counts.sh --save base           # run, save as baseline `base`
#   scripts/bench-counts.sh --compare base        # run, fail if a count grew by more than 1 %
#   scripts/bench-counts.sh --compare base --threshold 0.5 -- '*rls*'
#
# Options:
#   --save NAME        save the counts as gungraun baseline NAME (--save-baseline)
#   --compare NAME     compare with baseline NAME (--baseline); exit 1 if any count regressed
#   --threshold PCT    growth of a count that is a regression (default 1)
#   --check            only check that valgrind and the right gungraun-runner are installed
#   --write-doc        also write the table into BENCHMARKS.md (between its counts-table markers)
#   -- ARGS            passed to the bench (a filter such as '*adwin*', gungraun options)
#
# Needs valgrind (`apt-get install valgrind`) and gungraun-runner of the version that
# bench/Cargo.toml pins (`cargo install --version X gungraun-runner`; see BENCHMARKS.md).
# Builds with default flags (RUSTFLAGS="${BASE_RUSTFLAGS:-}": valgrind runs no AVX-512 code)
# in ${CARGO_TARGET_DIR:-target}; the results are in its gungraun/ directory.
# Exit status: 0, 1 if a count regressed, 2 for a usage or tool error.
set -euo pipefail
cd "$(dirname "$0")/.."

save="" compare="" threshold=1 check=0 doc=0
extra=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --save) save="${2:-}"; shift 2 ;;
        --compare) compare="${2:-}"; shift 2 ;;
        --threshold) threshold="${2:-}"; shift 2 ;;
        --check) check=1; shift ;;
        --write-doc) doc=1; shift ;;
        --) shift; extra=("$@"); break ;;
        -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
        *) echo "bench-counts.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
if [[ -n "$save" && -n "$compare" ]]; then
    echo "bench-counts.sh: give at most one of --save NAME or --compare NAME" >&2
    exit 2
fi
name="${save:-$compare}"
if [[ -n "$name" && ! "$name" =~ ^[A-Za-z0-9_-]+$ ]]; then
    echo "bench-counts.sh: a baseline name is letters, digits, '_' and '-', not '$name'" >&2
    exit 2
fi
if ! [[ "$threshold" =~ ^[0-9]+([.][0-9]+)?$ ]]; then
    echo "bench-counts.sh: --threshold takes a number of per cent, not '$threshold'" >&2
    exit 2
fi

version=$(sed -n 's/^gungraun = "=\([0-9.]*\)".*/\1/p' bench/Cargo.toml)
if [[ -z "$version" ]]; then
    echo "bench-counts.sh: no pinned gungraun version (gungraun = \"=X\") in bench/Cargo.toml" >&2
    exit 2
fi
if ! command -v valgrind >/dev/null 2>&1; then
    echo "bench-counts.sh: valgrind not found (apt-get install valgrind)" >&2
    exit 2
fi
runner="${GUNGRAUN_RUNNER:-gungraun-runner}"
have=$("$runner" --version 2>/dev/null | awk '{print $2}' || true)
if [[ "$have" != "$version" ]]; then
    echo "bench-counts.sh: gungraun-runner $version is needed (found: ${have:-none});" >&2
    echo "    cargo install --locked --version $version gungraun-runner" >&2
    exit 2
fi
if [[ $check == 1 ]]; then
    echo "bench-counts.sh: valgrind $(valgrind --version | sed 's/valgrind-//') and gungraun-runner $have found"
    exit 0
fi

export RUSTFLAGS="${BASE_RUSTFLAGS:-}"
target="${CARGO_TARGET_DIR:-$PWD/target}"
export CARGO_TARGET_DIR="$target"
cargo build --quiet --release -p npoa-bench --example bench_report
report_tool="$target/release/examples/bench_report"

out="$target/gungraun/npoa-bench/per_sample"
# Only this run's summaries are read (a filtered run leaves the others' behind).
if [[ -d "$out" ]]; then
    find "$out" -name summary.json -delete
fi
args=(--save-summary=json)
report=()
if [[ -n "$save" ]]; then
    args+=("--save-baseline=$save")
elif [[ -n "$compare" ]]; then
    # gungraun marks the counts beyond the limit in its own output too (and exits 3).
    args+=("--baseline=$compare" "--callgrind-limits=ir=${threshold}%")
    report=(--baseline "$compare" --threshold "$threshold")
fi
echo "== instruction counts (bench/benches/per_sample.rs, gungraun $version, $target)"
rc=0
cargo bench --quiet -p npoa-bench --bench per_sample -- "${args[@]}" ${extra[@]+"${extra[@]}"} || rc=$?
if [[ ! -d "$out" ]]; then
    echo "bench-counts.sh: the bench wrote nothing (exit $rc)" >&2
    exit 2
fi
echo
echo "== instructions per update${compare:+ against baseline $compare (threshold $threshold %)}"
judged=0
"$report_tool" counts --dir "$out" ${report[@]+"${report[@]}"} || judged=$?
if [[ $judged == 1 ]]; then
    echo "bench-counts.sh: REGRESSION against baseline $compare (see the table above)" >&2
    exit 1
elif [[ $judged != 0 ]]; then
    exit 2
elif [[ $rc != 0 ]]; then
    echo "bench-counts.sh: the bench failed (exit $rc)" >&2
    exit 2
fi
if [[ $doc == 1 ]]; then
    start='<!-- counts-table:start -->'
    end='<!-- counts-table:end -->'
    if ! grep -qF "$start" BENCHMARKS.md || ! grep -qF "$end" BENCHMARKS.md; then
        echo "bench-counts.sh: BENCHMARKS.md has no '$start' … '$end' markers" >&2
        exit 2
    fi
    "$report_tool" counts --dir "$out" --plain > "$target/counts-table.md"
    awk -v start="$start" -v end="$end" -v file="$target/counts-table.md" '
        $0 == start { print; print ""; while ((getline line < file) > 0) print line; print ""; skip = 1; next }
        $0 == end { skip = 0 }
        !skip { print }
    ' BENCHMARKS.md > "$target/BENCHMARKS.new"
    mv "$target/BENCHMARKS.new" BENCHMARKS.md
    echo "bench-counts.sh: wrote the table into BENCHMARKS.md"
fi
