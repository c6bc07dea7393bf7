//! The validated configuration, and where each value came from.
//!
//! Layers, lowest first: the guide's defaults, a TOML file, `EVA_HA_*` environment
//! variables, then what the front end was given (command-line flags, or the Pacemaker
//! agent's OCF parameters). The file is `--config`, else `$EVA_HA_CONFIG`, else
//! `/etc/eva-ha/eva-ha.toml` when it exists; a file that was named explicitly must exist. An
//! unknown key, a wrong type or an impossible value is an error naming the key and its
//! source (`file:line`, the variable, the flag or the parameter).
//!
//! Each setting is declared once, in `settings.rs`; the [`declare_settings!`] macro makes the
//! [`Config`] struct (one typed [`Setting`] per key, carrying its value and its
//! [`Origin`]) and the table [`ALL`] of every key's declaration, from which `render.rs`
//! writes `eva-ha config`'s output, the example file, the guide's table and the OCF
//! parameters, and `front::cli` makes the flags.

mod check;
pub mod render;
mod settings;
pub mod value;

use std::ffi::OsString;
use std::fmt;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::not_configured;
pub use settings::{ALL, Config};
use value::Value;

pub const DEFAULT_FILE: &str = "/etc/eva-ha/eva-ha.toml";
/// The variable naming the file.
pub const FILE_VARIABLE: &str = "EVA_HA_CONFIG";

/// The commands that read settings, as bits of [`Meta::read_by`]. `eva-ha config` reads them
/// all; the Pacemaker agent reads those that are OCF parameters.
pub const START: u8 = 1;
pub const STOP: u8 = 2;
pub const GENW: u8 = 4;
pub const CHECK: u8 = 8;
pub const STATUS: u8 = 16;
pub const RESTART: u8 = 32;
pub const EVERY: u8 = START | STOP | GENW | CHECK | STATUS | RESTART;

/// How a setting is given on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flag {
    /// `--<key-with-dashes> VALUE`; the text is the value's name in `--help`.
    Value(&'static str),
    /// `--<long> VALUE`, once per item.
    Repeat { long: &'static str, value_name: &'static str },
    /// `--no-<key>`: sets a boolean that is true by default to false.
    Negate,
}

/// What documents a setting and says who reads it.
#[derive(Clone, Copy, Debug)]
pub struct Meta {
    /// One line: `--help`, the guide's table, the example file, the OCF long description.
    pub doc: &'static str,
    /// More for the example file.
    pub note: &'static str,
    /// A section of the example file that starts with this setting.
    pub heading: &'static str,
    pub flag: Flag,
    /// The commands that read it ([`START`] | [`STOP`] …).
    pub read_by: u8,
    /// An OCF parameter of the same name, with this short description.
    pub ocf: Option<&'static str>,
    /// For a setting without a default: what that means, and a value for the example file
    /// (TOML).
    pub unset: &'static str,
    pub example: &'static str,
}

impl Meta {
    pub const NONE: Meta =
        Meta { doc: "", note: "", heading: "", flag: Flag::Value("VALUE"), read_by: 0, ocf: None, unset: "", example: "" };
}

/// One setting's declaration.
pub struct Key<T: Value> {
    pub name: &'static str,
    pub default: fn() -> T,
    pub check: fn(&T) -> Result<(), String>,
    pub meta: Meta,
}

/// A declaration, whatever its type: what the renderers and the flags need.
pub trait AnyKey: Sync {
    fn name(&self) -> &'static str;
    fn meta(&self) -> &Meta;
    /// The default as the file has it; `None` when there is none.
    fn default_toml(&self) -> Option<toml::Value>;
    /// The default as a flag or an OCF parameter takes it; empty when there is none.
    fn default_text(&self) -> String;
    /// Checks the text of one occurrence of the setting's flag, so that a malformed one is a
    /// usage error.
    fn check_flag(&self, text: &str) -> Result<(), String>;
}

