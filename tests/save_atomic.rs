//! `DynLinearModel::save` / `DynClassifier::save` replace the file atomically: the new bytes
//! or, when the write fails, the old file untouched; no temporary file is left either way.
//! (Unix hosts; the WASI runs have no writable folder.)
#![cfg(all(feature = "std", unix))]

use npoa::{DynClassifier, DynLinearModel, DynModel};
use std::path::{Path, PathBuf};

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("npoa-save-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn names(d: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn save_replaces_whole_and_leaves_no_temporary_file() {
    let d = dir("replace");
    let p = d.join("m.npoa");
    let small = DynLinearModel::zeros(2).unwrap();
    let big = DynClassifier::zeros(40, 3).unwrap();
    small.save(&p).unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), small.to_bytes());
    big.save(&p).unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), big.to_bytes());
    assert_eq!(DynModel::load(&p).unwrap().to_bytes(), big.to_bytes());
    small.save(&p).unwrap();
    assert_eq!(
        DynLinearModel::load(&p).unwrap().to_bytes(),
        small.to_bytes()
    );
    assert_eq!(names(&d), ["m.npoa"]);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_failed_save_leaves_the_old_file() {
    let d = dir("fail");
    let m = DynLinearModel::zeros(3).unwrap();
    // A directory where the file should go: the rename fails, the directory and its content
    // stay, and the temporary file is removed.
    std::fs::create_dir(d.join("m.npoa")).unwrap();
    std::fs::write(d.join("m.npoa/keep"), b"k").unwrap();
    assert!(m.save(d.join("m.npoa")).is_err());
    assert_eq!(std::fs::read(d.join("m.npoa/keep")).unwrap(), b"k");
    // A folder that does not exist: an error, nothing created.
    assert!(m.save(d.join("no/such/m.npoa")).is_err());
    assert_eq!(names(&d), ["m.npoa"]);
    std::fs::remove_dir_all(&d).unwrap();
}

/// A replaced model keeps its permission bits (a `0o600` model stays private), and
/// `/dev/null` stays a device (a rename over it, as root, would replace it with a file).
#[test]
fn save_keeps_permissions_and_writes_devices_in_place() {
    use std::os::unix::fs::{FileTypeExt as _, PermissionsExt as _};
    let d = dir("perm");
    let p = d.join("m.npoa");
    let m = DynLinearModel::zeros(2).unwrap();
    m.save(&p).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    m.save(&p).unwrap();
    let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    m.save("/dev/null").unwrap();
    assert!(
        std::fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device()
    );
    assert_eq!(names(&d), ["m.npoa"]);
    std::fs::remove_dir_all(&d).unwrap();
}
