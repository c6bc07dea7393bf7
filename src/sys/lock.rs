//! One run at a time: an exclusive `flock` on the lock file.
//!
//! An administrator's manual `eva-stop` must not interleave with the cluster's start. The
//! lock is taken with a bounded wait; the holder writes its pid and command into the file so
//! that a waiter can say who holds it. The file is never removed (removing a lock file
//! races with the next taker); the kernel drops the lock when we exit, however we exit, and
//! the descriptor is close-on-exec, so the daemons a master script leaves running never
//! inherit it.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

use crate::error::failed;
use crate::sys::logging::Secs;
use crate::sys::signals;

/// A held lock; dropping it releases the lock.
pub struct Lock {
    _file: Flock<File>,
}

/// Takes the lock at `path`, waiting at most `wait`.
pub fn acquire(path: &Path, wait: Duration, holder: &str) -> anyhow::Result<Lock> {
    let shown = path.display();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create the directory of lock file {shown}"))?;
    }
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o644)
        .open(path)
        .with_context(|| format!("cannot open lock file {shown}"))?;
    let started = Instant::now();
    let mut said = false;
    loop {
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(mut locked) => {
                let note = format!("pid {} ({holder})\n", std::process::id());
                let _ = locked.set_len(0).and_then(|_| locked.rewind()).and_then(|_| locked.write_all(note.as_bytes()));
                if said {
                    tracing::info!(elapsed = %Secs(started.elapsed()), "lock {shown} acquired");
                }
                return Ok(Lock { _file: locked });
            }
            Err((f, Errno::EWOULDBLOCK)) => file = f,
            Err((_, e)) => return Err(failed(format!("cannot lock {shown}: {e}"))),
        }
        let owner = holder_of(&mut file);
        if started.elapsed() >= wait {
            return Err(failed(format!(
                "lock {shown} is still held by {owner} after {}: another eva-ha run is in progress",
                Secs(wait)
            )));
        }
        if !said {
            tracing::info!("waiting up to {} for lock {shown}, held by {owner}", Secs(wait));
            said = true;
        }
        signals::sleep(Duration::from_millis(50))?;
    }
}

/// Who holds the lock at `path` now (`pid 4242 (eva-start)`), or `None` when nobody does.
pub fn holder(path: &Path) -> std::io::Result<Option<String>> {
    let mut file = match OpenOptions::new().read(true).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let held = match Flock::lock(file.try_clone()?, FlockArg::LockSharedNonblock) {
        Ok(_free) => false,
        Err((_, Errno::EWOULDBLOCK)) => true,
        Err((_, e)) => return Err(e.into()),
    };
    Ok(held.then(|| holder_of(&mut file)))
}

fn holder_of(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file.rewind().and_then(|_| file.take(200).read_to_string(&mut text));
    match text.trim() {
        "" => "another process".to_owned(),
        t => t.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_taker_times_out_naming_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/eva-ha.lock");
        let first = acquire(&path, Duration::from_secs(1), "eva-start").unwrap();
        let started = Instant::now();
        let err = acquire(&path, Duration::from_millis(200), "eva-stop").err().unwrap().to_string();
        assert!(started.elapsed() >= Duration::from_millis(200));
        assert!(err.contains(&format!("pid {} (eva-start)", std::process::id())), "{err}");
        assert_eq!(holder(&path).unwrap(), Some(format!("pid {} (eva-start)", std::process::id())));
        drop(first);
        assert_eq!(holder(&path).unwrap(), None);
        acquire(&path, Duration::from_millis(200), "eva-stop").unwrap();
        assert_eq!(holder(&dir.path().join("none.lock")).unwrap(), None);
    }
}
