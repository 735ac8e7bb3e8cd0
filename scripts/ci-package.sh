#!/usr/bin/env bash
# The `npoa` library as crates.io would receive it: `cargo publish --dry-run` packages the crate,
# builds the packaged copy on its own (so a file the build needs but `include` leaves out fails
# here) and stops before the upload. Then the packaged file list and the `.crate` size, and a
# check that nothing outside the library's sources, README, licenses and changelog is shipped.
#
# Run from the repository root on a clean clone (no --allow-dirty: a dirty tree is an error, as
# it would be for a real publish). Extra arguments go to both cargo commands (`--allow-dirty`
# for a local run on a work tree).
set -euo pipefail

cd "$(dirname "$0")/.."

# Cargo warns once for each example and test (`ignoring example … as … is not included in the
# published package`): they live in the repository only, and cargo drops them from the
# packaged manifest. Those warnings are expected.
echo "+ cargo publish --dry-run -p npoa $*"
cargo publish --dry-run -p npoa "$@"

# The dry run verifies a package it keeps to itself (target/package/tmp-crate); this writes the
# `.crate` whose size is printed below (already verified above, so without a second build).
echo "+ cargo package --no-verify -p npoa $*"
cargo package --no-verify -p npoa "$@"

echo "+ cargo package --list -p npoa $*"
LIST=$(cargo package --list -p npoa "$@")
echo "$LIST"

# What may ship: cargo's own files, the manifest and lock file, and what `include` names.
UNEXPECTED=$(echo "$LIST" | grep -Ev '^(\.cargo_vcs_info\.json|Cargo\.toml|Cargo\.toml\.orig|Cargo\.lock|README\.md|CHANGELOG\.md|LICENSE-MIT|LICENSE-APACHE|src/.*\.rs)$' || true)
if [[ -n "$UNEXPECTED" ]]; then
    echo "error: the package ships files outside the library's sources, README, licenses and changelog:" >&2
    echo "$UNEXPECTED" >&2
    exit 1
fi
for required in README.md CHANGELOG.md LICENSE-MIT LICENSE-APACHE src/lib.rs; do
    if ! grep -qx "$required" <<<"$LIST"; then
        echo "error: the package misses $required" >&2
        exit 1
    fi
done

# The `.crate`, wherever the target directory is.
CRATE=$(cargo metadata --format-version 1 --no-deps | python3 -c '
import json, sys
m = json.load(sys.stdin)
version = next(p["version"] for p in m["packages"] if p["name"] == "npoa")
print(m["target_directory"] + "/package/npoa-" + version + ".crate")')
FILES=$(echo "$LIST" | wc -l)
BYTES=$(wc -c <"$CRATE")
echo "package: $CRATE: $FILES files, $BYTES bytes (compressed)"
