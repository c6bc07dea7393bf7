//! `eva-verify`: does the master answer its REST API (after a failover)?

use std::time::{Duration, Instant};

use crate::error::not_configured;
use crate::front::cli::VerifyArgs;
use crate::ha::rest::{self, Password, Target};
use crate::sys::logging::Secs;
use crate::sys::signals;

/// Pause between two attempts under `--wait`.
const RETRY_EVERY: Duration = Duration::from_secs(2);

pub fn run(args: VerifyArgs) -> anyhow::Result<()> {
    signals::install()?;
    let url = match (&args.url, &args.master) {
        (Some(url), _) => url.clone(),
        (None, Some(host)) => rest::master_url(host),
        (None, None) => unreachable!("clap requires --url or --master"),
    };
    let password = match (&args.password_file, std::env::var("EVA_HA_PASSWORD").ok().filter(|p| !p.is_empty())) {
        (Some(file), _) => Some(Password::from_file(file)?),
        (None, Some(env)) => Some(Password::new(env)),
        (None, None) => None,
    };
    let credentials = match (args.user.clone(), password) {
        (Some(user), Some(password)) => Some((user, password)),
        (Some(user), None) => {
            return Err(not_configured(format!("no password for user {user}: set EVA_HA_PASSWORD or give --password-file")));
        }
        (None, Some(_)) => return Err(not_configured("a password but no --user")),
        (None, None) => None,
    };
    let target = Target { url, credentials, cacert: args.cacert.clone(), insecure: args.insecure, timeout: args.timeout };
    if target.insecure {
        tracing::warn!("--insecure: the server's certificate is not verified");
    }

    let deadline = Instant::now() + args.wait;
    let started = Instant::now();
    loop {
        match rest::check(&target) {
            Ok(answer) => {
                tracing::info!(
                    "OK {}: HTTP {} in {} ms; versions: {}",
                    target.url,
                    answer.status,
                    answer.latency.as_millis(),
                    rest::summarize(&answer.body)
                );
                return Ok(());
            }
            Err(failure) if failure.retry && Instant::now() + RETRY_EVERY < deadline => {
                tracing::info!("not yet, after {}: {:#}", Secs(started.elapsed()), failure.error);
                signals::sleep(RETRY_EVERY)?;
            }
            Err(failure) => return Err(failure.error),
        }
    }
}
