#!/usr/bin/env bash
# The firmware example (examples/firmware) on every board QEMU models, checked against the host,
# and the device figures: run from the repository root (`bash scripts/firmware.sh`); CI runs it.
#
# 1. Installs what is missing: the rustup targets, and from Debian (apt-get, only if a command
#    is missing; --no-install-recommends) qemu-system-arm, qemu-system-misc, binutils-arm-none-eabi.
# 2. The host reference: `cargo run --release` (and `--features full`) in examples/firmware.
# 3. Each board, minimal and `full` features: build, size, run under QEMU with -icount (and a
#    timeout), check QEMU's exit status and that every `bits` line equals the host's.
#      m4f   thumbv7em-none-eabihf                 mps2-an386  Cortex-M4F (single-precision FPU)
#      m7    thumbv7em-none-eabihf, cortex-m7      mps2-an500  Cortex-M7, FPv5-D16 (double FPU)
#      m33   thumbv8m.main-none-eabihf             mps2-an505  Cortex-M33 (single-precision FPU)
#      m0    thumbv6m-none-eabi                    microbit    Cortex-M0, 16 KiB RAM, no FPU
#      rv32  riscv32imac-unknown-none-elf          virt        RV32IMAC, no FPU
#    With FIRMWARE_SOFTDP=1 also `m7-softdp`: the M7 build without `fp64` (software double on
#    the same core and code generation: the control for the M4F-vs-M7 f64 figure).
# 4. The library alone (ci/no_std_check, thumbv7em-none-eabihf, opt-level "z", unstripped):
#    the minimal trainer, the full features and, if those bins exist, `npoa_no_std_online` and
#    the flash store (`npoa_no_std_flash`, less its `flash-baseline` build: what the store adds).
# 5. Writes target/firmware/figures.md (and prints it); the QEMU transcripts are kept next to it,
#    the images in examples/firmware/target/images/.
#
# Environment: QEMU_TIMEOUT (seconds per run, default 60), FIRMWARE_SOFTDP=1 (above),
# FIRMWARE_LINT=0 (skips fmt --check and clippy of the firmware crate).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
FW=$ROOT/examples/firmware
CHECK=$ROOT/ci/no_std_check
OUT=$ROOT/target/firmware
mkdir -p "$OUT"
rm -f "$OUT"/*.txt "$OUT"/*.bits "$OUT/figures.md"

# The builds below set their own flags and target directories.
unset RUSTFLAGS CARGO_BUILD_RUSTFLAGS CARGO_ENCODED_RUSTFLAGS CARGO_TARGET_DIR CARGO_BUILD_TARGET \
    NPOA_BOARD
export CARGO_TERM_COLOR=never
QEMU_TIMEOUT=${QEMU_TIMEOUT:-60}
SOFTDP=${FIRMWARE_SOFTDP:-0}
LINT=${FIRMWARE_LINT:-1}
# Runs whose stack may overflow RAM without failing the script (reported as "does not fit"), as
# " key key ": none (every board fits; an overflow fails the script like any other error).
MAY_OVERFLOW=" "
START=$SECONDS
TIMINGS=()

now() { echo "${EPOCHREALTIME/,/.}"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
say() { printf '\n==> %s\n' "$*"; }

# ---------------------------------------------------------------------------------------------
say "firmware: tools"
TARGETS=(thumbv6m-none-eabi thumbv7em-none-eabihf thumbv8m.main-none-eabihf riscv32imac-unknown-none-elf)
missing=()
installed=$(rustup target list --installed)
for t in "${TARGETS[@]}"; do
    grep -qx "$t" <<<"$installed" || missing+=("$t")
done
if ((${#missing[@]})); then rustup target add "${missing[@]}"; fi
need=()
command -v qemu-system-arm >/dev/null 2>&1 || need+=(qemu-system-arm)
command -v qemu-system-riscv32 >/dev/null 2>&1 || need+=(qemu-system-misc)
command -v arm-none-eabi-objdump >/dev/null 2>&1 || need+=(binutils-arm-none-eabi)
command -v size >/dev/null 2>&1 || need+=(binutils)
if ((${#need[@]})); then
    echo "installing ${need[*]}"
    SUDO=()
    if ((EUID != 0)); then SUDO=(sudo); fi
    "${SUDO[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
qemu-system-arm --version | head -n 1
rustc --version

# ---------------------------------------------------------------------------------------------
# Sizes from `size -A` (binutils reads any ELF: ARM and RISC-V alike).
section() { size -A "$1" | awk -v s="$2" '$1 == s { n += $2 } END { print n + 0 }'; }
# Everything loaded into flash: vector table, code, constants, `.data`'s initial values, and
# what else the linker keeps (RISC-V: `.eh_frame`, `.init.rust`).
flash() {
    size -A "$1" | awk '$1 ~ /^\.(vector_table|text|init\.rust|rodata|eh_frame|ARM\.exidx|data|gnu\.sgstubs)$/ { n += $2 }
        END { print n + 0 }'
}
# Bytes of software double precision: compiler-builtins' f64 routines (`__aeabi_d*`, `__*df3`,
# `__*df2`, conversions to and from f64), and separately libm's f64 functions (`pow`, `cos`, ...).
softdp() {
    nm -S -t d -C "$1" | awk '
        { name = $4; sub(/.*::/, "", name) }
        name ~ /^__aeabi_(d[a-z0-9]+|[a-z0-9]+2d)$/ || name ~ /^__[a-z0-9]*df[23]$/ ||
        name ~ /^__(fix|fixuns)df[a-z]+$/ || name ~ /^__float[a-z]*df$/ ||
        name ~ /^__(extendsfdf2|truncdfsf2|powidf2)$/ { if (!seen[$1]++) n += $2 }
        END { print n + 0 }'
}
# libm's f64 functions: `libm::math::*` whose name does not end in `f` (`pow`, `cos`, `sqrt` and
# their kernels; the generic helpers `scalbn`, `goldschmidt` too), and the C `fmax`/`fmin`.
libm_f64() {
    nm -S -t d -C "$1" | awk '
        { name = $4; sub(/.*::/, "", name) }
        ($4 ~ /^libm::math::/ && name !~ /f$/) || $4 == "fmax" || $4 == "fmin" {
            if (!seen[$1]++) n += $2 }
        END { print n + 0 }'
}
# The functions that call software double (directly, or through the machine outliner's
# `OUTLINED_FUNCTION_*` pieces at opt-level "z"), from an ARM image's disassembly.
dp_callers() {
    arm-none-eabi-objdump -d -C --no-show-raw-insn "$1" | awk '
        /^[0-9a-f]+ <.*>:$/ { f = $0; sub(/^[0-9a-f]+ </, "", f); sub(/>:$/, "", f); next }
        /\tb(l|\.w)?\t[0-9a-f]+ </ {
            t = $0; sub(/.*</, "", t); sub(/(\+0x[0-9a-f]+)?>.*/, "", t); calls[f, t] = 1; fs[f] = 1
        }
        END {
            for (k in calls) { split(k, p, SUBSEP); t = p[2]
                if (t ~ /^__aeabi_(d[a-z0-9]+|[a-z0-9]+2d)$/ || t ~ /^__[a-z0-9]*df[23]$/) dp[p[1]] = 1 }
            do { grew = 0
                for (k in calls) { split(k, p, SUBSEP)
                    if ((p[2] in dp) && (p[2] ~ /^OUTLINED_FUNCTION_/ || p[2] ~ /^libm::/) && !(p[1] in dp)) { dp[p[1]] = 1; grew = 1 } }
            } while (grew)
            for (f in dp) if (f !~ /^OUTLINED_FUNCTION_/ && f !~ /^__/) print f
        }' | sed -E 's/^<([^ ]+) as [^>]+>::/\1::/; s/<[^<>]*>//g; s/::\{\{closure\}\}//g' | sort -u |
        awk -F'::' '
            # npoa: module (the leading lower-case components) and item (the rest); other crates:
            # the crate and the function names.
            NF == 1 { m = "C symbols"; it = $1 }
            NF > 1 && $1 != "npoa" { m = $1; it = $NF }
            NF > 1 && $1 == "npoa" {
                m = $1; i = 2; while (i < NF && $i ~ /^[a-z_0-9]+$/) { m = m "::" $i; i++ }
                it = $i; for (j = i + 1; j <= NF; j++) it = it "::" $j }
            { if (m in items) { if (index(items[m], "`" it "`") == 0) items[m] = items[m] ", `" it "`" }
              else items[m] = "`" it "`" }
            END { for (m in items) print "- " m ": " items[m] }' | sort
}
# `LENGTH` of the RAM region of a memory layout, in bytes.
ram_of() {
    awk '$1 == "RAM" { for (i = 1; i <= NF; i++) if ($i == "LENGTH") { v = $(i + 2); sub(/,/, "", v)
        m = 1; if (v ~ /K$/) m = 1024; if (v ~ /M$/) m = 1048576; sub(/[KM]$/, "", v); print v * m } }' \
        "$FW/memory/$1.x"
}
# A figure of a transcript: `stack fit-sgd 5168` -> 5168 for `stack fit-sgd`, or "–".
fig() { awk -v k="$2" -v w="$3" '$1 == k && $2 == w { v = $3 } END { print (v == "" ? "–" : v) }' "$1"; }

