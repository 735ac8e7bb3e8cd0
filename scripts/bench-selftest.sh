#!/usr/bin/env bash
# Checks the benchmark tooling without timing anything (CI runs it):
#   1. `bench_report compare` on synthetic criterion results: equal medians pass; a 2× slower
#      benchmark fails (exit 1) and is named; a slowdown inside the noise (overlapping
#      intervals) or below the threshold passes.
#      With 10 or more benchmarks a machine that is slower overall (every ratio 1.5) passes,
#      and one benchmark 3x slower on it still fails; `--only` and `--factor` judge a re-run.
#   2. `bench_report report` renders the synthetic results (GB/s, simd/scalar, simd/stream).
#   3. `scripts/bench.sh --save` then `--compare` on the controller bench (quick settings):
#      the save/compare plumbing works end to end with criterion's real files.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --release -p npoa-bench --example bench_report
tool=target/release/examples/bench_report
dir=$(mktemp -d)
trap 'rm -rf "$dir" "$dir.slow"' EXIT

# bench GROUP FUNCTION VALUE BASELINE MEDIAN_NS LOW HIGH [BYTES]
bench() {
    local path="$dir/${1//\//_}/$2/$3/$4"
    mkdir -p "$path"
    local tp=null
    if [[ -n "${8:-}" ]]; then tp="{\"Bytes\":$8}"; fi
    printf '{"group_id":"%s","function_id":"%s","value_str":"%s","throughput":%s,"full_id":"%s/%s/%s","directory_name":"x","title":"x"}' \
        "$1" "$2" "$3" "$tp" "$1" "$2" "$3" > "$path/benchmark.json"
    printf '{"median":{"confidence_interval":{"confidence_level":0.95,"lower_bound":%s,"upper_bound":%s},"point_estimate":%s,"standard_error":1.0}}' \
        "$6" "$7" "$5" > "$path/estimates.json"
}

for b in base new; do
    bench fused/d32 scalar 2048 $b 40000 39000 41000 262144
    bench fused/d32 stream 2048 $b 3000 2900 3100 262144
    bench online step d4 $b 150 148 152
done
bench fused/d32 simd 2048 base 10000 9800 10200 262144
bench fused/d32 simd 2048 new 10100 9900 10300 262144    # +1 %: fine

echo "== equal: must pass"
"$tool" compare --dir "$dir" --baseline base --current new --threshold 10

echo "== 2x slower: must fail and name it"
bench online step d4 new 300 296 304
if out=$("$tool" compare --dir "$dir" --baseline base --current new --threshold 10); then
    echo "$out"
    echo "bench-selftest: a 2x slowdown was not reported" >&2
    exit 1
fi
echo "$out"
grep -q 'online/step/d4' <<< "$out"

echo "== +30 % but the intervals overlap (noise): must pass"
bench online step d4 new 195 140 260
"$tool" compare --dir "$dir" --baseline base --current new --threshold 10

echo "== +8 % below a 10 % threshold: must pass"
bench online step d4 new 162 161 163
"$tool" compare --dir "$dir" --baseline base --current new --threshold 10

echo "== a machine 1.5x slower overall: must pass; one benchmark 3x slower on it: must fail"
slow="$dir.slow"
for i in $(seq 1 12); do
    for b in base new; do
        path="$slow/g/f/$i/$b"
        mkdir -p "$path"
        printf '{"group_id":"g","function_id":"f","value_str":"%s","throughput":null}' "$i" > "$path/benchmark.json"
    done
    printf '{"median":{"confidence_interval":{"lower_bound":99,"upper_bound":101},"point_estimate":100}}' > "$slow/g/f/$i/base/estimates.json"
    printf '{"median":{"confidence_interval":{"lower_bound":149,"upper_bound":151},"point_estimate":150}}' > "$slow/g/f/$i/new/estimates.json"
done
"$tool" compare --dir "$slow" --baseline base --current new --threshold 10 --factor-out "$dir/factor"
grep -qx '1.5' "$dir/factor"
printf '{"median":{"confidence_interval":{"lower_bound":298,"upper_bound":302},"point_estimate":300}}' > "$slow/g/f/7/new/estimates.json"
if "$tool" compare --dir "$slow" --baseline base --current new --threshold 10 --regressed-out "$dir/reg"; then
    echo "bench-selftest: a 2x regression on a slower machine was not reported" >&2
    exit 1
fi
grep -qx 'g/f/7' "$dir/reg"
echo "== a confirmation run judged alone with the first run's factor: still fails; after a fix, passes"
if "$tool" compare --dir "$slow" --baseline base --current new --threshold 10 --only "$dir/reg" --factor 1.5; then
    exit 1
fi
printf '{"median":{"confidence_interval":{"lower_bound":149,"upper_bound":151},"point_estimate":150}}' > "$slow/g/f/7/new/estimates.json"
"$tool" compare --dir "$slow" --baseline base --current new --threshold 10 --only "$dir/reg" --factor 1.5

echo "== report"
"$tool" report --dir "default=$dir" --baseline base > "$dir/report.md"
cat "$dir/report.md"
grep -q '| `fused/d32` | 2048 | 256 KiB | 6.55 GB/s | 26.2 GB/s | 87.4 GB/s | 4.00× | 0.30 |' "$dir/report.md"
grep -q '| `online` | d4 | 150 ns |' "$dir/report.md"

echo "== scripts/bench.sh --save / --compare (controller bench, quick)"
scripts/bench.sh --save selftest --flags default --benches controller --quick
scripts/bench.sh --compare selftest --flags default --benches controller --quick --threshold 1000
find target/criterion -type d -name selftest -prune -exec rm -rf {} +
echo "bench-selftest: ok"
