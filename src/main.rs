//! eva-ha: one binary for the cluster resources of an NEC EVA master node.
//!
//! Invoked as `eva-start`, `eva-stop`, `eva-genw`, `eva-check`, `eva-verify` or `eva-master`
//! (links to this binary; `front::cli::LINKS` maps each name to its command) it runs that
//! command; invoked as `eva-ha`, the first argument names the command. `main` alone ends
//! the process, with the status the front end decided.
//!
//! The tree: `front` (the command line, the CLUSTERPRO commands, the Pacemaker agent, the
//! tools), `ha` (the core: the node lifecycle, the death watch, the setup checks, the REST
//! probe, the token), `sys` (processes, signals, the lock, files, systemd, the container
//! runtime's client, CLUSTERPRO's variables and clplogcmd, logging), `config` (every
//! setting, declared once) and `error` (the exit statuses).

mod config;
mod error;
mod front;
mod ha;
mod sys;

use std::process::ExitCode;

fn main() -> ExitCode {
    let (name, command) = match front::cli::parse(std::env::args_os().collect()) {
        Ok(parsed) => parsed,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(e.exit_code().clamp(0, 255) as u8);
        }
    };
    ExitCode::from(front::run(&name, command))
}
