//! The settings written out for people: `eva-ha config`'s effective configuration,
//! `eva-ha.toml.example`, the administrator's guide's configuration table
//! (docs/admin-guide.md). All of it comes from the
//! declarations (`settings.rs`), so none of it can name a key that does not exist or miss
//! one that does; tests compare the committed example and guide with what is made here.

use super::{ALL, AnyKey, CHECK, Config, DEFAULT_FILE, FILE_VARIABLE, Flag, GENW, Names, RESTART, START, STATUS, STOP};

/// The commands that read a setting, as an administrator calls them.
pub fn readers(key: &dyn AnyKey) -> Vec<&'static str> {
    let meta = key.meta();
    let mut names: Vec<&str> = [
        (START, "eva-start"),
        (STOP, "eva-stop"),
        (GENW, "eva-genw"),
        (CHECK, "eva-check"),
        (STATUS, "eva-ha status"),
        (RESTART, "eva-ha restart"),
    ]
    .into_iter()
    .filter(|(bit, _)| meta.read_by & bit != 0)
    .map(|(_, name)| name)
    .collect();
    if meta.ocf.is_some() {
        names.push("eva-master");
    }
    names
}

/// `--install-dir DIR`, `--filter label=K[=V]|container=NAME` (repeatable), `--no-rollback`.
pub fn flag_usage(key: &dyn AnyKey) -> String {
    match key.meta().flag {
        Flag::Value(value) => format!("--{} {value}", key.long_flag()),
        Flag::Repeat { value_name, .. } => format!("--{} {value_name} (repeatable)", key.long_flag()),
        Flag::Negate => format!("--{}", key.long_flag()),
    }
}

impl Config {
    /// The configuration as TOML, each line commented with the value's origin; the token
    /// is not part of it.
    pub fn to_toml(&self) -> String {
        let mut out = format!(
            "# eva-ha effective configuration\n# file: {}\n",
            match &self.file {
                Some(f) => f.display().to_string(),
                None => format!("none ({DEFAULT_FILE} absent)"),
            }
        );
        for (key, value, origin) in self.entries() {
            match value {
                Some(v) => out.push_str(&format!("{} = {v}  # {origin}\n", key.name())),
                None => out.push_str(&format!("# {} is not configured: {}\n", key.name(), key.meta().unset)),
            }
        }
        out
    }
}

/// Words wrapped into comment lines of at most 88 columns.
fn comment(text: &str) -> String {
    let mut out = String::new();
    let mut line = String::from("#");
    for word in text.split_whitespace() {
        if line.len() > 1 && line.len() + 1 + word.len() > 88 {
            out.push_str(&line);
            out.push('\n');
            line = String::from("#");
        }
        line.push(' ');
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
    out
}

/// `eva-ha.toml.example`: every key, documented, at its default (commented out).
pub fn example() -> String {
    let mut out = comment(
        "/etc/eva-ha/eva-ha.toml: configuration of eva-ha (eva-start, eva-stop, eva-genw, eva-check, eva-master). \
         Every key is optional except install_dir; the values shown commented out are the defaults, which are the \
         CLUSTERPRO build guide's. Each key can also be set with an EVA_HA_<KEY> environment variable or, on the \
         commands that read it, a --<key> flag (flags win over variables, which win over this file). \
         `eva-ha config` prints the effective values and their origin. Keep this file identical on both nodes.",
    );
    out.push_str("# (Generated from the declarations in src/config/settings.rs: `eva-ha generate example`.)\n");
    for key in ALL {
        let meta = key.meta();
        out.push('\n');
        if !meta.heading.is_empty() {
            out.push_str(&format!("# --- {} {}\n\n", meta.heading, "-".repeat(80usize.saturating_sub(meta.heading.len()))));
        }
        out.push_str(&comment(&format!("{}. Read by {}.", meta.doc, readers(*key).join(", "))));
        if !meta.note.is_empty() {
            out.push_str(&comment(meta.note));
        }
        match key.default_toml() {
            Some(value) => out.push_str(&format!("#{} = {value}\n", key.name())),
            None => {
                out.push_str(&comment(&format!("Unset: {}.", meta.unset)));
                out.push_str(&format!("#{} = {}\n", key.name(), meta.example));
            }
        }
    }
    out
}

/// The configuration table of the administrator's guide (docs/admin-guide.md, "Configuration").
pub fn config_table() -> String {
    let cell = |text: &str| text.replace('|', "\\|");
    let mut out = String::from("| key | flag | variable | default | read by | meaning |\n|---|---|---|---|---|---|\n");
    for key in ALL {
        let meta = key.meta();
        let default = match key.default_toml() {
            Some(value) => format!("`{value}`"),
            None => format!("none: {}", meta.unset),
        };
        out.push_str(&format!(
            "| `{}` | `{}` | `{}` | {} | {} | {} |\n",
            key.name(),
            cell(&flag_usage(*key)),
            key.variable(),
            cell(&default),
            readers(*key).join(", "),
            cell(meta.doc),
        ));
    }
    out.push_str(&format!(
        "\nThe file: `--config FILE` (`-c`), else `${FILE_VARIABLE}`, else `{DEFAULT_FILE}` when it exists; \
         for eva-master the parameter `config`.\n"
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_example_is_the_generated_one() {
        let committed = include_str!("../../eva-ha.toml.example");
        assert!(
            committed == example(),
            "eva-ha.toml.example differs from the declarations: run `cargo run -- generate example > eva-ha.toml.example`"
        );
    }

    #[test]
    fn the_admin_guide_has_the_generated_table() {
        let guide = include_str!("../../docs/admin-guide.md");
        assert!(
            guide.contains(&config_table()),
            "the configuration table of docs/admin-guide.md (\"Configuration\") differs from the declarations: \
             replace it with `cargo run -- generate config-table`"
        );
    }

    #[test]
    fn comments_wrap_and_keep_every_word() {
        let text = "word ".repeat(50);
        let wrapped = comment(&text);
        assert!(wrapped.lines().all(|l| l.len() <= 88 && l.starts_with('#')));
        assert_eq!(wrapped.split_whitespace().filter(|w| *w == "word").count(), 50);
    }
}