impl<T: Value> AnyKey for Key<T> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn meta(&self) -> &Meta {
        &self.meta
    }

    fn default_toml(&self) -> Option<toml::Value> {
        (self.default)().to_toml()
    }

    fn default_text(&self) -> String {
        (self.default)().to_items().join(" ")
    }

    fn check_flag(&self, text: &str) -> Result<(), String> {
        let value = match self.meta.flag {
            Flag::Repeat { .. } => T::from_items(&[text.to_owned()]),
            _ => T::from_text(text),
        }?;
        (self.check)(&value)
    }
}

/// The names a setting goes by.
pub trait Names {
    /// `EVA_HA_INSTALL_DIR`
    fn variable(&self) -> String;
    /// `install-dir`, `filter`, `no-rollback`
    fn long_flag(&self) -> String;
}

impl<K: AnyKey + ?Sized> Names for K {
    fn variable(&self) -> String {
        format!("EVA_HA_{}", self.name().to_ascii_uppercase())
    }

    fn long_flag(&self) -> String {
        match self.meta().flag {
            Flag::Value(_) => self.name().replace('_', "-"),
            Flag::Repeat { long, .. } => long.to_owned(),
            Flag::Negate => format!("no-{}", self.name().replace('_', "-")),
        }
    }
}

/// Where a value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    Default,
    File {
        path: PathBuf,
        line: usize,
    },
    Env(String),
    /// `--install-dir`
    Flag(String),
    /// `OCF_RESKEY_install_dir`
    Ocf(String),
}

impl Origin {
    /// For errors: the file with its line.
    pub fn at(&self) -> String {
        match self {
            Origin::File { path, line } => format!("file {}:{line}", path.display()),
            other => other.to_string(),
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("default"),
            Origin::File { path, .. } => write!(f, "file {}", path.display()),
            Origin::Env(v) => write!(f, "environment {v}"),
            Origin::Flag(n) => write!(f, "flag --{n}"),
            Origin::Ocf(v) => write!(f, "parameter {v}"),
        }
    }
}

/// A setting's value and where it came from.
#[derive(Clone, Debug)]
pub struct Setting<T> {
    pub value: T,
    pub origin: Origin,
}

impl<T> Deref for Setting<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: AsRef<Path>> AsRef<Path> for Setting<T> {
    fn as_ref(&self) -> &Path {
        self.value.as_ref()
    }
}

impl<T: Value> Setting<T> {
    /// The flags that give this value to a command that reads it (`--filter=a`, `--filter=b`).
    fn flags(&self, key: &Key<T>) -> Vec<String> {
        let long = key.long_flag();
        match key.meta.flag {
            Flag::Negate => match self.value.to_items().first().map(String::as_str) {
                Some("false") => vec![format!("--{long}")],
                _ => Vec::new(),
            },
            _ => self.value.to_items().into_iter().map(|item| format!("--{long}={item}")).collect(),
        }
    }
}

/// What a front end was given for one setting: a flag's text (one per occurrence) or an
/// OCF parameter's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Given {
    pub key: &'static str,
    pub items: Vec<String>,
    pub origin: Origin,
}

/// The front end's share of the configuration: the file it names, and the values it was
/// given, which override the file and the environment.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// `--config` or `OCF_RESKEY_config`.
    pub file: Option<PathBuf>,
    pub given: Vec<Given>,
}

/// A line's key and value in the file, with where they are.
struct Entry {
    key: String,
    key_at: (usize, usize),
    value: toml::Value,
    value_at: (usize, usize),
}

/// The file, read and split into its entries.
struct File {
    path: PathBuf,
    entries: Vec<Entry>,
}

/// Everything a value can come from.
struct Sources<'a> {
    file: Option<File>,
    env: &'a dyn Fn(&str) -> Option<OsString>,
    overrides: &'a Overrides,
}

