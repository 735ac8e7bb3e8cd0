#!/usr/bin/env bash
# Checks the README's code-size figures against a fresh measurement: the figures that are cheap
# and deterministic to measure (a given toolchain links the same bytes every time), namely the
# `.text` sections of the freestanding `ci/no_std_check` binaries.
#
#   x86-64 (`opt-level = "s"`, LTO, stripped; the commands of CI's "no_std: freestanding binary"
#   step, plus the `losses`-only and `optimizers`-only builds of the footprint table):
#     full        cargo build --release                                   (target/release)
#     minimal     cargo build --release --no-default-features --bin npoa_no_std_check \
#                     --target-dir target/minimal
#     losses      ... --no-default-features --features npoa/losses        (target/losses)
#     optimizers  ... --no-default-features --features npoa/optimizers    (target/optimizers)
#   thumbv7em-none-eabihf (`opt-level = "z"`, unstripped; the "library alone" builds of
#   scripts/firmware.sh, in the same target directories):
#     minimal trainer, full features, and the `OnlineLearner` (`npoa_no_std_online`).
#
# Each README figure is found by a pattern over its sentence or table row (see FIGURES below)
# and must be within the tolerance of its measurement (README_FIGURES_TOLERANCE, a percentage,
# default 2: a toolchain update moves these sizes by a few tenths of a percent; a change to the
# library's code moves them by more). Prints every figure, quoted and measured; exits 1 if one
# is off or cannot be found in the README.
#
# Not checked here (quoted in the README with the command that measures them): timings
# (`cargo bench`: noisy, machine-dependent), and the firmware's stack and instruction counts
# (`bash scripts/firmware.sh`: minutes of QEMU runs; target/firmware/figures.md).
#
# Run from anywhere in the repository: `bash scripts/readme-figures.sh`.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
CHECK=$ROOT/ci/no_std_check
TOLERANCE=${README_FIGURES_TOLERANCE:-2}

# The builds below set their own flags and target directories.
unset RUSTFLAGS CARGO_BUILD_RUSTFLAGS CARGO_ENCODED_RUSTFLAGS CARGO_TARGET_DIR CARGO_BUILD_TARGET

if ! command -v size >/dev/null 2>&1; then
    echo "size (binutils) not found; installing binutils" >&2
    apt-get install -y -qq --no-install-recommends binutils >/dev/null 2>&1 ||
        { apt-get update -qq && apt-get install -y -qq --no-install-recommends binutils; }
fi
if ! rustup target list --installed | grep -qx thumbv7em-none-eabihf; then
    rustup target add thumbv7em-none-eabihf
fi

text() { size -A "$1" | awk '$1 == ".text" { n += $2 } END { print n + 0 }'; }

host() { # target dir, cargo args...
    local tdir=$1
    shift
    echo "+ (cd ci/no_std_check && cargo build --release $* --target-dir $tdir)"
    (cd "$CHECK" && cargo build -q --release "$@" --target-dir "$tdir")
}
thumb() { # target dir, cargo args...
    local tdir=$1
    shift
    echo "+ (cd ci/no_std_check && cargo build --release --target thumbv7em-none-eabihf" \
        "[opt-level z, unstripped] $* --target-dir $tdir)"
    (cd "$CHECK" && cargo build -q --release --target thumbv7em-none-eabihf \
        --config 'profile.release.opt-level="z"' --config 'profile.release.strip=false' \
        --target-dir "$tdir" "$@")
}

host target
host target/minimal --no-default-features --bin npoa_no_std_check
host target/losses --no-default-features --features npoa/losses --bin npoa_no_std_check
host target/optimizers --no-default-features --features npoa/optimizers --bin npoa_no_std_check
thumb target/thumb-min --no-default-features --bin npoa_no_std_check
thumb target/thumb-full --bin npoa_no_std_check
thumb target/thumb-min --no-default-features --bin npoa_no_std_online