# ---------------------------------------------------------------------------------------------
if ((LINT)); then
    say "firmware: fmt --check and clippy (host and every target)"
    t0=$(now)
    (cd "$FW" && cargo fmt -- --check)
    # `full` only: the feature is read with `cfg!` (every line compiles in either set).
    (cd "$FW" && cargo clippy -q --release --features full -- -D warnings)
    for t in "${TARGETS[@]}"; do
        (cd "$FW" && cargo clippy -q --release --target "$t" --features full -- -D warnings)
    done
    TIMINGS+=("$(printf '%6ss  lint' "$(since "$t0")")")
fi

say "firmware: host reference (cargo run --release, minimal and full)"
for feat in min full; do
    args=()
    [[ $feat == full ]] && args=(--features full)
    t0=$(now)
    (cd "$FW" && cargo run -q --release "${args[@]}") >"$OUT/host-$feat.txt"
    grep '^bits ' "$OUT/host-$feat.txt" >"$OUT/host-$feat.bits"
    cat "$OUT/host-$feat.txt"
    TIMINGS+=("$(printf '%6ss  host %s (build and run)' "$(since "$t0")" "$feat")")
done

# name | target | extra RUSTFLAGS | NPOA_BOARD | target dir (under examples/firmware) | QEMU command
BOARDS=(
    "m4f|thumbv7em-none-eabihf|||target|qemu-system-arm -M mps2-an386 -cpu cortex-m4"
    "m7|thumbv7em-none-eabihf|-C target-cpu=cortex-m7|mps2-an500|target/m7|qemu-system-arm -M mps2-an500 -cpu cortex-m7"
    "m33|thumbv8m.main-none-eabihf|||target|qemu-system-arm -M mps2-an505 -cpu cortex-m33"
    "m0|thumbv6m-none-eabi|||target|qemu-system-arm -M microbit"
    "rv32|riscv32imac-unknown-none-elf|||target|qemu-system-riscv32 -M virt -bios none"
)
if ((SOFTDP)); then
    BOARDS+=("m7-softdp|thumbv7em-none-eabihf|-C target-cpu=cortex-m7 -C target-feature=-fp64|mps2-an500|target/m7-softdp|qemu-system-arm -M mps2-an500 -cpu cortex-m7")
