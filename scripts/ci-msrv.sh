#!/usr/bin/env bash
# The declared minimum Rust version: builds the library and the command with the toolchain
# named by `rust-version` in the root Cargo.toml. Run from the repository root
# (`bash scripts/ci-msrv.sh`); CI runs it.
#
# 1. Installs the toolchain if missing (`rustup toolchain install X --profile minimal`).
# 2. With the committed Cargo.lock (`--locked`): `cargo +X build -p npoa` with default
#    features, `--no-default-features`, `--features serde`, `--features defmt`,
#    `--features flash`, and
#    `cargo +X build -p npoa-cli` (the cli declares the same rust-version).
#    Cargo refuses a locked dependency whose own rust-version is newer than X, so a
#    `cargo update` that pins one fails here. The fix: an MSRV-aware resolution
#    (`CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback cargo update`, or
#    `cargo update -p CRATE --precise VERSION`), or a raised rust-version with the reason.
# The builds use target/msrv, so the main toolchain's target/ is left alone.
set -euo pipefail

msrv=$(sed -n 's/^rust-version = "\([0-9.]*\)"/\1/p' Cargo.toml | head -n 1)
if [[ -z "$msrv" ]]; then
    echo "ci-msrv: no rust-version in Cargo.toml" >&2
    exit 1
fi
step() { printf '\n== %s\n' "$*"; }

if ! rustup run "$msrv" rustc --version >/dev/null 2>&1; then
    step "rustup toolchain install $msrv --profile minimal"
    rustup toolchain install "$msrv" --profile minimal
fi
rustup run "$msrv" rustc --version

export CARGO_TARGET_DIR=target/msrv
for features in "" "--no-default-features" "--features serde" "--features defmt" "--features flash"; do
    step "cargo +$msrv build --locked -p npoa $features"
    # shellcheck disable=SC2086 # the feature flags are words
    cargo "+$msrv" build --locked -p npoa $features
done
step "cargo +$msrv build --locked -p npoa-cli"
cargo "+$msrv" build --locked -p npoa-cli

step "msrv: npoa (5 feature sets) and npoa-cli build with Rust $msrv"
