//! The configuration's layers, errors and example, as the commands see them.

use super::*;
use crate::error::exit_status;
use crate::ha::token::TokenFormat;
use std::collections::HashMap;

fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
    let map: HashMap<String, OsString> = vars.iter().map(|(k, v)| (k.to_string(), v.into())).collect();
    move |name| map.get(name).cloned()
}

fn file(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("eva-ha.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

fn flags_with(path: &Path) -> Overrides {
    Overrides { file: Some(path.to_owned()), given: Vec::new() }
}

fn flag(key: &'static str, value: &str) -> Given {
    Given { key, items: vec![value.to_owned()], origin: Origin::Flag(key.replace('_', "-")) }
}

#[test]
fn defaults_are_the_guides() {
    let (_d, path) = file("");
    let c = Config::load_with(&flags_with(&path), &env(&[])).unwrap();
    assert_eq!(c.worker_config.value, Path::new("/opt/pulse/worker/config/configuration.json"));
    assert_eq!(c.units.value, ["docker", "mongod.service", "postgresql-9.5.service"]);
    assert_eq!(c.start_script.value, Path::new("start-master-rhel.sh"));
    assert_eq!(c.stop_script.value, Path::new("stop-master.sh"));
    assert_eq!(c.token_format.value, TokenFormat::Json);
    assert_eq!(c.script_timeout.value, Duration::from_secs(1440));
    assert_eq!(c.unit_timeout.value, None, "the units' own");
    assert!(c.rollback.value);
    assert_eq!(c.units.origin, Origin::Default);
    let e = c.install_dir().unwrap_err();
    assert_eq!(exit_status(&e), 6);
    assert!(e.to_string().starts_with("install_dir is not configured"), "{e}");
}

#[test]
fn precedence_file_env_flag() {
    let (_d, path) = file("install_dir = \"/file\"\nunits = [\"a\", \"b\"]\nscript_timeout = 10\nunit_timeout = 2.5\n");
    let e = env(&[("EVA_HA_INSTALL_DIR", "/env"), ("EVA_HA_SCRIPT_TIMEOUT", "20")]);
    let mut flags = flags_with(&path);
    let c = Config::load_with(&flags, &e).unwrap();
    assert_eq!(c.install_dir().unwrap(), Path::new("/env"));
    assert_eq!(c.units.value, ["a", "b"]);
    assert_eq!(c.script_timeout.value, Duration::from_secs(20));
    assert_eq!(c.unit_timeout.value, Some(Duration::from_millis(2500)));
    assert_eq!(c.units.origin, Origin::File { path: path.clone(), line: 2 });
    assert_eq!(c.install_dir.origin, Origin::Env("EVA_HA_INSTALL_DIR".into()));

    flags.given.push(flag("install_dir", "/flag"));
    flags.given.push(flag("script_timeout", "30"));
    let c = Config::load_with(&flags, &e).unwrap();
    assert_eq!(c.install_dir().unwrap(), Path::new("/flag"));
    assert_eq!(c.script_timeout.value, Duration::from_secs(30));
    assert_eq!(c.install_dir.origin, Origin::Flag("install-dir".into()));
}

#[test]
fn config_file_from_environment_and_default_absent() {
    let (_d, path) = file("install_dir = \"/from-env-file\"\n");
    let c = Config::load_with(&Overrides::default(), &env(&[("EVA_HA_CONFIG", path.to_str().unwrap())])).unwrap();
    assert_eq!(c.install_dir().unwrap(), Path::new("/from-env-file"));
    assert_eq!(c.file.as_deref(), Some(path.as_path()));
}

#[test]
fn explicit_file_must_exist() {
    let e = Config::load_with(&flags_with(Path::new("/nonexistent/eva.toml")), &env(&[])).unwrap_err();
    assert_eq!(exit_status(&e), 6);
    assert!(e.to_string().contains("/nonexistent/eva.toml"), "{e}");
}

#[test]
fn unknown_key_names_key_file_and_line() {
    let (_d, path) = file("install_dir = \"/opt/eva\"\ninstal_dir = \"/typo\"\n");
    let e = Config::load_with(&flags_with(&path), &env(&[])).unwrap_err();
    let msg = e.to_string();
    assert_eq!(exit_status(&e), 6);
    assert!(msg.contains(&format!("{}:2:1", path.display())), "{msg}");
    assert!(msg.contains("instal_dir"), "{msg}");
    assert!(!msg.contains('\n'), "one line: {msg}");
}

#[test]
fn wrong_type_and_bad_values_name_the_key() {
    for (text, want) in [
        ("units = \"docker\"\n", ":1:9: units: invalid type: string \"docker\", expected a list"),
        ("script_timeout = \"soon\"\n", ":1:18: script_timeout: invalid type: string \"soon\", expected a number of seconds"),
        ("token_format = \"yaml\"\n", ":1:16: token_format: unknown variant `yaml`, expected `json` or `raw`"),
        ("rollback = 1\n", ":1:12: rollback: invalid type: integer `1`, expected a boolean"),
    ] {
        let (_d, path) = file(text);
        let e = Config::load_with(&flags_with(&path), &env(&[])).unwrap_err();
        assert_eq!(exit_status(&e), 6);
        assert_eq!(e.to_string(), format!("configuration file {}{want}", path.display()));
    }
    for (text, want) in [
        ("script_timeout = 0\n", "script_timeout (file "),
        ("units = []\n", "units (file "),
        ("units = [\"docker\", \"docker\"]\n", "docker is listed twice"),
        ("units = [\"--force\"]\n", "\"--force\" is not a systemd unit name"),
        ("units = [\"docker\", \"multi-user.target\"]\n", "multi-user.target is a .target unit: only services"),
        ("install_dir = \"relative/dir\"\n", "relative/dir is not an absolute path"),
    ] {
        let (_d, path) = file(text);
        let e = Config::load_with(&flags_with(&path), &env(&[])).unwrap_err();
        assert_eq!(exit_status(&e), 6);
        assert!(e.to_string().contains(want), "{text}: {e}");
    }
}

#[test]
fn bad_environment_names_the_variable() {
    let (_d, path) = file("");
    for (var, value) in [
        ("EVA_HA_SCRIPT_TIMEOUT", "soon"),
        ("EVA_HA_TOKEN_FORMAT", "yaml"),
        ("EVA_HA_ROLLBACK", "maybe"),
        ("EVA_HA_UNIT_TIMEOUT", "-3"),
    ] {
        let e = Config::load_with(&flags_with(&path), &env(&[(var, value)])).unwrap_err();
        assert_eq!(exit_status(&e), 6);
        assert!(e.to_string().contains(var), "{var}: {e}");
    }
}

#[test]
fn units_from_environment_split_on_commas_and_spaces() {
    let (_d, path) = file("");
    let c = Config::load_with(&flags_with(&path), &env(&[("EVA_HA_UNITS", "a.service, b.service c")])).unwrap();
    assert_eq!(c.units.value, ["a.service", "b.service", "c"]);
}

#[test]
fn example_file_uncommented_is_valid_and_gives_the_defaults() {
    let example = include_str!("../../eva-ha.toml.example");
    let settings: String = example
        .lines()
        .filter_map(|l| l.strip_prefix('#'))
        .filter(|l| l.contains(" = ") && !l.starts_with(' '))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(settings.lines().count(), ALL.len(), "{settings}");
    let (_d, path) = file(&settings);
    let c = Config::load_with(&flags_with(&path), &env(&[])).unwrap();
    // The example's values are the defaults, but for the settings without one: there, the
    // declaration's example.
    let unset: String =
        ALL.iter().filter(|k| k.default_toml().is_none()).map(|k| format!("{} = {}\n", k.name(), k.meta().example)).collect();
    assert!(unset.contains("install_dir = ") && unset.contains("shared_mount = "), "{unset}");
    let (_d2, empty) = file(&unset);
    let d = Config::load_with(&flags_with(&empty), &env(&[])).unwrap();
    let strip = |t: String| t.lines().map(|l| l.split("  #").next().unwrap().to_owned()).collect::<Vec<_>>()[2..].join("\n");
    assert_eq!(strip(c.to_toml()), strip(d.to_toml()));
}

#[test]
fn printed_configuration_is_valid_toml_with_origins() {
    let (_d, path) = file("install_dir = \"/opt/eva\"\nunit_timeout = 2.5\n");
    let c = Config::load_with(&flags_with(&path), &env(&[])).unwrap();
    let text = c.to_toml();
    assert!(text.contains(&format!("install_dir = \"/opt/eva\"  # file {}", path.display())), "{text}");
    assert!(text.contains("unit_timeout = 2.5"), "{text}");
    assert!(text.contains("script_timeout = 1440  # default"), "{text}");
    let back: toml::Table = toml::from_str(&text).unwrap();
    assert_eq!(back["units"].as_array().unwrap().len(), 3);
}

#[test]
fn units_are_services_with_or_without_the_suffix() {
    use super::check::systemd_units;
    let units = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
    // systemctl makes `postgresql-9.5` postgresql-9.5.service: its dot is no unit type.
    assert_eq!(systemd_units(&units(&["docker", "mongod.service", "postgresql-9.5", "postgresql@9.5-main"])), Ok(()));
    assert_eq!(
        systemd_units(&units(&["docker.socket"])),
        Err("docker.socket is a .socket unit: only services are started and stopped (name.service or name)".into())
    );
}
