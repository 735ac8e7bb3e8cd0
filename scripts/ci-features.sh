#!/usr/bin/env bash
# The library's optional `serde`, `defmt` and `flash` features: run from the repository root
# (`bash scripts/ci-features.sh`); CI runs it.
#
# 1. Installs what is missing: the thumbv7em-none-eabihf target and clippy (rustup).
# 2. `serde`: builds on the host (default features) and no_std on thumbv7em-none-eabihf
#    (`--no-default-features --features serde,losses,optimizers`), clippy -D warnings on both.
# 3. `defmt`: builds no_std on thumbv7em-none-eabihf (no default features; nothing is linked,
#    so no defmt logger is needed) and checks on the host, clippy -D warnings on both.
# 4. `flash` (the NOR flash checkpoint store): builds no_std on thumbv7em-none-eabihf (no
#    default features) and on the host, clippy -D warnings on both, rustdoc -Dwarnings. Its tests
#    (tests/flash_store.rs) run in every `cargo test`: the library's dev-dependency on itself
#    turns the feature on.
# 5. Runs the serde tests (cli/tests/serde_formats.rs, through serde_json: bit-exact round
#    trips, every refusal) and clippy on them.
set -euo pipefail

step() { printf '\n== %s\n' "$*"; }

thumb=thumbv7em-none-eabihf
if ! rustup target list --installed | grep -qx "$thumb"; then
    step "rustup target add $thumb"
    rustup target add "$thumb"
fi
if ! cargo clippy --version >/dev/null 2>&1; then
    step "rustup component add clippy"
    rustup component add clippy
fi

nostd_serde=(--no-default-features --features serde,losses,optimizers --target "$thumb")
nostd_defmt=(--no-default-features --features defmt --target "$thumb")
nostd_flash=(--no-default-features --features flash --target "$thumb")

step "serde, host: cargo build -p npoa --features serde"
cargo build -p npoa --features serde
step "serde, no_std: cargo build -p npoa ${nostd_serde[*]}"
cargo build -p npoa "${nostd_serde[@]}"
step "serde: clippy -D warnings (host with every feature, and no_std)"
cargo clippy -p npoa --features serde,defmt --lib -- -D warnings
cargo clippy -p npoa "${nostd_serde[@]}" -- -D warnings

step "defmt, no_std: cargo build -p npoa ${nostd_defmt[*]}"
cargo build -p npoa "${nostd_defmt[@]}"
step "defmt, host: cargo check -p npoa --features defmt"
cargo check -p npoa --features defmt
step "defmt: clippy -D warnings (no_std; the host run is above)"
cargo clippy -p npoa "${nostd_defmt[@]}" -- -D warnings

step "flash, no_std: cargo build -p npoa ${nostd_flash[*]}"
cargo build -p npoa "${nostd_flash[@]}"
step "flash, host: cargo build -p npoa --features flash"
cargo build -p npoa --features flash
step "flash: clippy -D warnings (no_std and host)"
cargo clippy -p npoa "${nostd_flash[@]}" -- -D warnings
cargo clippy -p npoa --features flash --lib -- -D warnings
step "flash: rustdoc -Dwarnings (the store's docs: not in the default feature set)"
RUSTDOCFLAGS=-Dwarnings cargo doc -p npoa --no-deps --features flash

step "serde tests: cargo test -p npoa-cli --test serde_formats"
cargo clippy -p npoa-cli --test serde_formats -- -D warnings
cargo test -p npoa-cli --test serde_formats

step "features: serde, defmt and flash build on the host and no_std, clippy clean, serde tests passed"
