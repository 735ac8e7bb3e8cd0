#!/usr/bin/env bash
# Smoke test of `npoa train`, `npoa predict` and `npoa inspect` on small generated CSV files:
# train → save → predict gives identical predictions; the JSON line parses; the model card is
# written; a `;` file is sniffed; labels 1..3 need --remap-labels and come back from predict;
# the Rust export compiles; the C header passes a syntax check when a C compiler is present.
# Run from the repository root.
set -euo pipefail
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
TRAIN="cargo run --release --quiet -p npoa-cli -- train"
PREDICT="cargo run --release --quiet -p npoa-cli -- predict"
INSPECT="cargo run --release --quiet -p npoa-cli -- inspect"

# Regression: y = 2a − 0.1b + 0.5c + 0.3 + noise, b on another scale.
awk 'BEGIN { srand(7); print "a,b,c,y";
  for (i = 0; i < 500; i++) { a = rand()*2-1; b = rand()*20-10; c = rand()*2-1;
    printf "%.6f,%.6f,%.6f,%.6f\n", a, b, c, 2*a - 0.1*b + 0.5*c + 0.3 + 0.05*(rand()-0.5) } }' \
    > "$TMP/reg.csv"
$TRAIN "$TMP/reg.csv" --save "$TMP/reg.npoa" --predictions "$TMP/reg_train.txt" \
    --plot "$TMP/reg.svg" --export-rust "$TMP/reg.rs" --export-c "$TMP/reg.h" --json --every 100 \
    | tee "$TMP/reg.out"
$PREDICT "$TMP/reg.npoa" "$TMP/reg.csv" --out "$TMP/reg_pred.txt"
cmp "$TMP/reg_train.txt" "$TMP/reg_pred.txt"
echo "regression: train and predict give identical predictions ($(wc -l < "$TMP/reg_pred.txt") rows)"
tail -n 1 "$TMP/reg.out" | grep -q '^{"card":' || { echo "the last line is not the JSON object"; exit 1; }
test -s "$TMP/reg.npoa.json" || { echo "no model card"; exit 1; }
$INSPECT "$TMP/reg.npoa" | tee "$TMP/reg.inspect"
grep -q '^crc32: ok' "$TMP/reg.inspect"
grep -q '^dimensions: d = 3 features, k = 1 outputs' "$TMP/reg.inspect"
grep -q 'features: a, b, c' "$TMP/reg.inspect"
grep -q '^strategy: full-batch conjugate gradients' "$TMP/reg.out" || { echo "no strategy line"; exit 1; }
if command -v python3 >/dev/null 2>&1; then
    # The defaults (standardised, the solver) end converged, with the certificate in the JSON.
    tail -n 1 "$TMP/reg.out" | python3 -c 'import json,sys; o=json.load(sys.stdin); assert o["train"]["r2"] > 0.99, o; assert o["validation"] is None; assert o["converged"] is True and o["stop_reason"] == "converged", o; assert o["certificate"]["value"] <= 1e-4, o; assert o["standardized"] == {"features": True, "target": True}, o'
fi
# The module names `npoa::LinearModel::from_parts` (a const fn): compile it against the library.
cargo build --release --quiet -p npoa
LIBDIR="${CARGO_TARGET_DIR:-target}/release"
rustc --edition 2021 --crate-type lib --extern npoa="$LIBDIR/libnpoa.rlib" -L "dependency=$LIBDIR/deps" \
    -o "$TMP/reg.rlib" "$TMP/reg.rs"
if command -v cc >/dev/null 2>&1; then cc -fsyntax-only -x c "$TMP/reg.h"; fi
grep -q '<svg' "$TMP/reg.svg"

# AdaGrad on the raw features (b on a 10× scale: its per-coordinate steps absorb it) with an
# L1 penalty and the default rate (Recipe::rate_for: 0.1): train → save → predict, R² > 0.99.
$TRAIN "$TMP/reg.csv" --optimizer adagrad --l1 0.001 --save "$TMP/ada.npoa" \
    --predictions "$TMP/ada_train.txt" --quiet --json > "$TMP/ada.out"
$PREDICT "$TMP/ada.npoa" "$TMP/reg.csv" --out "$TMP/ada_pred.txt"
cmp "$TMP/ada_train.txt" "$TMP/ada_pred.txt"
if command -v python3 >/dev/null 2>&1; then
    tail -n 1 "$TMP/ada.out" | python3 -c 'import json,sys; o=json.load(sys.stdin); assert o["train"]["r2"] > 0.99, o["train"]'
fi
echo "adagrad: train and predict give identical predictions; $(grep '^train:' "$TMP/ada.out")"

# Three classes, softmax with Adam and a validation split and early stopping.
awk 'BEGIN { srand(11); print "u,v,label";
  for (i = 0; i < 600; i++) { k = i % 3; t = k * 2.0944;
    printf "%.5f,%.5f,%d\n", 3*cos(t) + 2*(rand()-0.5), 3*sin(t) + 2*(rand()-0.5), k } }' \
    > "$TMP/cls.csv"
$TRAIN "$TMP/cls.csv" --loss softmax --optimizer adam --val-fraction 0.25 --early-stop 10 \
    --epochs 80 --save "$TMP/cls.npoa" --predictions "$TMP/cls_train.txt" --quiet --json > "$TMP/cls.out"