fi
declare -A LAYOUT=([m4f]=mps2-an386 [m7]=mps2-an500 [m7-softdp]=mps2-an500 [m33]=mps2-an505
    [m0]=microbit [rv32]=riscv-virt)
declare -A ELF STATUS
FAILED=0

for spec in "${BOARDS[@]}"; do
    IFS='|' read -r name target flags board tdir qemu <<<"$spec"
    for feat in min full; do
        args=()
        [[ $feat == full ]] && args=(--features full)
        key=$name-$feat
        say "firmware: $key ($target${flags:+, $flags})"
        t0=$(now)
        (
            cd "$FW"
            if [[ -n $flags ]]; then export RUSTFLAGS=$flags; fi
            if [[ -n $board ]]; then export NPOA_BOARD=$board; fi
            cargo build -q --release --target "$target" --target-dir "$tdir" "${args[@]}" 2>&1 |
                grep -v -e 'unknown and unstable feature specified' -e '^  *|$' -e '^  *= ' \
                    -e 'generated [0-9]* warning' -e '^$' || true
            test "${PIPESTATUS[0]}" -eq 0
        )
        build_s=$(since "$t0")
        # Each feature set has its own copy of the image (the next build overwrites the path),
        # in the firmware crate's target directory (the main one gets the transcripts only).
        mkdir -p "$FW/target/images"
        elf=$FW/target/images/$key.elf
        cp "$FW/$tdir/$target/release/npoa-firmware" "$elf"
        ELF[$key]=$elf
        t0=$(now)
        rc=0
        # shellcheck disable=SC2086 # the QEMU command is a word list
        timeout "$QEMU_TIMEOUT" $qemu -nographic -monitor none \
            $([[ $qemu == qemu-system-arm* ]] && echo "-serial none -semihosting-config enable=on,target=native") \
            -icount shift=0,align=off,sleep=off -kernel "$elf" </dev/null >"$OUT/$key.txt" 2>&1 || rc=$?
        run_s=$(since "$t0")
        TIMINGS+=("$(printf '%6ss  %s: build %ss, QEMU %ss' "$(awk -v a="$build_s" -v b="$run_s" 'BEGIN { printf "%.1f", a + b }')" "$key" "$build_s" "$run_s")")
        cat "$OUT/$key.txt"
        grep '^bits ' "$OUT/$key.txt" >"$OUT/$key.bits" || true
        if ((rc == 0)) && grep -qx done "$OUT/$key.txt" && diff -u "$OUT/host-$feat.bits" "$OUT/$key.bits"; then
            STATUS[$key]="equal to the host's"
            echo "$key: QEMU exit 0, bits equal to the host's"
            continue
        fi
        # The stack below the start of RAM (a fault with nowhere to push its frame: QEMU's lockup)
        # is "does not fit", not a wrong answer; accepted only in MAY_OVERFLOW.
        sp=$(awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^R13=/) { sub(/R13=/, "", $i); print $i } }' "$OUT/$key.txt" | head -n 1)
        if ((rc != 0)) && grep -q 'Lockup' "$OUT/$key.txt" && [[ -n $sp ]] && ((16#$sp < 16#20000000)); then
            STATUS[$key]="stack overflow (SP 0x$sp, below RAM): does not fit"
            if [[ $MAY_OVERFLOW == *" $key "* ]]; then
                echo "$key: ${STATUS[$key]} (accepted: MAY_OVERFLOW; see examples/firmware/README.md)"
                continue
            fi
        elif ((rc == 124)); then
            STATUS[$key]="FAILED: timed out after ${QEMU_TIMEOUT} s"
        elif ((rc != 0)); then
            STATUS[$key]="FAILED: QEMU exit $rc"
        else
            STATUS[$key]="FAILED: bits differ from the host's"
        fi
        echo "FAILED: $key: ${STATUS[$key]}; its bits against the host's (diff -u host board):" >&2
        diff -u "$OUT/host-$feat.bits" "$OUT/$key.bits" >&2 || true
        FAILED=1
    done
done

# ---------------------------------------------------------------------------------------------
say "library only: ci/no_std_check for thumbv7em-none-eabihf (opt-level \"z\", unstripped)"
LIB_ROWS=()
lib_build() { # label, target dir, cargo args...
    local label=$1 tdir=$2 t0
    shift 2
    t0=$(now)
    (cd "$CHECK" && cargo build -q --release --target thumbv7em-none-eabihf \
        --config 'profile.release.opt-level="z"' --config 'profile.release.strip=false' \
        --target-dir "$tdir" "$@")
    TIMINGS+=("$(printf '%6ss  library: %s' "$(since "$t0")" "$label")")
}
lib_row() { # label, bin path
    local f=$2
    LIB_ROWS+=("| $1 | $(section "$f" .text) | $(section "$f" .rodata) | $(section "$f" .bss) | $(softdp "$f") | $(libm_f64 "$f") |")
}
lib_build "minimal trainer" target/thumb-min --no-default-features --bin npoa_no_std_check
lib_row "minimal trainer (\`LinearModel<8>\`, squared error, SGD; default features off)" \
    "$CHECK/target/thumb-min/thumbv7em-none-eabihf/release/npoa_no_std_check"
lib_build "full" target/thumb-full --bin npoa_no_std_check
lib_row "full features (every loss and update rule)" \
    "$CHECK/target/thumb-full/thumbv7em-none-eabihf/release/npoa_no_std_check"
meta=$(cd "$CHECK" && cargo metadata -q --no-deps --format-version 1)
if grep -q '"name":"npoa_no_std_online"' <<<"$meta"; then
    req=$(grep -o '"name":"npoa_no_std_online"[^}]*' <<<"$meta" | grep -o '"required-features":\[[^]]*\]' |
        grep -o '"[^"]*"' | grep -v required-features | tr -d '"' | paste -sd, || true)
    lib_build "OnlineLearner" target/thumb-min --no-default-features ${req:+--features "$req"} \
        --bin npoa_no_std_online
    lib_row "\`OnlineLearner\` (\`npoa_no_std_online\`; default features off${req:+, features $req})" \
        "$CHECK/target/thumb-min/thumbv7em-none-eabihf/release/npoa_no_std_online"
else
    echo "ci/no_std_check has no npoa_no_std_online bin: no OnlineLearner figure"
    LIB_ROWS+=("| \`OnlineLearner\` | – | – | – | – | – |")
fi
# The flash checkpoint store (issue 18): `npoa_no_std_flash` opens a `Store` on a RAM-backed
# NorFlash, saves and loads; with `flash-baseline` the same flash accesses without the store.
# The difference is the store's `.text`.
if grep -q '"name":"npoa_no_std_flash"' <<<"$meta"; then
    lib_build "flash store" target/thumb-flash --no-default-features --bin npoa_no_std_flash
    lib_build "flash store baseline" target/thumb-flash-base --no-default-features \
        --features flash-baseline --bin npoa_no_std_flash
    fs=$CHECK/target/thumb-flash/thumbv7em-none-eabihf/release/npoa_no_std_flash
    fb=$CHECK/target/thumb-flash-base/thumbv7em-none-eabihf/release/npoa_no_std_flash
    lib_row "flash store (\`npoa_no_std_flash\`: \`Store::new\`, \`save\`, \`load\` on a RAM NorFlash)" "$fs"
    lib_row "its baseline (\`--features flash-baseline\`: the same flash accesses, no store)" "$fb"
    STORE_TEXT=$(($(section "$fs" .text) - $(section "$fb" .text)))
    LIB_ROWS+=("| the store adds | $STORE_TEXT | $(($(section "$fs" .rodata) - $(section "$fb" .rodata))) | – | – | – |")
    echo "flash store: .text adds $STORE_TEXT bytes on thumbv7em-none-eabihf"
fi

# ---------------------------------------------------------------------------------------------
# The report.
RUN_BOARDS=()
for spec in "${BOARDS[@]}"; do RUN_BOARDS+=("${spec%%|*}"); done
declare -A LABEL=([m4f]="Cortex-M4F (mps2-an386)" [m7]="Cortex-M7, double FPU (mps2-an500)"
    [m7-softdp]="Cortex-M7 without fp64 (mps2-an500)" [m33]="Cortex-M33 (mps2-an505)"
    [m0]="Cortex-M0 (microbit)" [rv32]="RV32IMAC (virt)")
rules_of() { [[ $1 == full ]] && echo "sgd adam" || echo sgd; }
share() { awk -v d="$1" -v a="$2" 'BEGIN { if (a + 0 > 0 && d != "–") printf "%.1f %%", 100 * d / a; else printf "–" }'; }
diffn() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "–" && b != "–") printf "%d", a - b; else printf "–" }'; }
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$ROOT" status --porcelain -- examples/firmware src Cargo.toml 2>/dev/null | head -c 1)
{
    echo "# Firmware figures"
    echo
    echo "\`bash scripts/firmware.sh\` at ${commit}${dirty:+ (with local changes)}; $(rustc --version); $(qemu-system-arm --version | head -n 1)."
    echo "Every image: \`examples/firmware\`, opt-level \"z\", LTO, one codegen unit, \`panic = \"abort\"\`;"
    echo "\`min\`: default features off (squared error, SGD), \`full\`: every loss and rule (adds the Adam runs)."
    echo "Instruction counts under QEMU \`-icount shift=0\` (one instruction per virtual ns): SysTick on"
    echo "Cortex-M (40 instructions a tick on MPS2, 50 on the AN505, 62.5 on the micro:bit: over 64 samples"
    echo "the learner's figures are within ±1 instruction, \`fit\`'s, a difference of two intervals, within ±2),"
    echo "\`minstret\` on RISC-V (exact). Stack: painting, bytes below the caller."
    echo
    echo "## Bits and image sizes (bytes)"
    echo
    echo "| board | features | bits | \`.text\` | \`.rodata\` | \`.data\` | \`.bss\` | flash (all loaded) | soft double | libm f64 |"
    echo "|---|---|---|--:|--:|--:|--:|--:|--:|--:|"
    for b in "${RUN_BOARDS[@]}"; do
        for feat in min full; do
            f=${ELF[$b-$feat]}
            echo "| ${LABEL[$b]} | $feat | ${STATUS[$b-$feat]} | $(section "$f" .text) | $(section "$f" .rodata) | $(section "$f" .data) | $(section "$f" .bss) | $(flash "$f") | $(softdp "$f") | $(libm_f64 "$f") |"
        done
    done
    echo
    echo "\"soft double\": compiler-builtins' f64 routines (\`__aeabi_d*\`, \`__*df3\`, \`__*df2\`, \`f2d\`/\`d2f\` and other"
    echo "conversions; on RISC-V and the M0 the f32 ones are software too, not counted here); \"libm f64\": libm's"
    echo "double-precision functions. The firmware's own formatting (\`core::fmt\` with floats) is part of every image."
    echo
    echo "## Stack (bytes)"
    echo
    echo "| board | features | rule | one \`fit\` | \`fit\`, one batch | learner \`push\` | learner \`step\` | whole run / RAM |"
    echo "|---|---|---|--:|--:|--:|--:|--:|"
    for b in "${RUN_BOARDS[@]}"; do
        for feat in min full; do
            t=$OUT/$b-$feat.txt
            for r in $(rules_of "$feat"); do
                echo "| ${LABEL[$b]} | $feat | $r | $(fig "$t" stack "fit-$r") | $(fig "$t" stack "fit-one-batch-$r") | $(fig "$t" stack "online-push-$r") | $(fig "$t" stack "online-step-$r") | $(fig "$t" stack whole-run) / $(ram_of "${LAYOUT[$b]}") |"
            done
        done
    done
    echo
    echo "\"one \`fit\`\": 40 epochs of batches of 8 over 128 samples; \"one batch\": one epoch of one batch of 8;"
    echo "the learner's after its warm-up (batches of 8); \"whole run\": from the top of RAM down to the lowest"
    echo "word written since boot (the workload keeps its 4.5 KiB of readings on the stack)."
    echo
    echo "## Instructions per single-sample update (D = 8, batches of 1)"
    echo
    echo "| board | features | rule | \`fit\` | learner \`push\` + \`step\` |"
    echo "|---|---|---|--:|--:|"
    for b in "${RUN_BOARDS[@]}"; do
        for feat in min full; do
            t=$OUT/$b-$feat.txt
            for r in $(rules_of "$feat"); do
                echo "| ${LABEL[$b]} | $feat | $r | $(fig "$t" insns "fit-batch1-$r") | $(fig "$t" insns "online-batch1-$r") |"
            done
        done
    done
    echo
    echo "\`fit\`: the difference of one epoch over 128 and over 64 samples, over 64 (a call's fixed costs cancel);"
    echo "learner: 64 samples pushed with a step after each, over 64."
    echo
    echo "## Software double precision on the Cortex-M4F"
    echo
    echo "The M4F's FPU is single-precision: npoa's \`f64\` runs in software there. The same code built for the"
    echo "Cortex-M7 (\`-C target-cpu=cortex-m7\`: FPv5-D16, double in hardware) gives the cost per update:"
    echo
    echo "| features | rule | path | M4F (software f64) | M7 (hardware f64) | software f64 costs |$( ((SOFTDP)) && echo " M7 without fp64 |")"
    echo "|---|---|---|--:|--:|--:|$( ((SOFTDP)) && echo "--:|")"
    for feat in min full; do
        for r in $(rules_of "$feat"); do
            for p in fit online; do
                a=$(fig "$OUT/m4f-$feat.txt" insns "$p-batch1-$r")
                h=$(fig "$OUT/m7-$feat.txt" insns "$p-batch1-$r")
                extra=""
                ((SOFTDP)) && extra=" $(fig "$OUT/m7-softdp-$feat.txt" insns "$p-batch1-$r") |"
                d=$(diffn "$a" "$h")
                echo "| $feat | $r | $p | $a | $h | $d ($(share "$d" "$a") of the M4F's) |$extra"
            done
        done
    done
    echo
    echo "What calls software double on the M4F (functions of the \`full\` image, by module):"
    echo
    dp_callers "${ELF[m4f-full]}" | grep -v -e '^- npoa_firmware' -e '^- core'
    echo
    echo "## The library alone (\`ci/no_std_check\`, thumbv7em-none-eabihf, opt-level \"z\", bytes)"
    echo
    echo "| build | \`.text\` | \`.rodata\` | \`.bss\` | soft double | libm f64 |"
    echo "|---|--:|--:|--:|--:|--:|"
    printf '%s\n' "${LIB_ROWS[@]}"
    echo
    echo "## Time (this run)"
    echo
    echo '```text'
    printf '%s\n' "${TIMINGS[@]}"
    printf '%6ss  total\n' $((SECONDS - START))
    echo '```'
} >"$OUT/figures.md"

say "firmware: figures (target/firmware/figures.md)"
cat "$OUT/figures.md"
if ((FAILED)); then
    echo "FAILED: a board's run failed or its bits differ from the host's (see above)" >&2
    exit 1
fi
echo "firmware: every board's bits equal the host's ($((SECONDS - START)) s)"