impl Sources<'_> {
    fn resolve<T: Value>(&self, key: &Key<T>) -> anyhow::Result<Setting<T>> {
        let (value, origin) = if let Some(given) = self.overrides.given.iter().rev().find(|g| g.key == key.name) {
            let value = match key.meta.flag {
                Flag::Repeat { .. } if matches!(given.origin, Origin::Flag(_)) => T::from_items(&given.items),
                _ => T::from_text(&given.items.join(",")),
            };
            let value = value.map_err(|p| not_configured(format!("{} ({}): {p}", key.name, given.origin)))?;
            (value, given.origin.clone())
        } else if let Some(text) = self.variable(key)? {
            let origin = Origin::Env(key.variable());
            let value = T::from_text(&text).map_err(|p| not_configured(format!("{} ({origin}): {p}", key.name)))?;
            (value, origin)
        } else if let Some((file, entry)) =
            self.file.as_ref().and_then(|f| Some((f, f.entries.iter().find(|e| e.key == key.name)?)))
        {
            let value = T::from_toml(&entry.value).map_err(|p| {
                let (line, col) = entry.value_at;
                not_configured(format!("configuration file {}:{line}:{col}: {}: {p}", file.path.display(), key.name))
            })?;
            (value, Origin::File { path: file.path.clone(), line: entry.key_at.0 })
        } else {
            ((key.default)(), Origin::Default)
        };
        (key.check)(&value).map_err(|p| not_configured(format!("{} ({}): {p}", key.name, origin.at())))?;
        Ok(Setting { value, origin })
    }

    /// The key's variable, when set and not empty.
    fn variable<T: Value>(&self, key: &Key<T>) -> anyhow::Result<Option<String>> {
        let name = key.variable();
        match (self.env)(&name) {
            None => Ok(None),
            Some(v) if v.is_empty() => Ok(None),
            Some(v) => v
                .into_string()
                .map(Some)
                .map_err(|_| not_configured(format!("{} (environment {name}): not valid UTF-8", key.name))),
        }
    }
}

/// Declares the settings: the [`Config`] struct with one [`Setting`] per key, and [`ALL`].
/// Used once, in `settings.rs`.
macro_rules! declare_settings {
    ($($key:ident : $ty:ty = $default:expr, check $check:path, $meta:expr;)*) => {
        /// The configuration every command shares: one typed setting per key, with its origin.
        #[derive(Clone, Debug)]
        pub struct Config {
            /// The file that was read, if any.
            pub file: Option<std::path::PathBuf>,
            $(pub $key: super::Setting<$ty>,)*
        }

        /// The declarations, one static per key.
        #[allow(non_upper_case_globals)]
        pub(super) mod keys {
            use super::*;
            $(pub static $key: super::super::Key<$ty> = super::super::Key {
                name: stringify!($key),
                default: || $default,
                check: $check,
                meta: $meta,
            };)*
        }

        /// Every setting's declaration, in the order of the documentation.
        pub static ALL: &[&dyn super::AnyKey] = &[$(&keys::$key),*];

        impl Config {
            pub(super) fn resolve(file: Option<std::path::PathBuf>, sources: &super::Sources<'_>) -> anyhow::Result<Config> {
                Ok(Config { file, $($key: sources.resolve(&keys::$key)?,)* })
            }

            /// Each setting's declaration, value as the file has it, and origin.
            pub fn entries(&self) -> Vec<(&'static dyn super::AnyKey, Option<toml::Value>, &super::Origin)> {
                use super::value::Value;
                vec![$((&keys::$key as &dyn super::AnyKey, self.$key.value.to_toml(), &self.$key.origin)),*]
            }

            /// The flags that hand the settings that `reader` reads to another run of
            /// ours, as resolved here.
            pub fn flags_for(&self, reader: u8) -> Vec<String> {
                let mut flags = Vec::new();
                $(if keys::$key.meta.read_by & reader != 0 {
                    flags.extend(self.$key.flags(&keys::$key));
                })*
                flags
            }
        }
    };
}
use declare_settings;

