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

pub fn not_empty_string(text: &String) -> Result<(), String> {
    if text.trim().is_empty() { Err("must not be empty".into()) } else { Ok(()) }
}

pub fn positive(d: &Duration) -> Result<(), String> {
    if d.is_zero() { Err(format!("0 is not a number of seconds above 0 up to {MAX_SECS}")) } else { Ok(()) }
}

pub fn positive_if_set(d: &Option<Duration>) -> Result<(), String> {
    d.as_ref().map_or(Ok(()), positive)
}

/// Unit names as systemctl takes them: no empty or duplicate names, nothing that could be
/// read as an option or needs quoting; and services only (`docker`, `mongod.service`):
/// eva-ha reads `Result` and `TimeoutStartUSec` of each, which only services have, and
/// systemd 219 fails a `systemctl show` that names a property the unit lacks
/// (`sys::systemd::SHOW_PROPERTIES`).
pub fn systemd_units(units: &Vec<String>) -> Result<(), String> {
    if units.is_empty() {
        return Err("the list is empty".into());
    }
    for (i, unit) in units.iter().enumerate() {
        let ok_char = |c: char| c.is_ascii_alphanumeric() || ":-_.\\@".contains(c);
        if unit.is_empty() || unit.starts_with('-') || !unit.chars().all(ok_char) {
            return Err(format!("{unit:?} is not a systemd unit name"));
        }
        let kind = crate::sys::systemd::unit_type(unit);
        if kind != "service" {
            return Err(format!("{unit} is a .{kind} unit: only services are started and stopped (name.service or name)"));
        }
        if units[..i].contains(unit) {
            return Err(format!("{unit} is listed twice"));
        }
    }
    Ok(())
}
