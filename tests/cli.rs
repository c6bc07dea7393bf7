//! The command line: argv[0] dispatch, help and version, usage errors, the commands still
//! to come, and `eva-ha config`.

mod common;

use common::*;

// ---------------------------------------------------------------------------------------
// argv[0] dispatch.

#[test]
fn start_links_run_eva_start() {
    for name in ["eva-start", "x86_64-eva-start", "some/dir/eva-start"] {
        let run = Test::new().invoked_as(name).success();
        assert_eq!(run.changes(), [START_CALL], "{name}\n{}", run.dump());
        assert_eq!(run.master("argc").as_deref(), Some("1"), "{name}: the master script ran");
        run.assert_states("active").assert_stdout_contains("EVA master started");
    }
}

#[test]
fn stop_links_run_eva_stop() {
    for name in ["eva-stop", "some/dir/eva-stop", "x86_64-eva-stop"] {
        let run = Test::new().invoked_as(name).active(&IDS).success();
        assert_eq!(run.changes(), [STOP_CALL], "{name}\n{}", run.dump());
        assert_eq!(run.stop_script_runs(), 1, "{name}");
        run.assert_states("inactive").assert_stdout_contains("EVA master stopped");
    }
}

#[test]
fn the_invocation_name_is_the_name_in_errors() {
    for (name, shown) in [("eva-stop", "eva-stop"), ("some/dir/eva-stop", "eva-stop"), ("x86_64-eva-stop", "x86_64-eva-stop")] {
        let run = Test::new().invoked_as(name).unset_config("install_dir").arg("--strict").status(6);
        run.assert_error(shown, &["install_dir is not configured"]);
    }
    let run = Test::new().args(&["stop", "--strict"]).unset_config("install_dir").status(6);
    run.assert_error("eva-ha stop", &["install_dir is not configured"]);
}

#[test]
fn eva_ha_start_is_eva_start() {
    let by_link = Test::new().invoked_as("eva-start").success();
    let by_subcommand = Test::new().arg("start").success();
    assert_eq!(by_subcommand.changes(), by_link.changes());
    assert_eq!(by_subcommand.master("arg1"), by_link.master("arg1"));
    assert_eq!(by_subcommand.master("arg1").unwrap(), format!("--token=\"{TOKEN}\""));
    by_subcommand.assert_states("active").assert_token_hidden();

    let stopped = by_subcommand.test.fork().clear_args().arg("stop").success();
    stopped.assert_states("inactive");
    assert_eq!(stopped.changes(), [START_CALL, STOP_CALL]);
}

#[test]
fn help_under_each_name() {
    for (name, args, usage, about) in [
        (Some("eva-start"), &["--help"][..], "Usage: eva-start [OPTIONS]", "Start the units and the EVA master"),
        (Some("eva-start"), &["-h"][..], "Usage: eva-start [OPTIONS]", "Start the units and the EVA master"),
        (Some("eva-stop"), &["--help"][..], "Usage: eva-stop [OPTIONS]", "Stop the EVA master and the units"),
        (None, &["start", "--help"][..], "Usage: eva-ha start [OPTIONS]", "Start the units and the EVA master"),
        (None, &["--help"][..], "Usage: eva-ha <COMMAND>", "High availability for the NEC EVA master node"),
    ] {
        let t = Test::new().args(args);
        let t = match name {
            Some(name) => t.invoked_as(name),
            None => t,
        };
        let run = t.success();
        assert!(run.stdout.contains(usage), "{name:?} {args:?}\n{}", run.dump());
        // The first line of the help is the command's own description.
        assert!(run.stdout.lines().next().unwrap().starts_with(about), "{name:?} {args:?}\n{}", run.dump());
        assert!(run.stdout.contains("--install-dir") || name.is_none() && args == ["--help"], "{}", run.dump());
        assert_eq!(run.calls(), Vec::<String>::new(), "help touches nothing");
    }
    let run = Test::new().invoked_as("eva-stop").arg("--help").success();
    run.assert_stdout_contains("--strict");
}