impl Config {
    /// Loads the configuration from the real environment.
    pub fn load(overrides: &Overrides) -> anyhow::Result<Config> {
        Config::load_with(overrides, &|name| std::env::var_os(name))
    }

    /// Loads the configuration with `env` standing for the environment.
    pub fn load_with(overrides: &Overrides, env: &dyn Fn(&str) -> Option<OsString>) -> anyhow::Result<Config> {
        let file = read_file(overrides, env)?;
        let path = file.as_ref().map(|f| f.path.clone());
        Config::resolve(path, &Sources { file, env, overrides })
    }

    /// EVA's install directory; an error when nobody configured it.
    pub fn install_dir(&self) -> anyhow::Result<&Path> {
        self.install_dir.value.as_deref().ok_or_else(|| {
            not_configured(format!(
                "install_dir is not configured: set install_dir in {}, {} or --install-dir",
                self.file.as_deref().unwrap_or(Path::new(DEFAULT_FILE)).display(),
                settings::keys::install_dir.variable(),
            ))
        })
    }

    /// How long the engine may stay unreachable; `None`: forever.
    pub fn daemon_grace(&self) -> Option<Duration> {
        Some(self.daemon_grace.value).filter(|g| !g.is_zero())
    }
}

fn read_file(overrides: &Overrides, env: &dyn Fn(&str) -> Option<OsString>) -> anyhow::Result<Option<File>> {
    let (path, explicit, named_by) = match (&overrides.file, env(FILE_VARIABLE).filter(|v| !v.is_empty())) {
        (Some(p), _) => (p.clone(), true, "given with --config or the OCF parameter config"),
        (None, Some(p)) => (PathBuf::from(p), true, "from $EVA_HA_CONFIG"),
        (None, None) => (PathBuf::from(DEFAULT_FILE), false, "the default"),
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => return Ok(None),
        Err(e) => {
            let problem = crate::sys::files::plain(&e);
            return Err(not_configured(format!("configuration file {} ({named_by}) {problem}", path.display())));
        }
    };
    let at = |offset: usize| line_col(&text, offset);
    let error = |(line, col): (usize, usize), message: &str| {
        not_configured(format!("configuration file {}:{line}:{col}: {message}", path.display()))
    };
    type Spanned<T> = toml::Spanned<T>;
    let table: std::collections::BTreeMap<Spanned<String>, Spanned<toml::Value>> = toml::from_str(&text).map_err(|e| {
        let message = e.message().trim().to_owned();
        match e.span() {
            Some(span) => error(at(span.start), &message),
            None => not_configured(format!("configuration file {}: {message}", path.display())),
        }
    })?;
    let mut entries: Vec<Entry> = table
        .into_iter()
        .map(|(k, v)| Entry {
            key_at: at(k.span().start),
            value_at: at(v.span().start),
            key: k.into_inner(),
            value: v.into_inner(),
        })
        .collect();
    entries.sort_by_key(|e| e.key_at);
    if let Some(unknown) = entries.iter().find(|e| !ALL.iter().any(|k| k.name() == e.key)) {
        let hint = match ALL.iter().map(|k| k.name()).min_by_key(|k| distance(k, &unknown.key)) {
            Some(near) if distance(near, &unknown.key) <= 2 => format!(" (did you mean `{near}`?)"),
            _ => " (eva-ha.toml.example lists the keys)".to_owned(),
        };
        return Err(error(unknown.key_at, &format!("unknown field `{}`{hint}", unknown.key)));
    }
    Ok(Some(File { path, entries }))
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rfind('\n').map_or(before.len(), |nl| before.len() - nl - 1) + 1;
    (line, col)
}

/// The edit distance between two short names (for "did you mean").
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let here = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(here + 1);
            prev = here;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests;
