//! The data directory and its files are private to the user running
//! verify-local: the store holds full phone numbers, the code key makes
//! codes checkable, the message list shows codes. The directory is 0700
//! and every file 0600, created so (not tightened after the fact).
//!
//! A directory that already exists with access for others is refused, not
//! tightened: `--data-dir` may name a directory that is not ours to change
//! (a shared one, `/tmp`), and the message says how to fix it.

use std::fs::{self, DirBuilder, OpenOptions, Permissions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Creates `dir` (and missing parents) as 0700, or checks that an existing
/// one gives no access to group or others.
pub fn private_dir(dir: &Path) -> Result<(), String> {
    match fs::metadata(dir) {
        Ok(meta) if !meta.is_dir() => Err(format!("{}: not a directory", dir.display())),
        Ok(meta) => {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(format!(
                    "data directory {} is open to other users (mode {mode:o}), and it holds phone numbers and \
                     codes: run `chmod 700 {}`, or choose another --data-dir",
                    dir.display(),
                    dir.display()
                ));
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(|e| format!("{}: {e}", dir.display()))
        }
        Err(e) => Err(format!("{}: {e}", dir.display())),
    }
}

/// Makes sure `path` exists as a 0600 file: created so when missing (its
/// contents untouched when present), and an existing one made 0600 (it is
/// ours: it lives in our private directory).
pub fn private_file(path: &Path) -> Result<(), String> {
    OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)
        .and_then(|_| tighten(path))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Makes an existing file 0600; nothing when it does not exist.
pub fn tighten(path: &Path) -> std::io::Result<()> {
    match fs::metadata(path) {
        Ok(meta) if meta.permissions().mode() & 0o077 != 0 => fs::set_permissions(path, Permissions::from_mode(0o600)),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Writes a new 0600 file (fails if it exists).
pub fn write_new_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(contents.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("verify-local-files-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_new_directory_and_file_are_private() {
        let dir = scratch("new");
        let nested = dir.join("a/b");
        private_dir(&nested).unwrap();
        assert_eq!((mode(&dir), mode(&dir.join("a")), mode(&nested)), (0o700, 0o700, 0o700));
        let file = nested.join("verify.db");
        private_file(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
        private_dir(&nested).unwrap();
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_open_directory_is_refused_and_an_open_file_tightened() {
        let dir = scratch("open");
        fs::create_dir_all(&dir).unwrap();
        fs::set_permissions(&dir, Permissions::from_mode(0o755)).unwrap();
        let e = private_dir(&dir).unwrap_err();
        assert!(e.contains("chmod 700") && e.contains("755"), "{e}");
        fs::set_permissions(&dir, Permissions::from_mode(0o700)).unwrap();
        let file = dir.join("verify.db");
        fs::write(&file, b"kept").unwrap();
        fs::set_permissions(&file, Permissions::from_mode(0o644)).unwrap();
        private_file(&file).unwrap();
        assert_eq!((mode(&file), fs::read(&file).unwrap()), (0o600, b"kept".to_vec()));
        fs::remove_dir_all(&dir).unwrap();
    }
}
