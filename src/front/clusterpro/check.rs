//! `eva-check`: is this node set up as the guide requires? A table (or `--json`); exit 1
//! when any check fails.

use crate::config::Config;
use crate::error::failed;
use crate::front::cli::CheckArgs;
use crate::ha::setup::{self, Status};

pub fn run(args: CheckArgs) -> anyhow::Result<()> {
    let cfg = Config::load(&args.config.overrides)?;
    let report = setup::check(&cfg);
    let (ok, warn, fail) = (report.count(Status::Ok), report.count(Status::Warn), report.count(Status::Fail));
    if args.json {
        let doc = serde_json::json!({
            "checks": report.checks,
            "summary": { "ok": ok, "warn": warn, "fail": fail },
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        let width = report.checks.iter().map(|c| c.subject.chars().count()).max().unwrap_or(0).min(40);
        for c in &report.checks {
            let status = format!("{:?}", c.status).to_uppercase();
            println!("{status:<4}  {:<13} {:<width$}  {}", c.check, c.subject, c.message);
            if let Some(fix) = &c.fix {
                println!("{:<4}  {:<13} {:<width$}  fix: {fix}", "", "", "");
            }
        }
        println!("{ok} OK, {warn} WARN, {fail} FAIL");
    }
    match fail {
        0 => Ok(()),
        n => Err(failed(format!("{n} check(s) failed"))),
    }
}
