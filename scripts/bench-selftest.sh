#!/usr/bin/env bash
# Checks the benchmark tooling without timing anything (CI runs it):
#   1. `bench_report compare` on synthetic criterion results: equal medians pass; a 2× slower
#      benchmark fails (exit 1) and is named; a slowdown inside the noise (overlapping
#      intervals) or below the threshold passes.
#      With 10 or more benchmarks a machine that is slower overall (every ratio 1.5) passes,
#      and one benchmark 3x slower on it still fails; `--only` and `--factor` judge a re-run.
#   2. `bench_report report` renders the synthetic results (GB/s, simd/scalar, simd/stream).
#   3. `bench_report counts` on synthetic gungraun summaries: the table of instructions per
#      update; equal counts and +0.5 % pass a 1 % threshold, +2 % fails and is named, as does a
#      regression gungraun flagged; a count compared with another baseline is not judged; an
#      id without its `_n<N>` count is an error.
#   4. `scripts/bench.sh --save` then `--compare` on the controller bench (quick settings,
#      --no-counts): the save/compare plumbing works end to end with criterion's real files.
#   5. Where valgrind and gungraun-runner are installed: `scripts/bench-counts.sh --save` then
#      `--compare` on the Page-Hinkley count (real gungraun files); else said and skipped.
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

# count DIR FUNCTION ID NEW OLD BASELINE [REGRESSIONS]: a gungraun summary.json
count() {
    mkdir -p "$1/$2.$3"
    local against=null old=""
    if [[ -n "$6" ]]; then against="\"$6\""; fi
    if [[ -n "$5" ]]; then old=",\"old\":$5"; fi
    printf '{"function_name":"%s","id":"%s","baselines":[null,%s],"profiles":[{"tool":"Callgrind","data":{"total":{"metrics":{"Ir":{"values":{"new":%s%s}}},"regressions":[%s]}}}]}' \
        "$2" "$3" "$against" "$4" "$old" "${7:-}" > "$1/$2.$3/summary.json"
}
counts="$dir/counts"
count "$counts" rls_update_per_sample d8_n4096 5349510 5349510 base
count "$counts" adwin_update_per_value default_n4096 1163284 1163284 base
count "$counts" online_partial_fit_per_call_64rows no_detector_n256 12001772 12001772 base

echo "== counts: equal, must pass; the table"
"$tool" counts --dir "$counts" --baseline base --threshold 1 > "$dir/counts.md"
cat "$dir/counts.md"
grep -qF '| `rls_update_per_sample/d8_n4096` | 4096 | 5349510 | 1306.0 | sample | 1306.0 | +0.00 % |' "$dir/counts.md"
grep -qF '| `online_partial_fit_per_call_64rows/no_detector_n256` | 256 | 12001772 | 46881.9 | call_64rows | 46881.9 | +0.00 % |' "$dir/counts.md"

echo "== counts: +0.5 % below a 1 % threshold, must pass"
count "$counts" rls_update_per_sample d8_n4096 5376258 5349510 base
"$tool" counts --dir "$counts" --baseline base --threshold 1

echo "== counts: +2 %, must fail and name it"
count "$counts" rls_update_per_sample d8_n4096 5456500 5349510 base
rc=0
out=$("$tool" counts --dir "$counts" --baseline base --threshold 1) || rc=$?
echo "$out"
if [[ $rc != 1 ]] || ! grep -q 'REGRESSED.*rls_update_per_sample/d8_n4096' <<< "$out"; then
    echo "bench-selftest: a 2 % growth of a count was not reported (exit $rc)" >&2
    exit 1
fi

echo "== counts: compared with another baseline, not judged; a gungraun regression fails"
count "$counts" rls_update_per_sample d8_n4096 5456500 5349510 other
out=$("$tool" counts --dir "$counts" --baseline base --threshold 1)
echo "$out"
grep -q 'Not in baseline `base` (not judged): rls_update_per_sample/d8_n4096' <<< "$out"
count "$counts" rls_update_per_sample d8_n4096 5349510 5349510 base '{"metric":"Ir"}'
if "$tool" counts --dir "$counts" --baseline base --threshold 1; then
    echo "bench-selftest: a regression flagged by gungraun was not reported" >&2
    exit 1
fi

echo "== counts: an id without its count, must be an error (exit 2)"
count "$counts" rls_update_per_sample d8 5349510 5349510 base
rc=0
"$tool" counts --dir "$counts" --baseline base 2> "$dir/err" || rc=$?
cat "$dir/err"
[[ $rc == 2 ]] && grep -q '_n<N>' "$dir/err"

echo "== scripts/bench.sh --save / --compare (controller bench, quick, no counts)"
scripts/bench.sh --save selftest --flags default --benches controller --quick --no-counts
scripts/bench.sh --compare selftest --flags default --benches controller --quick --threshold 1000 --no-counts
find target/criterion -type d -name selftest -prune -exec rm -rf {} +

if scripts/bench-counts.sh --check 2> "$dir/err"; then
    echo "== scripts/bench-counts.sh --save / --compare (the Page-Hinkley count)"
    CARGO_TARGET_DIR="$PWD/target" scripts/bench-counts.sh --save selftest -- '*page_hinkley*'
    CARGO_TARGET_DIR="$PWD/target" scripts/bench-counts.sh --compare selftest -- '*page_hinkley*' |
        tee "$dir/real.md"
    grep -q '| `page_hinkley_update_per_value/default_n4096` | 4096 | [0-9]* | [0-9.]* | value | [0-9.]* | +0.00 % |' "$dir/real.md"
    find target/gungraun -name '*.base@selftest' -delete
else
    echo "== scripts/bench-counts.sh skipped: $(head -n 1 "$dir/err")"
fi
echo "bench-selftest: ok"
