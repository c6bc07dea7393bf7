//! eva-ha: one binary for the CLUSTERPRO resources of an NEC EVA master node.
//!
//! Invoked as `eva-start`, `eva-stop`, `eva-genw`, `eva-check` or `eva-verify` (links to this
//! binary; the basename's suffix decides) it runs that command; otherwise the first
//! argument names the command. `main` alone decides the exit status.

mod config;
mod error;
mod front;
mod ha;
mod sys;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser};

use front::cli::{self, Cli, Command};

fn main() -> ExitCode {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let argv0 = argv.first().map(|a| a.to_string_lossy().into_owned()).unwrap_or_default();
    let parsed = match Command::for_invocation(&argv0) {
        Some(sub) => parse_as(sub, &argv0, argv),
        None => Cli::try_parse_from(argv).map(|cli| cli.command),
    };
    let command = match parsed {
        Ok(command) => command,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(e.exit_code().clamp(0, 255) as u8);
        }
    };
    let name = match Command::for_invocation(&argv0) {
        Some(_) => argv0.rsplit('/').next().unwrap_or(&argv0).to_owned(),
        None => format!("eva-ha {}", command.name()),
    };
    let log = &command.common().log;
    // A resource agent's stdout is its meta-data; Pacemaker logs what it prints on stderr.
    let ocf = matches!(command, Command::Ocf(_));
    sys::logging::init(log.verbosity(), log.log_format, ocf);
    match front::run(&name, command) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            tracing::error!("{name}: {e:#}");
            let code = error::exit_status(&e);
            // OCF has no 128+N: an interrupted action is a generic failure.
            ExitCode::from(if ocf && code > 7 { front::pacemaker::state::OCF_ERR_GENERIC } else { code })
        }
    }
}

/// Parses `argv` for the subcommand `sub`, invoked under its own name.
fn parse_as(sub: &str, argv0: &str, argv: Vec<OsString>) -> Result<Command, clap::Error> {
    fn args<A: Args>(name: String, about: Option<clap::builder::StyledStr>, argv: Vec<OsString>) -> Result<A, clap::Error> {
        // The about goes on after the arguments: a flattened struct's doc comment (Common's)
        // would otherwise replace it.
        let mut cmd = A::augment_args(clap::Command::new(name).version(cli::VERSION));
        if let Some(about) = about {
            cmd = cmd.about(about);
        }
        let matches = cmd.try_get_matches_from(argv)?;
        A::from_arg_matches(&matches)
    }
    let about = Cli::command().find_subcommand(sub).and_then(|c| c.get_about().cloned());
    let name = argv0.rsplit('/').next().unwrap_or(argv0).to_owned();
    Ok(match sub {
        "start" => Command::Start(args(name, about, argv)?),
        "stop" => Command::Stop(args(name, about, argv)?),
        "genw" => Command::Genw(args(name, about, argv)?),
        "check" => Command::Check(args(name, about, argv)?),
        "ocf" => Command::Ocf(args(name, about, argv)?),
        _ => Command::Verify(args(name, about, argv)?),
    })
}
