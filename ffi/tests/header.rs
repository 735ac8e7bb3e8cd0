//! The committed header is what cbindgen makes of `src/lib.rs` now.
//!
//! `NPOA_FFI_BLESS=1 cargo test -p npoa-ffi --test header` writes it instead of comparing.

use std::path::Path;

#[test]
fn committed_header_is_up_to_date() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(dir.join("src/lib.rs"))
        .generate()
        .expect("cbindgen parses src/lib.rs");
    let mut fresh = Vec::new();
    bindings.write(&mut fresh);
    let fresh = String::from_utf8(fresh).expect("UTF-8 header");
    let path = dir.join("include/npoa.h");
    if std::env::var_os("NPOA_FFI_BLESS").is_some() {
        std::fs::write(&path, &fresh).expect("write include/npoa.h");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "include/npoa.h is stale: regenerate it with \
         `NPOA_FFI_BLESS=1 cargo test -p npoa-ffi --test header` and commit it"
    );
    // Every exported function is declared (a wrapper cbindgen skipped would not be).
    let src = std::fs::read_to_string(dir.join("src/lib.rs")).expect("src/lib.rs");
    let mut count = 0;
    for line in src.lines() {
        let line = line.trim_start();
        let name = line
            .strip_prefix("pub unsafe extern \"C\" fn ")
            .or_else(|| line.strip_prefix("pub extern \"C\" fn "));
        if let Some(rest) = name {
            let name = rest.split('(').next().unwrap_or_default();
            assert!(
                fresh.contains(&format!("{name}(")),
                "{name} missing from the header"
            );
            count += 1;
        }
    }
    assert_eq!(
        count,
        4 * 13 + 5,
        "the exported functions: 13 per D and 5 shared"
    );
}