$PREDICT "$TMP/cls.npoa" "$TMP/cls.csv" --out "$TMP/cls_pred.txt"
cmp "$TMP/cls_train.txt" "$TMP/cls_pred.txt"
echo "softmax: train and predict give identical predictions; $(grep '^train:' "$TMP/cls.out")"

# Quantile regression at τ = 0.9: y = 2a + 1 + Exp(1) noise; about 90 % of the targets lie
# below the fitted line (its intercept near 1 + ln 10 = 3.30).
awk 'BEGIN { srand(13); print "a,y";
  for (i = 0; i < 2000; i++) { a = rand()*2-1; printf "%.6f,%.6f\n", a, 2*a + 1 - log(1 - rand()) } }' \
    > "$TMP/q.csv"
$TRAIN "$TMP/q.csv" --loss quantile --tau 0.9 --epochs 100 --save "$TMP/q.npoa" \
    --predictions "$TMP/q_train.txt" --quiet --json > "$TMP/q.out"
$PREDICT "$TMP/q.npoa" "$TMP/q.csv" --out "$TMP/q_pred.txt"
cmp "$TMP/q_train.txt" "$TMP/q_pred.txt"
if command -v python3 >/dev/null 2>&1; then
    python3 - "$TMP/q.csv" "$TMP/q_pred.txt" "$TMP/q.out" <<'PY'
import json, sys
ys = [float(l.split(",")[1]) for l in open(sys.argv[1]).read().split("\n")[1:] if l]
ps = [float(l) for l in open(sys.argv[2]) if l.strip()]
below = sum(y < p for y, p in zip(ys, ps)) / len(ys)
o = json.loads(open(sys.argv[3]).read().strip().split("\n")[-1])
assert abs(below - 0.9) < 0.02, below
assert abs(o["model"]["bias"] - 3.3026) < 0.3, o["model"]
print(f"quantile: {below:.3f} of the targets below the fit, intercept {o['model']['bias']:.3f} (truth 3.303)")
PY
fi

# Poisson regression: counts with ln μ = 0.3 + 0.5a − 0.4b; `--predictions` writes μ.
awk 'BEGIN { srand(17); print "a,b,count";
  for (i = 0; i < 3000; i++) { a = rand()*2-1; b = rand()*2-1; l = exp(-exp(0.3 + 0.5*a - 0.4*b));
    k = 0; p = rand(); while (p > l) { k++; p *= rand() } printf "%.6f,%.6f,%d\n", a, b, k } }' \
    > "$TMP/p.csv"
$TRAIN "$TMP/p.csv" --loss poisson --epochs 100 --save "$TMP/p.npoa" \
    --predictions "$TMP/p_train.txt" --quiet --json > "$TMP/p.out"
$PREDICT "$TMP/p.npoa" "$TMP/p.csv" --out "$TMP/p_pred.txt"
cmp "$TMP/p_train.txt" "$TMP/p_pred.txt"
if command -v python3 >/dev/null 2>&1; then
    tail -n 1 "$TMP/p.out" | python3 -c '
import json, sys
o = json.load(sys.stdin)["model"]
w, b = o["weights"], o["bias"]
assert abs(w[0] - 0.5) < 0.1 and abs(w[1] + 0.4) < 0.1 and abs(b - 0.3) < 0.1, o
print(f"poisson: w = {w[0]:.3f}, {w[1]:.3f}, b = {b:.3f} (truth 0.5, -0.4, 0.3)")'
fi

# The same data with `;`: sniffed (and said), the same predictions as with commas.
tr ',' ';' < "$TMP/reg.csv" > "$TMP/semi.csv"
$TRAIN "$TMP/semi.csv" --quiet --predictions "$TMP/semi_train.txt" 2> "$TMP/semi.err" > /dev/null
grep -q "delimiter ';'" "$TMP/semi.err"
cmp "$TMP/semi_train.txt" "$TMP/reg_train.txt"
echo "semicolons: sniffed, the same predictions as the comma file"

# Labels 1..3: an error without --remap-labels; with it, predict gives the labels back.
awk -F, 'NR == 1 { print; next } { printf "%s,%s,%d\n", $1, $2, $3 + 1 }' "$TMP/cls.csv" > "$TMP/cls13.csv"
if $TRAIN "$TMP/cls13.csv" --loss softmax --quiet 2> "$TMP/cls13.err"; then echo "labels 1..3 were accepted"; exit 1; fi
grep -q -- '--remap-labels' "$TMP/cls13.err"
$TRAIN "$TMP/cls13.csv" --loss softmax --remap-labels --save "$TMP/cls13.npoa" --quiet | grep -q '^labels: 1 -> 0, 2 -> 1, 3 -> 2'
$PREDICT "$TMP/cls13.npoa" "$TMP/cls13.csv" --out "$TMP/cls13_pred.txt"
sort -u "$TMP/cls13_pred.txt" | tr '\n' ' ' | grep -q '^1 2 3 $'
echo "labels 1..3: refused without --remap-labels; remapped, predict writes $(sort -u "$TMP/cls13_pred.txt" | tr '\n' ' ')"

# A broken file is an error that names the line.
printf 'a,y\n1,2\n3,oops\n' > "$TMP/bad.csv"
if $TRAIN "$TMP/bad.csv" --quiet 2> "$TMP/bad.err"; then echo "a bad CSV was accepted"; exit 1; fi
grep -q 'bad.csv:3:2: not a number' "$TMP/bad.err"
echo "bad CSV: $(cat "$TMP/bad.err")"
