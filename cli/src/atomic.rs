//! Every file the command writes goes through here: it is written whole or not at all.
//!
//! [`write()`] and [`write_with`] write to a temporary file in the target's directory (named
//! `.NAME.XXXXXX.tmp`, created by the `tempfile` crate with a random, exclusive name), flush
//! it, `fsync` it, rename it over the target (atomic on POSIX file systems: a reader, or the
//! next run after a crash or a `kill -9`, sees the old file or the new one, never a mix or a
//! truncated file), then `fsync` the directory (Unix), so that the rename itself survives a
//! power cut. On any error before the rename (the content could not be produced, the disk is
//! full, the directory does not exist) the target is untouched and the temporary file is
//! removed; the error names the target.
//!
//! Details:
//! - a target that exists keeps its permission bits; a new one gets `0o666` less the umask,
//!   as `std::fs::write` gives;
//! - a target that is a symbolic link is resolved first, so the link keeps pointing at the
//!   file that is replaced;
//! - a target that exists and is not a regular file (`/dev/stdout`, `/dev/null`, a FIFO) is
//!   opened and written in place, as `std::fs::write` does: there is no old content to keep,
//!   and a rename would replace the device node;
//! - a process killed between creating and renaming the temporary file leaves it behind
//!   (nothing can remove it); it is never taken for the target.
//!
//! `tempfile` (already in the workspace's lock file, through `cbindgen`) rather than a
//! hand-written name loop: it creates the file with `O_EXCL` and a random name, retries on a
//! clash, and removes the file on drop; what it does not do (sync the file and the directory,
//! keep the permissions) is done here.

use crate::Res;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically (see the module docs).
///
/// # Errors
/// The temporary file cannot be created, written, synced or renamed, or the directory cannot
/// be synced; the message starts with `path`.
pub fn write(path: impl AsRef<Path>, bytes: impl AsRef<[u8]>) -> Res<()> {
    write_with(path, |w| Ok(w.write_all(bytes.as_ref())?))
}

/// Writes what `fill` writes to `path` atomically (see the module docs). An error of `fill`
/// leaves the target untouched, as one of the file system's does.
///
/// # Errors
/// `fill`'s error, or the file system's; the message starts with `path`.
pub fn write_with(path: impl AsRef<Path>, fill: impl FnOnce(&mut dyn Write) -> Res<()>) -> Res<()> {
    let path = path.as_ref();
    replace(path, fill).map_err(|e| format!("{}: {e}", path.display()).into())
}

fn replace(path: &Path, fill: impl FnOnce(&mut dyn Write) -> Res<()>) -> Res<()> {
    // A path that is not a regular file (`/dev/stdout`, `/dev/null`, a FIFO) is written in
    // place, as `std::fs::write` writes it: renaming over it would replace a device node (as
    // root) or fail (`/proc/self/fd/1` is a pipe), and such a target has no old content to keep.
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        let mut f = std::fs::OpenOptions::new().write(true).open(path)?;
        let mut w = std::io::BufWriter::new(&mut f);
        fill(&mut w)?;
        w.flush()?;
        return Ok(());
    }
    let target = resolve(path)?;
    let name = target
        .file_name()
        .ok_or("not a file name")?
        .to_string_lossy()
        .into_owned();
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    // A new file as `std::fs::write` makes it (0o666 less the umask; tempfile's own default is
    // 0o600); an existing one's bits are copied below, past the umask.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    // Dropped on every early return below: the temporary file is removed.
    let tmp = builder.tempfile_in(&dir)?;
    if let Ok(m) = std::fs::metadata(&target) {
        tmp.as_file().set_permissions(m.permissions())?;
    }
    {
        let mut w = std::io::BufWriter::new(tmp.as_file());
        fill(&mut w)?;
        w.flush()?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(&target).map_err(|e| e.error)?;
    sync_dir(&dir)
}