#[test]
fn version_under_each_name() {
    let version = env!("CARGO_PKG_VERSION");
    for (name, args, prefix) in [
        (None, &["--version"][..], "eva-ha"),
        (None, &["-V"][..], "eva-ha"),
        (Some("eva-start"), &["--version"][..], "eva-start"),
        (Some("eva-stop"), &["-V"][..], "eva-stop"),
    ] {
        let t = Test::new().args(args);
        let t = match name {
            Some(name) => t.invoked_as(name),
            None => t,
        };
        let run = t.success();
        let line = run.stdout.trim_end();
        assert!(line.starts_with(&format!("{prefix} {version} (")) && line.ends_with(')'), "{line}");
        assert_eq!(run.stdout.lines().count(), 1, "{}", run.dump());
    }
}

#[test]
fn usage_errors_exit_2_and_touch_nothing() {
    for (name, args) in [
        (None, &["bogus"][..]),
        (None, &[][..]),
        (None, &["start", "--bogus"][..]),
        (None, &["stop", "--units"][..]),
        (None, &["start", "--script-timeout", "0"][..]),
        (None, &["start", "--token-format", "yaml"][..]),
        (None, &["config", "extra"][..]),
        (Some("eva-start"), &["--bogus"][..]),
        (Some("eva-start"), &["start"][..]),
        (Some("eva-start"), &["--strict"][..]),
        (Some("eva-stop"), &["--lock-timeout", "soon"][..]),
        (Some("eva-start"), &["-v", "-q"][..]),
    ] {
        let t = Test::new().args(args);
        let t = match name {
            Some(name) => t.invoked_as(name),
            None => t,
        };
        let run = t.status(2);
        assert!(run.stderr.contains("error:") || run.stderr.contains("Usage:"), "{name:?} {args:?}\n{}", run.dump());
        assert_eq!(run.stdout, "", "{name:?} {args:?}");
        assert_eq!(run.calls(), Vec::<String>::new(), "{name:?} {args:?}");
        assert_eq!(run.stop_script_runs(), 0);
    }
}

// ---------------------------------------------------------------------------------------
// eva-ha config.

/// The printed line for `key`, split into value and origin.
fn config_line<'a>(run: &'a Run, key: &str) -> (&'a str, &'a str) {
    let prefix = format!("{key} = ");
    let line = run.stdout.lines().find(|l| l.starts_with(&prefix)).unwrap_or_else(|| panic!("no {key}\n{}", run.dump()));
    let rest = &line[prefix.len()..];
    rest.split_once("  # ").unwrap_or_else(|| panic!("no origin: {line}"))
}

#[test]
fn config_prints_valid_toml_with_origins() {
    let run = Test::new().arg("config").success();
    let file = run.root.join("eva-ha.toml");
    let table: toml::Table = toml::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}\n{}", run.dump()));
    assert_eq!(table["install_dir"].as_str().unwrap(), run.root.join("eva").to_str().unwrap());
    assert_eq!(table["units"].as_array().unwrap().len(), 3);
    // Every declared setting is shown (the ones without a value as a comment).
    let declared = Test::new().args(&["generate", "config-table"]).success();
    let keys: Vec<&str> = declared.stdout.lines().filter_map(|l| l.strip_prefix("| `")?.split('`').next()).collect();
    assert!(keys.len() >= 20, "{}", declared.stdout);
    for key in keys {
        assert!(table.contains_key(key) || run.stdout.contains(&format!("# {key} is not configured")), "{key}\n{}", run.stdout);
    }
    assert_eq!(table.len(), run.stdout.lines().filter(|l| !l.starts_with('#')).count(), "{}", run.stdout);
    run.assert_stdout_contains(&format!("# file: {}", file.display()));
    assert_eq!(config_line(&run, "install_dir").1, format!("file {}", file.display()));
    assert_eq!(config_line(&run, "script_timeout"), ("1440", "default"));
    assert_eq!(config_line(&run, "units"), ("[\"docker\", \"mongod.service\", \"postgresql-9.5.service\"]", "default"));
    assert_eq!(run.calls(), Vec::<String>::new());
}

