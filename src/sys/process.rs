//! Every external command eva-ha runs goes through [`Cmd`].
//!
//! A cluster resource action must never hang and never leave strays behind, and an
//! administrator reading a failure must see exactly what was run. So each child gets its own
//! process group, a deadline, and stdin from /dev/null; its output is read line by line
//! (streamed into our log or captured); on timeout or on SIGTERM/SIGINT the whole group is
//! sent SIGTERM, then SIGKILL after a grace period; and every error names the full command
//! line, with secrets shown as `***`.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io::{self, BufRead, BufReader, Read};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Once;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::prctl::set_child_subreaper;
use nix::sys::signal::{Signal, killpg};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use crate::sys::signals;

/// The directories searched after `PATH`, so that a cluster manager that starts us with an
/// empty or minimal `PATH` still finds `systemctl`.
pub const FALLBACK_DIRS: &[&str] = &["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

/// The `PATH` children get when ours is unset or empty.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// How often a wait loop looks at the child, the deadline and pending signals.
const POLL: Duration = Duration::from_millis(10);
/// How long a process group has between SIGTERM and SIGKILL.
const KILL_GRACE: Duration = Duration::from_secs(3);
/// How long we keep reading output after the child exited (background processes it left
/// may hold the pipe open; their output is not ours to wait for).
const DRAIN_GRACE: Duration = Duration::from_millis(300);
/// Longest line kept; longer output is split.
const MAX_LINE: u64 = 16 * 1024;
/// Most bytes of each stream kept by [`Cmd::output`].
const MAX_CAPTURE: usize = 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// A command to run: program, arguments, working directory, deadline and secrets.
#[derive(Clone, Debug)]
pub struct Cmd {
    program: OsString,
    args: Vec<OsString>,
    shown: Vec<String>,
    cwd: Option<PathBuf>,
    timeout: Duration,
    secrets: Vec<String>,
    despite_signals: bool,
}

/// Why a command did not run to a successful end.
#[derive(Debug)]
pub enum ProcessError {
    /// The program does not exist (not on PATH nor in the fallback directories).
    NotFound { command: String },
    /// It exists but could not be started (permissions, not executable, bad interpreter).
    Spawn { command: String, source: io::Error },
    /// Waiting for it failed (should not happen).
    Wait { command: String, source: io::Error },
    /// It outlived its deadline; its process group was killed.
    TimedOut { command: String, after: Duration },
    /// We received a signal while it ran; its process group was killed.
    Interrupted { command: String, signal: i32 },
    /// It ended unsuccessfully; `detail` is its last line of stderr, if any.
    Failed { command: String, status: String, detail: String },
}

impl fmt::Display for ProcessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProcessError::NotFound { command } => {
                write!(f, "`{command}`: program not found")
            }
            ProcessError::Spawn { command, source } => {
                write!(f, "`{command}` could not be started: {source}")
            }
            ProcessError::Wait { command, source } => {
                write!(f, "waiting for `{command}` failed: {source}")
            }
            ProcessError::TimedOut { command, after } => {
                write!(f, "`{command}` timed out after {}; its process group was killed", crate::sys::logging::Secs(*after))
            }
            ProcessError::Interrupted { command, signal } => {
                write!(f, "`{command}` was stopped: we received {}", signals::signal_name(*signal))
            }
            ProcessError::Failed { command, status, detail } => {
                write!(f, "`{command}` failed with {status}")?;
                if !detail.is_empty() {
                    write!(f, ": {detail}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ProcessError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ProcessError::Spawn { source, .. } | ProcessError::Wait { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// What [`Cmd::output`] collected.
#[derive(Debug)]
pub struct Output {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Cmd {
    pub fn new(program: impl AsRef<OsStr>) -> Cmd {
        let program = program.as_ref().to_owned();
        Cmd {
            program,
            args: Vec::new(),
            shown: Vec::new(),
            cwd: None,
            timeout: Duration::from_secs(60),
            secrets: Vec::new(),
            despite_signals: false,
        }
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Cmd {
        let arg = arg.as_ref();
        self.shown.push(arg.to_string_lossy().into_owned());
        self.args.push(arg.to_owned());
        self
    }

    pub fn args<I, S>(self, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        args.into_iter().fold(self, Cmd::arg)
    }

    /// An argument holding a secret: passed as is, shown as `shown`, and the secret itself
    /// is masked in everything the child prints.
    pub fn secret_arg(mut self, arg: impl Into<OsString>, shown: &str, secret: &str) -> Cmd {
        self.args.push(arg.into());
        self.shown.push(shown.to_owned());
        self.redact(secret)
    }

    /// Masks `secret` as `***` in the child's output and in errors. Output is masked line by
    /// line, so each line of a multi-line secret is masked on its own as well (lines of
    /// fewer than 4 characters excepted, lest every `a` be masked).
    pub fn redact(mut self, secret: &str) -> Cmd {
        let lines = secret.lines().filter(|l| l.len() >= 4 && *l != secret);
        for part in std::iter::once(secret).chain(lines) {
            if !part.is_empty() && !self.secrets.iter().any(|s| s == part) {
                self.secrets.push(part.to_owned());
            }
        }
        // Longest first, so that a secret containing another is masked whole.
        self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        self
    }

    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Cmd {
        self.cwd = Some(dir.as_ref().to_owned());
        self
    }

    /// Runs to its end (or its deadline) even when a signal has arrived: for the commands
    /// that undo what we did before we go (resuming the cluster's monitoring).
    pub fn despite_signals(mut self) -> Cmd {
        self.despite_signals = true;
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> Cmd {
        self.timeout = timeout;
        self
    }

    /// The command line as shown in logs and errors: secrets masked, words quoted for a
    /// shell when needed.
    pub fn display(&self) -> String {
        let line = std::iter::once(self.program.to_string_lossy().into_owned())
            .chain(self.shown.iter().cloned())
            .map(|w| shell_quote(&w))
            .collect::<Vec<_>>()
            .join(" ");
        self.mask(&line)
    }

    fn mask(&self, text: &str) -> String {
        self.secrets.iter().fold(text.to_owned(), |t, s| t.replace(s.as_str(), "***"))
    }

    /// Runs to the end, handing each output line (masked) to `on_line` as it arrives.
    /// Returns the exit status, whatever it is.
    pub fn stream(&self, mut on_line: impl FnMut(Stream, &str)) -> Result<ExitStatus, ProcessError> {
        self.run(&mut |stream, line| on_line(stream, &self.mask(line)))
    }

    /// Runs to the end and collects stdout and stderr (masked). Any exit status is returned.
    pub fn output(&self) -> Result<Output, ProcessError> {
        let (mut stdout, mut stderr) = (String::new(), String::new());
        let status = self.run(&mut |stream, line| {
            let buf = if stream == Stream::Stdout { &mut stdout } else { &mut stderr };
            if buf.len() < MAX_CAPTURE {
                buf.push_str(line);
                buf.push('\n');
            }
        })?;
        Ok(Output { status, stdout: self.mask(&stdout), stderr: self.mask(&stderr) })
    }

    /// Like [`Cmd::output`], but a non-zero exit is a [`ProcessError::Failed`].
    pub fn checked_output(&self) -> Result<Output, ProcessError> {
        let out = self.output()?;
        if out.status.success() { Ok(out) } else { Err(self.failure(out.status, &out.stderr)) }
    }

    /// The error for an unsuccessful exit, with the last line of `stderr` as detail.
    pub fn failure(&self, status: ExitStatus, stderr: &str) -> ProcessError {
        let detail = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
        ProcessError::Failed { command: self.display(), status: describe_status(status), detail: self.mask(detail.trim()) }
    }

    fn resolve(&self) -> Result<PathBuf, ProcessError> {
        let not_found = || ProcessError::NotFound { command: self.display() };
        let program = Path::new(&self.program);
        if self.program.as_encoded_bytes().contains(&b'/') {
            return if program.exists() { Ok(program.to_owned()) } else { Err(not_found()) };
        }
        find_program(&self.program).ok_or_else(not_found)
    }

    /// Starts the command and hands back the running child: for long-lived children (an
    /// event subscription) that the caller reads line by line. Lines are not masked.
    pub fn spawn(&self) -> Result<Running, ProcessError> {
        let command = self.display();
        let program = self.resolve()?;
        let mut cmd = Command::new(&program);
        cmd.args(&self.args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).process_group(0);
        if let Some(dir) = &self.cwd {
            cmd.current_dir(dir);
        }
        if std::env::var_os("PATH").is_none_or(|p| p.is_empty()) {
            cmd.env("PATH", DEFAULT_PATH);
        }
        // Orphans of the child's group are re-parented to us rather than to init, so that
        // `terminate_group` can reap them and see the group empty at once, even where init
        // is slow to reap (containers).
        static SUBREAPER: Once = Once::new();
        SUBREAPER.call_once(|| {
            if let Err(e) = set_child_subreaper(true) {
                tracing::debug!("cannot become a child subreaper: {e}");
            }
        });
        tracing::debug!("running {command}");
        let mut child = cmd.spawn().map_err(|source| match source.kind() {
            io::ErrorKind::NotFound if !program.exists() => ProcessError::NotFound { command: command.clone() },
            _ => ProcessError::Spawn { command: command.clone(), source },
        })?;
        let group = Pid::from_raw(child.id() as i32);
        let (tx, rx) = mpsc::sync_channel::<(Stream, String)>(1024);
        if let Some(out) = child.stdout.take() {
            read_lines(out, Stream::Stdout, tx.clone());
        }
        if let Some(err) = child.stderr.take() {
            read_lines(err, Stream::Stderr, tx);
        }
        Ok(Running { command, child, group, rx, exited: None })
    }

    fn run(&self, on_line: &mut dyn FnMut(Stream, &str)) -> Result<ExitStatus, ProcessError> {
        let mut running = self.spawn()?;
        let deadline = Instant::now() + self.timeout;
        loop {
            // A line or POLL, whichever comes first; the checks below run either way, so a
            // child that prints without pause still meets its deadline.
            match running.next(POLL)? {
                Next::Line(stream, line) => on_line(stream, &line),
                Next::Ended(status) => return Ok(status),
                Next::Idle => {}
            }
            if let Some(signal) = signals::pending().filter(|_| !self.despite_signals) {
                running.terminate(on_line);
                return Err(ProcessError::Interrupted { command: running.command.clone(), signal });
            }
            if Instant::now() >= deadline {
                tracing::debug!("{}: deadline reached, killing its process group", running.command);
                running.terminate(on_line);
                return Err(ProcessError::TimedOut { command: running.command.clone(), after: self.timeout });
            }
        }
    }
}

/// What [`Running::next`] saw.
#[derive(Debug)]
pub enum Next {
    /// A line of output.
    Line(Stream, String),
    /// Nothing within the wait.
    Idle,
    /// The child exited and its output has been handed over.
    Ended(ExitStatus),
}

/// A child started by [`Cmd::spawn`]. Dropping it before it ended kills its process group.
pub struct Running {
    command: String,
    child: Child,
    group: Pid,
    rx: mpsc::Receiver<(Stream, String)>,
    /// The exit status, and until when its remaining output is read.
    exited: Option<(ExitStatus, Instant)>,
}

impl Running {
    /// The command line, as shown in errors.
    pub fn command(&self) -> &str {
        &self.command
    }

    /// The next line, or `Idle` after `wait` (the caller's polling period: a child that
    /// exits while something it left running holds its pipes is noticed only then), or
    /// `Ended` once the child exited and its output is read (background processes it left holding the pipe are not waited for
    /// longer than a short grace).
    pub fn next(&mut self, wait: Duration) -> Result<Next, ProcessError> {
        let until = Instant::now() + wait;
        loop {
            if let Some((status, drain_until)) = self.exited {
                let left = drain_until.saturating_duration_since(Instant::now());
                return Ok(match self.rx.recv_timeout(left) {
                    Ok((stream, line)) => Next::Line(stream, line),
                    Err(RecvTimeoutError::Disconnected) => Next::Ended(status),
                    Err(RecvTimeoutError::Timeout) => {
                        tracing::debug!("output still held open by processes the command left running; not waiting for it");
                        self.exited = Some((status, Instant::now()));
                        Next::Ended(status)
                    }
                });
            }
            // Block for the whole wait: an idle subscription costs no wakeups. The child's
            // exit shows as both pipes closing (then we poll for its status), or is found
            // when the wait ends.
            let left = until.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok((stream, line)) => return Ok(Next::Line(stream, line)),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => thread::sleep(left.min(POLL)),
            }
            let status = self.child.try_wait().map_err(|source| ProcessError::Wait { command: self.command.clone(), source })?;
            if let Some(status) = status {
                self.exited = Some((status, Instant::now() + DRAIN_GRACE));
            } else if Instant::now() >= until {
                return Ok(Next::Idle);
            }
        }
    }

    /// Kills the process group (SIGTERM, then SIGKILL after a grace) and hands over the
    /// output still in flight.
    pub fn terminate(&mut self, on_line: &mut dyn FnMut(Stream, &str)) {
        terminate_group(&mut self.child, self.group);
        drain(&self.rx, on_line);
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            terminate_group(&mut self.child, self.group);
        }
    }
}

/// Reads lines from a child's pipe on a thread of its own, sending them to `tx`.
fn read_lines(pipe: impl Read + Send + 'static, stream: Stream, tx: mpsc::SyncSender<(Stream, String)>) {
    thread::spawn(move || {
        let mut reader = BufReader::new(pipe);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.by_ref().take(MAX_LINE).read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => return,
                Ok(_) => {
                    while matches!(buf.last(), Some(b'\n' | b'\r')) {
                        buf.pop();
                    }
                    let line = String::from_utf8_lossy(&buf).into_owned();
                    if tx.send((stream, line)).is_err() {
                        return;
                    }
                }
            }
        }
    });
}

/// Hands over the output still in flight, for a short while only.
fn drain(rx: &mpsc::Receiver<(Stream, String)>, on_line: &mut dyn FnMut(Stream, &str)) {
    let until = Instant::now() + DRAIN_GRACE;
    while let Some(left) = until.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok((stream, line)) => on_line(stream, &line),
            Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) => {
                tracing::debug!("output still held open by processes the command left running; not waiting for it");
                return;
            }
        }
    }
}