T=$CHECK/target
X86_FULL=$(text "$T/release/npoa_no_std_check")
X86_MIN=$(text "$T/minimal/release/npoa_no_std_check")
X86_LOSSES=$(text "$T/losses/release/npoa_no_std_check")
X86_OPTIM=$(text "$T/optimizers/release/npoa_no_std_check")
M4F_MIN=$(text "$T/thumb-min/thumbv7em-none-eabihf/release/npoa_no_std_check")
M4F_FULL=$(text "$T/thumb-full/thumbv7em-none-eabihf/release/npoa_no_std_check")
M4F_ONLINE=$(text "$T/thumb-min/thumbv7em-none-eabihf/release/npoa_no_std_online")
echo "measured with $(rustc --version): x86-64 .text full $X86_FULL, minimal $X86_MIN," \
    "losses only $X86_LOSSES, optimizers only $X86_OPTIM; thumbv7em .text minimal $M4F_MIN," \
    "full $M4F_FULL, OnlineLearner $M4F_ONLINE"

# name <TAB> measured bytes <TAB> unit of the README's number (B, or KB = 1000 B) <TAB> pattern
# (Python regex over README.md; group 1 is the number, with or without thousands separators).
FIGURES=$(
    cat <<EOF
x86-64 minimal (footprint table)	$X86_MIN	B	\| \`\.text\` of \`ci/no_std_check\` training a \`LinearModel<8>\`[^|]*\|[^|]*\| ([0-9,]+)
x86-64 losses only (footprint table)	$X86_LOSSES	B	\| the same with \`features = \["losses"\]\`[^|]*\|[^|]*\| ([0-9,]+)
x86-64 optimizers only (footprint table)	$X86_OPTIM	B	\| the same with \`features = \["optimizers"\]\`[^|]*\|[^|]*\| ([0-9,]+)
x86-64 every loss and rule (footprint table)	$X86_FULL	B	\| the same with both \|[^|]*\| ([0-9,]+)
x86-64 minimal (text)	$X86_MIN	KB	links ([0-9.]+) KB of code on x86-64
losses' share, losses only minus minimal (text)	$((X86_LOSSES - X86_MIN))	KB	≈ ([0-9.]+) KB with their point-wise kernel
optimizers' share, optimizers only minus minimal (text)	$((X86_OPTIM - X86_MIN))	KB	\(every rule but SGD:\s+≈ ([0-9.]+) KB
Cortex-M4F minimal trainer (microcontroller table)	$M4F_MIN	B	\| flash: \`\.text\` of the trainer alone[^|]*\| ([0-9,]+) B
Cortex-M4F full trainer (microcontroller table)	$M4F_FULL	B	\| flash: \`\.text\` of the trainer alone[^|]*\|[^|]*\| ([0-9,]+) B
Cortex-M4F OnlineLearner (microcontroller table)	$M4F_ONLINE	B	\| flash: \`\.text\` of the \`OnlineLearner[^|]*\| ([0-9,]+) B
Cortex-M4F minimal (text)	$M4F_MIN	KB	\(([0-9.]+) KB on a Cortex-M4F at
EOF
)

FIGURES=$FIGURES TOLERANCE=$TOLERANCE python3 - "$ROOT/README.md" <<'PY'
import os, re, sys

readme = open(sys.argv[1], encoding="utf-8").read()
tolerance = float(os.environ["TOLERANCE"])
failed = 0
print(f"{'figure':<58} {'README':>9} {'measured':>9} {'diff':>8}")
for line in os.environ["FIGURES"].splitlines():
    name, measured, unit, pattern = line.split("\t")
    measured = int(measured)
    found = re.findall(pattern, readme)
    if len(found) != 1:
        print(f"{name:<58} {'?':>9} {measured:>9}   error: pattern found {len(found)} times, expected once: {pattern}")
        failed += 1
        continue
    quoted = float(found[0].replace(",", "")) * (1000 if unit == "KB" else 1)
    diff = 100.0 * (quoted - measured) / measured
    verdict = "ok" if abs(diff) <= tolerance else f"OFF by more than {tolerance:g} %"
    print(f"{name:<58} {quoted:>9.0f} {measured:>9} {diff:>+7.2f}%  {verdict}")
    failed += verdict != "ok"
if failed:
    print(f"readme-figures: {failed} figure(s) of README.md differ from the measurement (or were not found)")
    sys.exit(1)
print(f"readme-figures: every checked figure within {tolerance:g} % of the measurement")
PY
