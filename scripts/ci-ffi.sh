#!/usr/bin/env bash
# The C API from C (issue 17, part 5): run from the repository root (`bash scripts/ci-ffi.sh`).
#
# 1. Host: builds the staticlib (`cargo build -p npoa-ffi --release`), compiles the C example
#    ffi/examples/c/train.c against ffi/include/npoa.h with gcc -std=c99 -Wall -Wextra -Werror,
#    and runs it (it trains with fit and with the online learner, predicts, round-trips the
#    model bytes, checks the error codes of bad inputs, and exits non-zero on any failure).
# 2. Cortex-M4F: builds the staticlib for thumbv7em-none-eabihf, links the same example with
#    arm-none-eabi-gcc (newlib, --specs=nosys.specs, --gc-sections) and prints its sizes, and
#    those of ffi/examples/c/minimal.c (what a firmware using one model size links).
# 3. If qemu-system-arm is there: links the example once more with semihosting (rdimon) and a
#    vector table for mps2-an386, runs it (a timeout) and checks that its output equals the
#    host's line for line (the trained weights' bits included).
#
# The header's freshness (cbindgen regenerates it) and the Rust-side tests of the API run in
# `cargo test --workspace` (ffi/tests/). Installs what is missing: the rustup target, and
# gcc-arm-none-eabi libnewlib-arm-none-eabi (apt-get --no-install-recommends).
set -euo pipefail

cd "$(dirname "$0")/.."
OUT=target/ffi
mkdir -p "$OUT"
CFLAGS=(-std=c99 -Wall -Wextra -Werror -O2 -I ffi/include)

echo "== host: staticlib and the C example (gcc)"
cargo build -p npoa-ffi --release
HOST_LIB=target/release/libnpoa_ffi.a
# The system libraries a Rust staticlib with std needs on Linux (rustc --print native-static-libs).
gcc "${CFLAGS[@]}" ffi/examples/c/train.c "$HOST_LIB" -lm -lpthread -ldl -lrt -lutil \
    -o "$OUT/train-host"
"$OUT/train-host" | tee "$OUT/host.txt"
echo "host archive: $(stat -c %s "$HOST_LIB") bytes ($HOST_LIB)"

echo "== thumbv7em-none-eabihf: staticlib and the C example (arm-none-eabi-gcc)"
if ! rustup target list --installed | grep -qx thumbv7em-none-eabihf; then
    rustup target add thumbv7em-none-eabihf
fi
if ! command -v arm-none-eabi-gcc >/dev/null 2>&1 || [[ ! -d /usr/lib/arm-none-eabi/newlib ]]; then
    SUDO=()
    if ((EUID != 0)); then SUDO=(sudo); fi
    if ! apt-cache show gcc-arm-none-eabi >/dev/null 2>&1; then "${SUDO[@]}" apt-get update -qq; fi
    DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends \
        gcc-arm-none-eabi libnewlib-arm-none-eabi
fi
arm-none-eabi-gcc --version | head -n 1
cargo build -p npoa-ffi --release --target thumbv7em-none-eabihf
ARM_LIB=target/thumbv7em-none-eabihf/release/libnpoa_ffi.a
M4F=(-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16)
arm-none-eabi-gcc "${CFLAGS[@]}" "${M4F[@]}" -ffunction-sections -fdata-sections \
    --specs=nosys.specs -Wl,--gc-sections -Wl,--no-warn-execstack ffi/examples/c/train.c "$ARM_LIB" -lm \
    -o "$OUT/train-m4f.elf"
echo "linked $OUT/train-m4f.elf (thumbv7em archive: $(stat -c %s "$ARM_LIB") bytes)"
arm-none-eabi-size "$OUT/train-m4f.elf"
text=$(arm-none-eabi-size -A "$OUT/train-m4f.elf" | awk '$1 == ".text" { print $2 }')
# The Rust archive's share (npoa, libm, compiler_builtins; the rest is the example and newlib's
# printf): the ELF's code symbols that the archive defines, summed.
arm-none-eabi-nm --defined-only "$ARM_LIB" 2>/dev/null | awk '$2 ~ /^[TtWw]$/ { print $3 }' |
    sort -u >"$OUT/rust.syms"
rust=$(arm-none-eabi-nm -S --defined-only "$OUT/train-m4f.elf" |
    awk '$3 ~ /^[TtWw]$/ { print $4, $2 }' | sort -k1,1 | join - "$OUT/rust.syms" | awk '
    function hex(s,   i, v) { v = 0; s = tolower(s)
        for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
        return v }
    { t += hex($2) } END { print t + 0 }')
echo ".text of the linked Cortex-M4F example: $text bytes ($rust of them from libnpoa_ffi.a)"
# A firmware's footprint: one model size (D = 8), fit + learner push/step + predict + bytes,
# no printf.
arm-none-eabi-gcc "${CFLAGS[@]}" "${M4F[@]}" -ffunction-sections -fdata-sections \
    --specs=nosys.specs -Wl,--gc-sections -Wl,--no-warn-execstack ffi/examples/c/minimal.c \
    "$ARM_LIB" -lm -o "$OUT/minimal-m4f.elf"
minimal=$(arm-none-eabi-size -A "$OUT/minimal-m4f.elf" | awk '$1 == ".text" { print $2 }')
echo ".text of ffi/examples/c/minimal.c (D = 8: fit, learner, predict, bytes): $minimal bytes"

if command -v qemu-system-arm >/dev/null 2>&1; then
    echo "== QEMU mps2-an386 (Cortex-M4F, semihosting): the output must equal the host's"
    arm-none-eabi-gcc "${CFLAGS[@]}" "${M4F[@]}" -ffunction-sections -fdata-sections \
        --specs=rdimon.specs -T ffi/examples/c/mps2-an386.ld -Wl,--gc-sections -Wl,--no-warn-execstack \
        ffi/examples/c/train.c ffi/examples/c/mps2_vectors.c "$ARM_LIB" -lm \
        -o "$OUT/train-qemu.elf"
    set +e
    timeout 60 qemu-system-arm -M mps2-an386 -cpu cortex-m4 -nographic -monitor none \
        -semihosting-config enable=on,target=native -kernel "$OUT/train-qemu.elf" \
        >"$OUT/qemu.txt" 2>"$OUT/qemu.err"
    rc=$?
    set -e
    cat "$OUT/qemu.txt"
    if ((rc != 0)); then
        echo "QEMU run failed (exit $rc)"; cat "$OUT/qemu.err"; exit 1
    fi
    if ! diff -u "$OUT/host.txt" <(tr -d '\r' <"$OUT/qemu.txt"); then
        echo "the Cortex-M4F output differs from the host's"; exit 1
    fi
    echo "QEMU output equals the host's ($(wc -l <"$OUT/host.txt") lines, weights' bits included)"
else
    echo "(qemu-system-arm not installed: the QEMU run is skipped)"
fi
echo "ci-ffi: ok"