#[test]
fn config_shows_precedence_default_file_environment_flag() {
    let t = Test::new()
        .config("unit_timeout", "5")
        .config("script_timeout", "10")
        .config("lock_timeout", "20")
        .config("rollback", "true")
        .env("EVA_HA_SCRIPT_TIMEOUT", "11")
        .env("EVA_HA_LOCK_TIMEOUT", "21")
        .env("EVA_HA_ROLLBACK", "no")
        .args(&["config", "--lock-timeout", "22.5", "--units", "a.service,b"]);
    let file = t.path("eva-ha.toml");
    let run = t.success();
    let file_origin = format!("file {}", file.display());
    assert_eq!(config_line(&run, "start_script"), ("\"start-master-rhel.sh\"", "default"));
    assert_eq!(config_line(&run, "unit_timeout"), ("5", file_origin.as_str()));
    assert_eq!(config_line(&run, "script_timeout"), ("11", "environment EVA_HA_SCRIPT_TIMEOUT"));
    assert_eq!(config_line(&run, "lock_timeout"), ("22.5", "flag --lock-timeout"));
    assert_eq!(config_line(&run, "rollback"), ("false", "environment EVA_HA_ROLLBACK"));
    assert_eq!(config_line(&run, "units"), ("[\"a.service\", \"b\"]", "flag --units"));

    let run = run.test.fork().arg("--no-rollback").success();
    assert_eq!(config_line(&run, "rollback"), ("false", "flag --no-rollback"));
}

#[test]
fn config_never_shows_the_token() {
    for t in [
        Test::new().arg("config"),
        Test::new().arg("config").config("token_format", "\"raw\""),
        Test::new().arg("config").arg("-v"),
    ] {
        let run = t.success();
        assert!(run.root.join("configuration.json").exists());
        run.assert_token_hidden();
        assert!(!run.stdout.contains("workerToken"), "{}", run.dump());
        run.assert_stdout_contains("worker_config = ");
    }
}

#[test]
fn config_without_install_dir_says_so() {
    let run = Test::new().arg("config").unset_config("install_dir").success();
    run.assert_stdout_contains("# install_dir is not configured");
    let table: toml::Table = toml::from_str(&run.stdout).unwrap();
    assert!(!table.contains_key("install_dir"));
}

#[test]
fn config_with_an_unknown_key_exits_6_naming_key_and_file_in_one_line() {
    let t = Test::new().arg("config").config("instal_dir", "\"/typo\"");
    let file = t.path("eva-ha.toml");
    // The key set last is on the file's last line.
    let line = std::fs::read_to_string(&file).unwrap().lines().count();
    let run = t.status(6);
    run.assert_error(
        "eva-ha config",
        &[&format!("configuration file {}:{line}:1", file.display()), "unknown field `instal_dir` (did you mean `install_dir`?)"],
    );
    assert_eq!(run.stdout.lines().count(), 1, "one line\n{}", run.dump());
}

#[test]
fn config_errors_name_the_variable_or_the_key() {
    let run = Test::new().arg("config").env("EVA_HA_SCRIPT_TIMEOUT", "soon").status(6);
    run.assert_error("eva-ha config", &["script_timeout (environment EVA_HA_SCRIPT_TIMEOUT)", "\"soon\""]);

    let t = Test::new().arg("config").config("units", "\"docker\"");
    let file = t.path("eva-ha.toml");
    let run = t.status(6);
    run.assert_error("eva-ha config", &[&file.display().to_string(), "units: invalid type"]);

    let run = Test::new().arg("config").config("install_dir", "\"relative\"").status(6);
    run.assert_error("eva-ha config", &["install_dir (file ", "relative is not an absolute path"]);
}

#[test]
fn config_file_from_flag_beats_the_environment() {
    let t = Test::new().write("other.toml", "install_dir = \"/from/other\"\n");
    let other = t.path("other.toml");
    let run = t.args(&["config", "-c", other.to_str().unwrap()]).success();
    assert_eq!(config_line(&run, "install_dir"), ("\"/from/other\"", format!("file {}", other.display()).as_str()));
    assert_eq!(config_line(&run, "lock_file").1, "default");
}
