#!/usr/bin/env bash
# The Python package (issue 21): `pip install ./python` in a fresh virtual environment (pip
# fetches maturin, maturin builds the PyO3 extension with cargo), the README's Python example
# with nothing else installed, then the pytest suite of
# python/tests with scikit-learn and pandas, run from outside the source tree so that `import
# npoa` is the installed package. The suite compares the model bytes with `npoa train --save`:
# put the command on PATH or name it in NPOA_CLI (NPOA_REQUIRE_CLI=1 here: a missing command
# fails rather than skips), and the firmware's federated round with the host transcript of
# scripts/firmware.sh (target/firmware/host-min.txt; NPOA_REQUIRE_FIRMWARE=1: run that first).
# Also lints the bindings (fmt, clippy -D warnings), and runs the
# Flower federations' small version (both tasks, 10 devices, 3 rounds, `--check`: npoa's twice,
# identical aggregates, one device's update recomputed in another process). Prints a
# `test result:` line with pytest's counts for the CI summary.
set -Eeuo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

if ! python3 -m venv "$TMP/venv" 2>/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
    python3 -m venv "$TMP/venv"
fi
PY=$TMP/venv/bin/python
"$PY" -m pip install -q --upgrade pip
echo "+ pip install ./python"
"$PY" -m pip install -q ./python
# The README's Python example in the fresh environment, before anything else is installed
# (numpy alone: the estimators' scikit-learn-free path).
echo "+ the README's Python example, with npoa and numpy only"
"$PY" - "$ROOT/README.md" <<'PY'
import re
import sys

blocks = re.findall(r"```python\n(.*?)```", open(sys.argv[1]).read(), flags=re.S)
assert blocks, "the README has a Python example"
for block in blocks:
    exec(compile(block, "README.md", "exec"), {})
PY
"$PY" -m pip install -q pytest scikit-learn pandas "flwr[simulation]"
"$PY" -m pip list 2>/dev/null | grep -Ei '^(npoa|numpy|scikit-learn|pandas|pytest|maturin|flwr|ray) '

echo "+ the bindings: cargo fmt --check, cargo clippy -D warnings"
(cd python && cargo fmt -- --check && cargo clippy --all-targets -- -D warnings)

echo "+ pytest python/tests"
cd "$TMP"
NPOA_REQUIRE_CLI=1 NPOA_REQUIRE_FIRMWARE=1 "$PY" -m pytest -q -p no:cacheprovider \
    --junitxml="$TMP/junit.xml" \
    "$ROOT/python/tests" --doctest-modules --pyargs npoa
"$PY" - "$TMP/junit.xml" <<'PY'
import sys
import xml.etree.ElementTree as ET

root = ET.parse(sys.argv[1]).getroot()
suite = root if root.tag == "testsuite" else root.find("testsuite")
n, fail, err, skip = (int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped"))
print(f"test result: {'ok' if fail + err == 0 else 'FAILED'}. {n - fail - err - skip} passed; "
      f"{fail + err} failed; {skip} ignored (pytest python/tests)")
PY

echo "+ python -m npoa.fleet --devices 10 --rounds 3 --check (Flower simulation)"
# Ray and Flower log much; the whole log is shown only if the run fails.
if ! "$PY" -m npoa.fleet --devices 10 --rounds 3 --check --out "$TMP/fleet" >"$TMP/fleet.log" 2>&1; then
    cat "$TMP/fleet.log"
    echo "the Flower federation failed"
    exit 1
fi
grep -Ev '^\s|WARNING|ClientAppActor|FutureWarning|^$' "$TMP/fleet.log" || true
"$PY" -m npoa.fleet --recompute "$TMP/fleet/diabetes-npoa-1" --round 2 --device 4
