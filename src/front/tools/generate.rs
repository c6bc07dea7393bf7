//! `eva-ha generate man|completions DIR` (hidden): the man pages and shell completions,
//! generated from the clap definitions so that they never drift from `--help`.
//! `scripts/release.sh` runs it to fill the tarball and the RPM.
//!
//! Man pages (section 1): `eva-ha.1`; for each command that also has a link of its own
//! (`eva-start` → `start`, as `cli::LINKS` has it) the page is `eva-start.1`,
//! written for that name, and `eva-ha-start.1` points to it (`.so`); the other commands get
//! `eva-ha-<command>.1`. Completions: `bash/<name>` (bash-completion's lazy-loading name),
//! `zsh/_<name>` and `fish/<name>.fish`, for `eva-ha` and for every link name.

use std::fs;
use std::path::Path;

use anyhow::Context;
use clap::CommandFactory;
use clap_complete::Shell;
use clap_mangen::Man;
use clap_mangen::roff::{Roff, bold, roman};

use crate::config::render;
use crate::error::ExitKind;
use crate::front::cli::{self, Cli, GenerateArgs, Generated, VERSION};

pub fn run(args: GenerateArgs) -> anyhow::Result<()> {
    let dir = || args.dir.as_deref().context("WHAT needs a DIR");
    let written = match args.what {
        Generated::Man => man_pages(dir()?)?,
        Generated::Completions => completions(dir()?)?,
        Generated::Example => return print(&render::example()),
        Generated::ConfigTable => return print(&render::config_table()),
        Generated::SupportMatrix => return print(&crate::ha::support::matrix()),
    };
    tracing::info!("wrote {} files into {}", written, dir()?.display());
    Ok(())
}

fn print(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    std::io::stdout().write_all(text.as_bytes()).context("cannot write to stdout")
}

/// A page or completion target: the name typed at the shell and its clap definition.
struct Target {
    /// `eva-ha`, `eva-start`, `eva-ha config`.
    bin_name: String,
    /// The page's name: `eva-ha`, `eva-start`, `eva-ha-config`.
    page: String,
    /// For a command that is also a link: its page under the subcommand's name
    /// (`eva-ha-start`), a `.so` to the link's page.
    alias: Option<String>,
    cmd: clap::Command,
}

/// The top-level command as clap sees it, less the hidden commands (clap_complete would
/// offer them) and the `help` subcommand (which has no page).
fn top() -> clap::Command {
    let full = Cli::command();
    let mut cmd = clap::Command::new(full.get_name().to_owned())
        .version(VERSION)
        .subcommand_required(full.is_subcommand_required_set())
        .arg_required_else_help(full.is_arg_required_else_help_set())
        .disable_help_subcommand(true)
        .subcommands(full.get_subcommands().filter(|s| !s.is_hide_set()).cloned());
    if let Some(about) = full.get_about() {
        cmd = cmd.about(about.clone());
    }
    if let Some(about) = full.get_long_about() {
        cmd = cmd.long_about(about.clone());
    }
    cmd
}

/// The visible subcommands, each as it is invoked: `eva-start` for one with a link,
/// `eva-ha config` for the others.
fn targets() -> Vec<Target> {
    let mut out = vec![Target { bin_name: "eva-ha".into(), page: "eva-ha".into(), alias: None, cmd: top() }];
    for sub in top().get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = sub.get_name().to_owned();
        let link = cli::link_of(&name);
        // As main.rs builds it for a link (name, version, the subcommand's arguments and
        // about), so the page and the completions match `eva-start --help`.
        let (bin_name, page, alias) = if let Some(link) = link {
            (link.to_owned(), link.to_owned(), Some(format!("eva-ha-{name}")))
        } else {
            (format!("eva-ha {name}"), format!("eva-ha-{name}"), None)
        };
        let cmd = sub.clone().name(page.clone()).bin_name(bin_name.clone()).version(VERSION);
        out.push(Target { bin_name, page, alias, cmd });
    }
    // The synopsis as `--help` shows it (`eva-start [OPTIONS]`), not every flag again.
    for target in &mut out {
        let usage = target.cmd.clone().render_usage().to_string();
        let usage = usage.strip_prefix("Usage: ").unwrap_or(&usage).to_owned();
        target.cmd = target.cmd.clone().override_usage(usage);
    }
    out
}

fn man_pages(dir: &Path) -> anyhow::Result<usize> {
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let targets = targets();
    let pages: Vec<String> = targets.iter().map(|t| t.page.clone()).collect();
    let mut written = 0;
    for target in &targets {
        let text = man_page(target, &pages)?;
        write(&dir.join(format!("{}.1", target.page)), text.as_bytes())?;
        written += 1;
        if let Some(alias) = &target.alias {
            write(&dir.join(format!("{alias}.1")), format!(".so man1/{}.1\n", target.page).as_bytes())?;
            written += 1;
        }
    }
    Ok(written)
}

