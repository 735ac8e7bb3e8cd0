#!/usr/bin/env bash
# CI for `npoa export` (issue 17, part 4): the exported C headers predict npoa's bits.
#
#  1. Installs what is missing (apt, --no-install-recommends): gcc, gcc-arm-none-eabi,
#     libnewlib-arm-none-eabi (newlib and its semihosting library, rdimon), qemu-system-arm.
#  2. Runs cli/tests/export_c.rs with NPOA_EXPORT_ARM=1: 12 exported models (regression
#     d = 1, 3, 8, 13, 17, 40; logistic d = 5, 11; Poisson d = 4, 9; softmax K = 3, 5), two per
#     C program, 3,000 rows each with extreme and subnormal values; every output compared by
#     its bits with npoa's own predictions, for
#       - gcc -std=c99 -O2 -ffp-contract=off -Wall -Wextra -Wpedantic -Werror (host),
#       - gcc -std=gnu11 -O3 -march=native (GNU mode: the header's pragma keeps FMA out),
#       - arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16
#         -std=c99 -O2 -ffp-contract=off -Wall -Wextra -Werror, compiled (-c), linked with
#         --specs=rdimon.specs -nostartfiles (cli/tests/c/m4f-start.c, mps2-an386.ld) and run
#         on qemu-system-arm -M mps2-an386 -cpu cortex-m4 (semihosting);
#     and the header's exp against libm's in double bits (200,000 arguments).
#  3. Runs cli/tests/export_rust.rs: the exported Rust modules compile (const-built statics)
#     and predict the exported bits; cli/tests/export_cli.rs: `npoa export` itself (files,
#     names from the model card or --features, errors).
#
# Run from the repository root: bash scripts/ci-export.sh
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v gcc >/dev/null 2>&1 || need+=(gcc)
command -v arm-none-eabi-gcc >/dev/null 2>&1 || need+=(gcc-arm-none-eabi)
if ! command -v arm-none-eabi-gcc >/dev/null 2>&1 ||
    [[ $(arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 \
        -print-file-name=librdimon.a) == librdimon.a ]]; then
    need+=(libnewlib-arm-none-eabi)
fi
command -v qemu-system-arm >/dev/null 2>&1 || need+=(qemu-system-arm)
if ((${#need[@]})); then
    echo "ci-export: installing ${need[*]}"
    if ! apt-get install -y --no-install-recommends "${need[@]}"; then
        apt-get update
        apt-get install -y --no-install-recommends "${need[@]}"
    fi
fi
gcc --version | head -n 1
arm-none-eabi-gcc --version | head -n 1
qemu-system-arm --version | head -n 1

t0=$(date +%s)
log=$(mktemp)
rc=0
NPOA_EXPORT_ARM=1 cargo test -p npoa-cli --test export_c --test export_rust --test export_cli \
    -- --nocapture >"$log" 2>&1 || rc=$?
grep -E '^(export_|test |test result|error|warning|thread|  )' "$log" || true
((rc == 0)) || tail -n 40 "$log"
rm -f "$log"
echo "ci-export: export_c, export_rust and export_cli $( ((rc == 0)) && echo passed || echo FAILED) in $(($(date +%s) - t0)) s"
exit "$rc"