/// The file a write to `path` replaces: `path`, or the file a symbolic link at `path` points
/// to (followed to the end; a dangling link's target is created).
fn resolve(path: &Path) -> std::io::Result<PathBuf> {
    let mut p = path.to_path_buf();
    // A bound on the chain, as the kernel's (40 on Linux); a loop ends in an error.
    for _ in 0..40 {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = std::fs::read_link(&p)?;
                p = match p.parent() {
                    Some(dir) if to.is_relative() => dir.join(to),
                    _ => to,
                };
            }
            _ => return Ok(p),
        }
    }
    Err(std::io::Error::other("too many levels of symbolic links"))
}

/// Syncs the directory's entry list, so the rename is on disk (Unix; elsewhere a no-op).
fn sync_dir(dir: &Path) -> Res<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| format!("renamed into place, but the directory could not be synced: {e}"))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("npoa-atomic-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// The names in `d`, sorted.
    fn names(d: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn writes_and_replaces_leaving_no_temporary_file() {
        let d = dir("replace");
        let p = d.join("m.npoa");
        write(&p, b"first").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"first");
        write(&p, b"second, longer").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"second, longer");
        write(&p, b"").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"");
        assert_eq!(names(&d), ["m.npoa"]);
        std::fs::remove_dir_all(&d).unwrap();
    }

    /// `/dev/null` stays the device (as root a rename would have replaced it with a regular
    /// file), and a FIFO is written through, not replaced.
    #[cfg(unix)]
    #[test]
    fn special_files_are_written_in_place() {
        use std::os::unix::fs::FileTypeExt as _;
        write("/dev/null", b"discarded").unwrap();
        assert!(
            std::fs::metadata("/dev/null")
                .unwrap()
                .file_type()
                .is_char_device()
        );
        let d = dir("fifo");
        let fifo = d.join("pipe");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            let reader = {
                let fifo = fifo.clone();
                std::thread::spawn(move || std::fs::read(fifo).unwrap())
            };
            write(&fifo, b"through the pipe").unwrap();
            assert_eq!(reader.join().unwrap(), b"through the pipe");
            assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
            assert_eq!(names(&d), ["pipe"]);
        }
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_failing_writer_leaves_the_target_and_no_temporary_file() {
        let d = dir("fail");
        let p = d.join("m.npoa");
        write(&p, b"old").unwrap();
        let e = write_with(&p, |w| {
            w.write_all(&[7; 100_000])?;
            Err("the encoder failed".into())
        })
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("m.npoa") && e.contains("the encoder failed"),
            "{e}"
        );
        assert_eq!(std::fs::read(&p).unwrap(), b"old");
        assert_eq!(names(&d), ["m.npoa"]);
        // Also when nothing existed: nothing is created.
        let q = d.join("new.txt");
        assert!(write_with(&q, |_| Err("no".into())).is_err());
        assert_eq!(names(&d), ["m.npoa"]);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_missing_directory_or_a_directory_target_is_an_error() {
        let d = dir("missing");
        let e = write(d.join("no/such/dir/m.npoa"), b"x")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no/such/dir/m.npoa"), "{e}");
        // A directory in the target's place is not replaced.
        std::fs::create_dir(d.join("sub")).unwrap();
        std::fs::write(d.join("sub/keep"), b"k").unwrap();
        assert!(write(d.join("sub"), b"x").is_err());
        assert_eq!(std::fs::read(d.join("sub/keep")).unwrap(), b"k");
        assert_eq!(names(&d), ["sub"]);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_relative_path_in_the_current_directory_works() {
        // No parent: the temporary file goes to ".". The test binary's working directory is
        // the crate's; write a unique name there and remove it.
        let name = format!("npoa-atomic-relative-{}.tmp-test", std::process::id());
        write(&name, b"here").unwrap();
        assert_eq!(std::fs::read(&name).unwrap(), b"here");
        std::fs::remove_file(&name).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn keeps_permissions_and_follows_symbolic_links() {
        use std::os::unix::fs::PermissionsExt as _;
        let d = dir("links");
        let p = d.join("real.txt");
        write(&p, b"a").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
        std::os::unix::fs::symlink("real.txt", d.join("link.txt")).unwrap();
        write(d.join("link.txt"), b"through the link").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"through the link");
        assert!(
            std::fs::symlink_metadata(d.join("link.txt"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o640
        );
        assert_eq!(names(&d), ["link.txt", "real.txt"]);
        std::fs::remove_dir_all(&d).unwrap();
    }
}
