#!/usr/bin/env bash
# Runs the benchmark suite, saves it as a named criterion baseline, or compares it with one;
# then the same for the instruction counts of the per-update paths (see below).
#
#   scripts/bench.sh --save base                 # run everything, save as baseline `base`
#   scripts/bench.sh --compare base              # run again, fail if slower than `base`
#   scripts/bench.sh --compare base --threshold 10 --flags native -- 'fused/d32/'
#   scripts/bench.sh --save base --benches 'kernels training'   # a subset of the benches
#   scripts/bench.sh --compare base --no-counts  # criterion only
#
# Options:
#   --save NAME        save the results as criterion baseline NAME
#   --compare NAME     compare with baseline NAME; exit 1 if any benchmark regressed
#   --threshold PCT    slowdown that counts as a regression (default 20; see below)
#   --confirm N        re-run what regressed N times; a regression must hold each time (default 2)
#   --flags SET        default | native | both (default both). `default` builds for the
#                      target's baseline (x86-64: SSE2) in target/; `native` adds
#                      RUSTFLAGS="-C target-cpu=native" in target-native/ (own baselines)
#   --benches "A B"    benches to run (default: kernels losses optim controller training online)
#   --peers            also run the peers crate (faer, ndarray) into the same target dirs
#   --quick            shorter measurements (0.2 s warm-up, 0.5 s measurement, 10 samples)
#   --no-counts        skip the instruction counts (see below)
#   --count-threshold PCT  growth of an instruction count that is a regression (default 1)
#   -- ARGS            passed to every criterion bench binary (a filter regex, criterion options)
#
# Instruction counts: after the timings, scripts/bench-counts.sh runs bench/benches/per_sample.rs
# under Callgrind (gungraun; default flags, in target/) with the same baseline name (gungraun's
# own --save-baseline / --baseline) and prints instructions per update; --compare fails if a
# count grew by more than --count-threshold. Counts repeat exactly, so no factor or re-run is
# needed. Needs valgrind and gungraun-runner (BENCHMARKS.md); --no-counts skips them.
#
# RUSTFLAGS is replaced (each flag set has its own); put flags for both in BASE_RUSTFLAGS.
# Exit status: 0, 1 if a benchmark (or a count) regressed, 2 for a usage or tool error.
#
# A benchmark regresses when its median time, divided by the machine factor (the median of all
# the run's time ratios: how much slower the machine is overall than when the baseline was
# saved), grew by more than the threshold AND the two medians' 95 % confidence intervals do not
# overlap (bench/examples/bench_report.rs, `compare`); then it is re-run --confirm times and must
# regress every time. Timings on a shared machine move by ±10-70 % between runs of one
# benchmark: the factor and the re-runs keep such noise from failing the comparison.
set -euo pipefail
cd "$(dirname "$0")/.."

save="" compare="" threshold=20 flags=both quick=0 peers=0 confirm=2 counts=1 count_threshold=1
benches="kernels losses optim controller training online"
extra=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --save) save="$2"; shift 2 ;;
        --compare) compare="$2"; shift 2 ;;
        --threshold) threshold="$2"; shift 2 ;;
        --flags) flags="$2"; shift 2 ;;
        --benches) benches="$2"; shift 2 ;;
        --peers) peers=1; shift ;;
        --quick) quick=1; shift ;;
        --no-counts) counts=0; shift ;;
        --count-threshold) count_threshold="$2"; shift 2 ;;
        --) shift; extra=("$@"); break ;;
        --confirm) confirm="$2"; shift 2 ;;
        -h|--help) sed -n '2,40p' "$0"; exit 0 ;;
        *) echo "bench.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
if [[ -z "$save" && -z "$compare" ]] || [[ -n "$save" && -n "$compare" ]]; then
    echo "bench.sh: give exactly one of --save NAME or --compare NAME" >&2
    exit 2