/// One page: clap_mangen's sections, with ENVIRONMENT, FILES, EXIT STATUS and SEE ALSO
/// before the version.
fn man_page(target: &Target, pages: &[String]) -> anyhow::Result<String> {
    let man = Man::new(target.cmd.clone()).manual("eva-ha").date(page_date());
    let mut parts: Vec<Vec<u8>> = Vec::new();
    let mut part = |render: &dyn Fn(&mut Vec<u8>) -> std::io::Result<()>| -> anyhow::Result<()> {
        let mut buf = Vec::new();
        render(&mut buf)?;
        parts.push(buf);
        Ok(())
    };
    part(&|w| man.render_title(w))?;
    part(&|w| man.render_name_section(w))?;
    part(&|w| man.render_synopsis_section(w))?;
    part(&|w| man.render_description_section(w))?;
    let mut cmd = target.cmd.clone();
    cmd.build(); // as Man::new did: --help and --version are arguments too
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        part(&|w| man.render_options_section(w))?;
    }
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        part(&|w| man.render_subcommands_section(w))?;
    }
    part(&|w| extra_sections(target, pages).to_writer(w))?;
    part(&|w| man.render_version_section(w))?;

    // Each part starts with roff's apostrophe preamble: keep the first only.
    let preamble = Roff::new().render();
    let mut text = preamble.clone();
    for p in parts {
        let p = String::from_utf8(p).context("a man page that is not UTF-8")?;
        text.push_str(p.strip_prefix(&preamble).unwrap_or(&p));
    }
    Ok(text)
}

/// The page's date (`.TH`'s third field, which must not be empty or the fields after it
/// shift): `$SOURCE_DATE_EPOCH` for reproducible builds, else today.
fn page_date() -> String {
    let epoch = std::env::var("SOURCE_DATE_EPOCH").ok().and_then(|s| s.trim().parse::<i64>().ok());
    let date = match epoch.and_then(|s| chrono::DateTime::from_timestamp(s, 0)) {
        Some(t) => t.date_naive(),
        None => chrono::Utc::now().date_naive(),
    };
    date.format("%Y-%m-%d").to_string()
}

/// The installed documentation the pages point to (the RPM's /usr/share/doc/eva-ha/, which
/// holds the source's README.md and docs/: scripts/release.sh, packaging/eva-ha.spec).
const DOC_GUIDE: &str = "/usr/share/doc/eva-ha/docs/admin-guide.md";
const DOC_PACEMAKER: &str = "/usr/share/doc/eva-ha/docs/pacemaker.md";

fn extra_sections(target: &Target, pages: &[String]) -> Roff {
    let mut r = Roff::new();
    let item = |r: &mut Roff, term: &str, text: &str| {
        r.control("TP", []);
        r.text([bold(term)]);
        r.text([roman(text)]);
    };
    if let Some(alias) = &target.alias {
        let sub = alias.trim_start_matches("eva-ha-");
        r.control("SH", ["INVOCATION"]);
        r.text([
            bold(&target.page),
            roman(" is a symbolic link to eva-ha; "),
            bold(format!("eva-ha {sub}")),
            roman(" is the same command."),
        ]);
    }
    r.control("SH", ["ENVIRONMENT"]);
    item(&mut r, "EVA_HA_CONFIG", "The configuration file, when --config is not given.");
    item(
        &mut r,
        "EVA_HA_<KEY>",
        "Any configuration key (EVA_HA_INSTALL_DIR, EVA_HA_SCRIPT_TIMEOUT, ...): overrides the file, \
         overridden by the flag of the same name.",
    );
    item(&mut r, "EVA_HA_LOG_FORMAT", "human or json.");
    item(&mut r, "EVA_HA_PASSWORD", "The REST API password for eva-verify.");

    r.control("SH", ["FILES"]);
    item(
        &mut r,
        "/etc/eva-ha/eva-ha.toml",
        "The configuration, read when it exists; every key is documented in it. \
         `eva-ha config` prints the effective values and their origins.",
    );
    item(&mut r, "/run/eva-ha.lock", "The lock that serialises eva-start and eva-stop (lock_file).");
    item(
        &mut r,
        DOC_GUIDE,
        "The administrator's guide: install, CLUSTERPRO wiring, configuration, what each command does, \
         exit statuses, troubleshooting by symptom (the Japanese guide: docs/ja/README.md beside it).",
    );
    if matches!(target.page.as_str(), "eva-ha" | "eva-master") {
        item(&mut r, DOC_PACEMAKER, "Running under Pacemaker: the resource agent ocf:eva-ha:eva-master.");
    }

    r.control("SH", ["EXIT STATUS"]);
    let failed = ExitKind::Failed.code().to_string();
    let missing = ExitKind::NotInstalled.code().to_string();
    let unconfigured = ExitKind::NotConfigured.code().to_string();
    item(&mut r, "0", "Success.");
    item(&mut r, &failed, "The operation failed (a unit, a master script, the lock, a dead container, a failed check).");
    item(&mut r, "2", "Usage: an unknown command or flag, a malformed flag value.");
    item(&mut r, &missing, "Something required is missing: a program, a unit, a script, a file.");
    item(&mut r, &unconfigured, "Not configured, or an invalid configuration.");
    item(&mut r, "128+N", "Interrupted by signal N (143: SIGTERM).");

    r.control("SH", ["SEE ALSO"]);
    let others: Vec<String> = pages.iter().filter(|p| **p != target.page).map(|p| format!("{p}(1)")).collect();
    r.text([roman(others.join(", "))]);
    r
}