/// SIGTERM to the whole group, SIGKILL to whatever is left after [`KILL_GRACE`]; returns
/// once the leader is reaped and the group is empty (or after a last bounded wait).
fn terminate_group(child: &mut Child, group: Pid) {
    let _ = killpg(group, Signal::SIGTERM);
    if !wait_group_gone(child, group, KILL_GRACE) {
        let _ = killpg(group, Signal::SIGKILL);
        let _ = child.wait();
        wait_group_gone(child, group, KILL_GRACE);
    }
}

fn wait_group_gone(child: &mut Child, group: Pid, within: Duration) -> bool {
    let until = Instant::now() + within;
    loop {
        let leader_reaped = !matches!(child.try_wait(), Ok(None));
        // Reap the group's orphans that were re-parented to us (see SUBREAPER).
        while let Ok(WaitStatus::Exited(..) | WaitStatus::Signaled(..)) =
            waitpid(Pid::from_raw(-group.as_raw()), Some(WaitPidFlag::WNOHANG))
        {}
        if leader_reaped && killpg(group, None) == Err(Errno::ESRCH) {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        thread::sleep(POLL);
    }
}

/// "exit status 3" or "signal SIGKILL".
/// Whether process `pid` exists and is not a zombie, by its `/proc/<pid>/stat`.
pub fn is_running(pid: i32) -> bool {
    pid > 0
        && std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|s| s.rsplit(')').next().and_then(|r| r.split_whitespace().next()).is_some_and(|st| st != "Z"))
}