fi
name="${save:-$compare}"
# Criterion's own directories (`new` is the scratch run that --compare reads).
if [[ "$name" =~ ^(new|change|report)$ || "$name" == */* || -z "$name" ]]; then
    echo "bench.sh: '$name' cannot be a baseline name (new, change and report are criterion's)" >&2
    exit 2
fi
if ! [[ "$threshold" =~ ^[0-9]+([.][0-9]+)?$ ]]; then
    echo "bench.sh: --threshold takes a number of per cent, not '$threshold'" >&2
    exit 2
fi
if ! [[ "$count_threshold" =~ ^[0-9]+([.][0-9]+)?$ ]]; then
    echo "bench.sh: --count-threshold takes a number of per cent, not '$count_threshold'" >&2
    exit 2
fi
if [[ $counts == 1 && ! "$name" =~ ^[A-Za-z0-9_-]+$ ]]; then
    echo "bench.sh: with the counts a baseline name is letters, digits, '_' and '-' (or --no-counts)" >&2
    exit 2
fi
if ! [[ "$confirm" =~ ^[0-9]+$ ]]; then
    echo "bench.sh: --confirm takes a count, not '$confirm'" >&2
    exit 2
fi
case "$flags" in
    default) sets=(default) ;;
    native) sets=(native) ;;
    both) sets=(default native) ;;
    *) echo "bench.sh: --flags is default, native or both" >&2; exit 2 ;;
esac
# Only benches that exist in this checkout (a baseline can predate a new bench).
wanted=()
for b in $benches; do
    if [[ $b == per_sample ]]; then
        echo "bench.sh: per_sample counts instructions: it runs in the counts step, not as a criterion bench" >&2
    elif [[ -f "bench/benches/$b.rs" ]]; then wanted+=("$b"); else echo "bench.sh: no bench/benches/$b.rs, skipped" >&2; fi
done

crit=()
if [[ -n "$save" ]]; then
    crit=(--save-baseline "$save")
else
    # Criterion compares with the baseline and writes the run as `new`; results without the
    # baseline are run but not compared.
    crit=(--baseline-lenient "$compare")
fi
if [[ $quick == 1 ]]; then
    crit+=(--warm-up-time 0.2 --measurement-time 0.5 --sample-size 10)
fi

# The counts' tools are checked before the timings, not after minutes of them.
if [[ $counts == 1 ]] && ! scripts/bench-counts.sh --check; then
    echo "bench.sh: the instruction counts cannot run (see above); --no-counts skips them" >&2
    exit 2
fi

# The comparison tool is built once, with default flags, outside the timed runs.
RUSTFLAGS="${BASE_RUSTFLAGS:-}" cargo build --quiet --release -p npoa-bench --example bench_report \
    --target-dir "$PWD/target"
report_tool="$PWD/target/release/examples/bench_report"

# Runs every wanted bench (and the peers) with criterion arguments "$@".
run_benches() {
    for b in "${wanted[@]}"; do
        echo "-- bench $b"
        cargo bench --quiet -p npoa-bench --bench "$b" -- "$@"
    done
    if [[ $peers == 1 ]]; then
        echo "-- peers (faer, ndarray)"
        (cd peers && cargo bench --quiet --bench peers -- "$@")
    fi
}

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
status=0
start=$SECONDS
for set in "${sets[@]}"; do
    if [[ $set == native ]]; then
        target="$PWD/target-native"
        export RUSTFLAGS="${BASE_RUSTFLAGS:+$BASE_RUSTFLAGS }-C target-cpu=native"
    else
        target="$PWD/target"
        export RUSTFLAGS="${BASE_RUSTFLAGS:-}"
    fi
    export CARGO_TARGET_DIR="$target"
    echo "== $set flags (RUSTFLAGS='$RUSTFLAGS', $target)"
    if [[ -n "$compare" && -d "$target/criterion" ]]; then
        # Drop every previous `new` so that only this run is compared.
        find "$target/criterion" -type d -name new -prune -exec rm -rf {} +
    fi
    run_benches "${crit[@]}" ${extra[@]+"${extra[@]}"}
    if [[ -n "$compare" ]]; then
        echo "== compare $set with baseline $compare (threshold $threshold %)"
        reg="$scratch/$set.regressed" factor="$scratch/$set.factor"
        rc=0
        "$report_tool" compare --dir "$target/criterion" --baseline "$compare" \
            --current new --threshold "$threshold" \
            --regressed-out "$reg" --factor-out "$factor" || rc=$?
        for ((k = 1; k <= confirm && rc == 1; k++)); do
            # Re-run only what regressed (criterion filters by a regex over the ids).
            ids=$(paste -sd'|' "$reg")
            echo "== confirm $k/$confirm: re-running $(grep -c "" "$reg") benchmark(s) that regressed"
            run_benches "${crit[@]}" "^($ids)\$"
            rc=0
            "$report_tool" compare --dir "$target/criterion" --baseline "$compare" \
                --current new --threshold "$threshold" --only "$reg" \
                --factor "$(cat "$factor")" --regressed-out "$reg.next" || rc=$?
            mv "$reg.next" "$reg"
        done
        if [[ $rc == 1 ]]; then
            status=1
            echo "== $set: regressed and confirmed $confirm time(s): $(paste -sd' ' "$reg")"
        elif [[ $rc != 0 ]]; then
            echo "bench.sh: the comparison failed (exit $rc)" >&2
            exit 2
        fi
    fi
done
if [[ $counts == 1 ]]; then
    echo "== instruction counts (scripts/bench-counts.sh)"
    crc=0
    CARGO_TARGET_DIR="$PWD/target" scripts/bench-counts.sh ${save:+--save "$save"} \
        ${compare:+--compare "$compare"} --threshold "$count_threshold" || crc=$?
    if [[ $crc == 1 ]]; then
        status=1
    elif [[ $crc != 0 ]]; then
        echo "bench.sh: the instruction counts failed (exit $crc; --no-counts skips them)" >&2
        exit 2
    fi
fi
echo "bench.sh: done in $((SECONDS - start)) s"
if [[ $status != 0 ]]; then
    echo "bench.sh: REGRESSION against baseline $compare (see the tables above)" >&2
fi
exit $status