fn completions(dir: &Path) -> anyhow::Result<usize> {
    let mut written = 0;
    for (shell, sub) in [(Shell::Bash, "bash"), (Shell::Zsh, "zsh"), (Shell::Fish, "fish")] {
        let sub_dir = dir.join(sub);
        fs::create_dir_all(&sub_dir).with_context(|| format!("cannot create {}", sub_dir.display()))?;
        // eva-ha and the link names: bash-completion loads a file by the command's name.
        for target in targets().into_iter().filter(|t| !t.bin_name.contains(' ')) {
            let mut cmd = target.cmd;
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut cmd, &target.bin_name, &mut buf);
            let file = match shell {
                Shell::Zsh => format!("_{}", target.bin_name),
                Shell::Fish => format!("{}.fish", target.bin_name),
                _ => target.bin_name.clone(),
            };
            write(&sub_dir.join(file), &buf)?;
            written += 1;
        }
    }
    Ok(written)
}

fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_for_every_command_and_the_link_names() {
        let dir = tempfile::tempdir().unwrap();
        man_pages(dir.path()).unwrap();
        let page = |name: &str| fs::read_to_string(dir.path().join(name)).unwrap();
        for sub in top().get_subcommands().filter(|s| !s.is_hide_set()) {
            let name = sub.get_name();
            let text = page(&format!("eva-ha-{name}.1"));
            if let Some(link) = cli::link_of(name) {
                assert_eq!(text, format!(".so man1/{link}.1\n"));
                let text = page(&format!("{link}.1"));
                assert!(text.contains(&format!(".TH {link} 1 ")), "{text}");
                let synopsis = format!("\\fB{}\\fR [OPTIONS]", link.replace('-', "\\-"));
                assert!(text.contains(&synopsis), "synopsis as --help shows it: {text}");
            } else {
                assert!(text.contains(&format!(".TH eva-ha-{name} 1 ")), "{text}");
            }
        }
        let main = page("eva-ha.1");
        assert_eq!(main.matches(".TH ").count(), 1);
        assert_eq!(main.matches(".ie \\n(.g").count(), 1, "one preamble");
        for section in ["SYNOPSIS", "OPTIONS", "SUBCOMMANDS", "FILES", "EXIT STATUS", "SEE ALSO", "VERSION"] {
            assert!(
                main.contains(&format!(".SH {section}")) || main.contains(&format!(".SH \"{section}\"")),
                "{section}: {main}"
            );
        }
        assert!(main.contains(env!("CARGO_PKG_VERSION")));
        assert!(!main.contains("generate"), "the hidden command stays hidden");
        assert!(!main.contains("eva-ha-help"));
        let start = page("eva-start.1");
        assert!(start.contains("install\\-dir"), "the configuration flags: {start}");
        // The FILES section points to the guides where the package installs them.
        let guide = DOC_GUIDE.replace('-', "\\-");
        assert!(start.contains(&guide) && main.contains(&guide), "{start}");
        assert!(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(DOC_GUIDE.replace("/usr/share/doc/eva-ha/", "")).is_file());
        assert!(page("eva-master.1").contains(&DOC_PACEMAKER.replace('-', "\\-")) && !start.contains("pacemaker.md"));
    }

    #[test]
    fn completions_for_eva_ha_and_each_link() {
        let dir = tempfile::tempdir().unwrap();
        completions(dir.path()).unwrap();
        // Each command completes the configuration flags it reads, and only those.
        for (name, reads_install_dir) in [
            ("eva-ha", true),
            ("eva-start", true),
            ("eva-stop", true),
            ("eva-genw", false),
            ("eva-check", true),
            ("eva-verify", false),
            ("eva-master", false),
        ] {
            let bash = fs::read_to_string(dir.path().join("bash").join(name)).unwrap();
            assert!(bash.contains(&format!("complete -F _{}", name.replace('-', "__"))) || bash.contains(name), "{bash}");
            assert_eq!(bash.contains("--install-dir"), reads_install_dir, "{name}");
            assert!(bash.contains("--log-format"), "{name}");
            assert!(dir.path().join("zsh").join(format!("_{name}")).is_file());
            assert!(dir.path().join("fish").join(format!("{name}.fish")).is_file());
        }
        let bash = fs::read_to_string(dir.path().join("bash/eva-ha")).unwrap();
        assert!(bash.contains("start") && bash.contains("config"));
        for shell in ["bash/eva-ha", "zsh/_eva-ha", "fish/eva-ha.fish"] {
            let text = fs::read_to_string(dir.path().join(shell)).unwrap();
            assert!(!text.contains("generate"), "the hidden command stays hidden: {shell}");
        }
    }
}
