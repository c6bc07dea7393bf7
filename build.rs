//! Records the git commit the binary is built from, for `eva-ha --version`.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=EVA_HA_GIT_COMMIT");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs/heads");
    let commit = std::env::var("EVA_HA_GIT_COMMIT").ok().filter(|c| !c.is_empty()).or_else(|| {
        let out = Command::new("git").args(["rev-parse", "--short=12", "HEAD"]).output().ok()?;
        let hash = String::from_utf8(out.stdout).ok()?.trim().to_owned();
        (out.status.success() && !hash.is_empty()).then_some(hash)
    });
    println!("cargo:rustc-env=EVA_HA_GIT_COMMIT={}", commit.as_deref().unwrap_or("unknown commit"));
}
