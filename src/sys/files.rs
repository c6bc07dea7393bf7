//! Files that other processes read while we write them.
//!
//! The agent's state, a watcher's verdict and the node records on the shared disk are read
//! by other processes (a monitor action, the other node's eva-check) at any moment; they
//! must see the old content or the new, never half of it. And a file's problem is said in
//! plain words ([`plain`]), not as `No such file or directory (os error 2)`.

use std::io;
use std::path::Path;

/// Writes `bytes` to a hidden temporary file beside `path`, then renames it over `path`.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path.file_name().ok_or_else(|| io::Error::other(format!("{} names no file", path.display())))?;
    let tmp = path.with_file_name(format!(".{}.tmp", name.to_string_lossy()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// What went wrong with a file, in plain words: `does not exist`, `permission denied`.
pub fn plain(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "does not exist".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        io::ErrorKind::NotADirectory => "a part of the path is not a directory".into(),
        io::ErrorKind::IsADirectory => "is a directory".into(),
        _ => {
            let text = e.to_string();
            let text = text.split(" (os error").next().unwrap_or(&text);
            let mut chars = text.chars();
            chars.next().map_or_else(String::new, |c| c.to_lowercase().chain(chars).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_whole_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        super::write_atomically(&path, b"old").unwrap();
        super::write_atomically(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn problems_in_plain_words() {
        let missing = std::fs::metadata("/nonexistent/x").unwrap_err();
        assert_eq!(super::plain(&missing), "does not exist");
        let other = std::io::Error::from_raw_os_error(36);
        assert_eq!(super::plain(&other), "file name too long");
    }
}
