//! What particular settings allow beyond their type: an absolute path, a non-empty one, a
//! positive duration, systemd unit names. Each returns the problem in words, and the caller
//! adds the key and where the value came from.

// Each check is a `fn(&T)` for its setting's type `T`, hence `&PathBuf` and `&Vec`.
#![allow(clippy::ptr_arg)]

use std::path::PathBuf;
use std::time::Duration;

use super::value::MAX_SECS;

/// Anything the type allows.
pub fn any<T>(_: &T) -> Result<(), String> {
    Ok(())
}

pub fn absolute(path: &PathBuf) -> Result<(), String> {
    if path.is_absolute() { Ok(()) } else { Err(format!("{} is not an absolute path", path.display())) }
}

pub fn absolute_if_set(path: &Option<PathBuf>) -> Result<(), String> {
    path.as_ref().map_or(Ok(()), absolute)
}

pub fn not_empty(path: &PathBuf) -> Result<(), String> {
    if path.as_os_str().is_empty() { Err("is empty".into()) } else { Ok(()) }
}

pub fn positive(d: &Duration) -> Result<(), String> {
    if d.is_zero() { Err(format!("0 is not a number of seconds above 0 up to {MAX_SECS}")) } else { Ok(()) }
}

pub fn positive_if_set(d: &Option<Duration>) -> Result<(), String> {
    d.as_ref().map_or(Ok(()), positive)
}

/// Unit names as systemctl takes them: no empty or duplicate names, nothing that could be
/// read as an option or needs quoting.
pub fn systemd_units(units: &Vec<String>) -> Result<(), String> {
    if units.is_empty() {
        return Err("the list is empty".into());
    }
    for (i, unit) in units.iter().enumerate() {
        let ok_char = |c: char| c.is_ascii_alphanumeric() || ":-_.\\@".contains(c);
        if unit.is_empty() || unit.starts_with('-') || !unit.chars().all(ok_char) {
            return Err(format!("{unit:?} is not a systemd unit name"));
        }
        if units[..i].contains(unit) {
            return Err(format!("{unit} is listed twice"));
        }
    }
    Ok(())
}