pub fn describe_status(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(sig)) => format!("signal {}", signals::signal_name(sig)),
        _ => status.to_string(),
    }
}

/// Finds `name` on `PATH`, then in [`FALLBACK_DIRS`]: an executable regular file.
pub fn find_program(name: impl AsRef<OsStr>) -> Option<PathBuf> {
    let name = name.as_ref();
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .filter(|d| !d.as_os_str().is_empty())
        .chain(FALLBACK_DIRS.iter().map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

/// "`name` not found on PATH nor in /usr/local/sbin, …" for a program [`find_program`]
/// could not find.
pub fn not_found(name: &str) -> String {
    format!("{name} not found on PATH nor in {}", FALLBACK_DIRS.join(", "))
}

/// A regular file (after symlinks) with an execute bit set.
pub fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Quotes `word` for a POSIX shell when it holds anything but plain characters.
fn shell_quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./=:,@%+*".contains(c);
    if !word.is_empty() && word.chars().all(plain) { word.to_owned() } else { format!("'{}'", word.replace('\'', r"'\''")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_masks_secret_args_and_quotes() {
        let cmd = Cmd::new("./start.sh").arg("a b").secret_arg("--token=\"s3cr3t\"", "--token=***", "s3cr3t");
        assert_eq!(cmd.display(), "./start.sh 'a b' --token=***");
    }

    #[test]
    fn output_is_masked() {
        let cmd = Cmd::new("sh").arg("-c").arg("echo token=s3cr3t; echo oops s3cr3t >&2; exit 3").redact("s3cr3t");
        let out = cmd.output().unwrap();
        assert_eq!(out.stdout, "token=***\n");
        let err = cmd.failure(out.status, &out.stderr).to_string();
        assert_eq!(err, "`sh -c 'echo token=***; echo oops *** >&2; exit 3'` failed with exit status 3: oops ***");
    }

    #[test]
    fn longest_secret_is_masked_first() {
        let cmd = Cmd::new("true").redact("abc").redact("\"abc\"");
        assert_eq!(cmd.mask("x \"abc\" abc"), "x *** ***");
    }

    #[test]
    fn each_line_of_a_multi_line_secret_is_masked() {
        let cmd = Cmd::new("sh").arg("-c").arg("printf 'x first-half\\nsecond-half y\\n'").redact("first-half\nsecond-half");
        let mut streamed = Vec::new();
        cmd.stream(|_, line| streamed.push(line.to_owned())).unwrap();
        assert_eq!(streamed, ["x ***", "*** y"]);
        assert_eq!(cmd.output().unwrap().stdout, "x *** y\n");
    }

    #[test]
    fn missing_program_is_not_found() {
        let err = Cmd::new("eva-ha-no-such-program").output().unwrap_err();
        assert!(matches!(err, ProcessError::NotFound { .. }), "{err}");
        let err = Cmd::new("/nonexistent/prog").output().unwrap_err();
        assert!(matches!(err, ProcessError::NotFound { .. }), "{err}");
    }

    #[test]
    fn timeout_kills_the_group() {
        let started = Instant::now();
        let err = Cmd::new("sh").arg("-c").arg("sleep 30 & sleep 30").timeout(Duration::from_millis(200)).output().unwrap_err();
        assert!(matches!(err, ProcessError::TimedOut { .. }), "{err}");
        assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    }

    #[test]
    fn a_chatty_child_still_meets_its_deadline() {
        let started = Instant::now();
        let mut lines = 0;
        let err = Cmd::new("sh")
            .arg("-c")
            .arg("while :; do echo chatter; done")
            .timeout(Duration::from_millis(300))
            .stream(|_, _| lines += 1)
            .unwrap_err();
        assert!(matches!(err, ProcessError::TimedOut { .. }), "{err}");
        assert!(lines > 0);
        assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    }

    #[test]
    fn shell_quote_plain_and_odd_words() {
        assert_eq!(shell_quote("plain-word_1.sh"), "plain-word_1.sh");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
