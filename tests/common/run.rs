//! What a run left behind, and the expectations on it: its exit status and output, what
//! the fakes recorded, and assertions that fail pointing at the test's line. [`Argv`] reads
//! a recorded invocation by flag name, never by position.

use std::path::PathBuf;
use std::process::Output;
use std::time::{Duration, Instant};

use super::{IDS, TOKEN, Test, alive};

/// What a run left behind; it owns the test, so the node stays until the run is dropped
/// (`run.test` runs again on the same node).
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    pub root: PathBuf,
    pub test: Test,
}

impl Run {
    pub fn from_output(out: Output, elapsed: Duration, test: Test) -> Run {
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            elapsed,
            root: test.root().to_owned(),
            test,
        }
    }

    /// Everything a failed assertion shows: the output and what the fakes were asked.
    pub fn dump(&self) -> String {
        let mut dump = format!("--- stdout\n{}--- stderr\n{}--- calls\n{}", self.stdout, self.stderr, self.calls().join("\n"));
        for engine in ["docker", "podman"] {
            if self.root.join(engine).exists() {
                let calls: Vec<String> = self.engine_calls(engine).iter().map(|c| c.join(" ")).collect();
                dump.push_str(&format!("\n--- {engine} calls\n{}", calls.join("\n")));
            }
        }
        dump
    }

    /// The invocations of the fake `engine` (`docker`, `podman`), each as its arguments.
    pub fn engine_calls(&self, engine: &str) -> Vec<Vec<String>> {
        self.test.node.engine_calls(engine)
    }

    /// The fake `engine`'s invocations of `verb` (`events`, `inspect`, `version`, `ps`).
    pub fn engine_calls_of(&self, engine: &str, verb: &str) -> Vec<Vec<String>> {
        self.engine_calls(engine).into_iter().filter(|c| c.verb() == verb).collect()
    }

    /// The invocations of the fake docker.
    pub fn docker_calls(&self) -> Vec<Vec<String>> {
        self.engine_calls("docker")
    }

    /// The fake docker's invocations of `verb` (`events`, `inspect`, `version`, `ps`).
    pub fn docker_calls_of(&self, verb: &str) -> Vec<Vec<String>> {
        self.engine_calls_of("docker", verb)
    }

    /// Waits until the fake `engine` has had at least `n` invocations of `verb` (at most
    /// `within`): for what a process the run left behind (a watcher) does later.
    #[track_caller]
    pub fn wait_calls_of(&self, engine: &str, verb: &str, n: usize, within: Duration) -> &Run {
        let until = Instant::now() + within;
        while self.engine_calls_of(engine, verb).len() < n {
            assert!(Instant::now() < until, "fewer than {n} {engine} {verb} within {within:?}\n{}", self.dump());
            std::thread::sleep(Duration::from_millis(50));
        }
        self
    }

    /// The systemctl invocations, one per line (`start -- docker mongod.service …`).
    pub fn calls(&self) -> Vec<String> {
        self.test.node.systemctl_calls()
    }

    /// The calls that change something (not show/is-active).
    pub fn changes(&self) -> Vec<String> {
        self.calls().into_iter().filter(|c| !c.starts_with("show") && !c.starts_with("is-active")).collect()
    }

    pub fn state(&self, id: &str) -> String {
        self.test.node.state(id)
    }

    pub fn master(&self, name: &str) -> Option<String> {
        self.test.node.master(name)
    }

    pub fn master_bytes(&self, name: &str) -> Option<Vec<u8>> {
        self.test.node.master_bytes(name)
    }

    /// The pids written in a file under the node's directory (`master/child.pid`).
    #[track_caller]
    pub fn pids(&self, rel: &str) -> Vec<i32> {
        let text = std::fs::read_to_string(self.root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}\n{}", self.dump()));
        text.split_whitespace().map(|p| p.parse().unwrap()).collect()
    }

    /// Asserts that the processes whose pids are in `rel` are all gone.
    #[track_caller]
    pub fn assert_gone(&self, rel: &str) -> &Run {
        let pids = self.pids(rel);
        assert!(!pids.is_empty(), "no pid in {rel}");
        for pid in pids {
            assert!(!alive(pid), "process {pid} from {rel} is still running\n{}", self.dump());
        }
        self
    }

    /// The calls of the fake clplogcmd, each as its argument list.
    pub fn alerts(&self) -> Vec<Vec<String>> {
        self.test.node.alerts()
    }

    /// The number of lines in `master/stop.count`: how often the stop script ran.
    pub fn stop_script_runs(&self) -> usize {
        self.master("stop.count").map_or(0, |s| s.lines().count())
    }

    /// The error line `main` printed: the last ERROR line of stdout.
    pub fn error_line(&self) -> &str {
        self.stdout.lines().rev().find(|l| l.contains(" ERROR ")).unwrap_or("")
    }

    #[track_caller]
    pub fn assert_stdout_contains(&self, needle: &str) -> &Run {
        assert!(self.stdout.contains(needle), "stdout lacks {needle:?}\n{}", self.dump());
        self
    }

    #[track_caller]
    pub fn assert_stdout_lacks(&self, needle: &str) -> &Run {
        assert!(!self.stdout.contains(needle), "stdout has {needle:?}\n{}", self.dump());
        self
    }

    /// The run ended with one error line, the last line of stdout, from `name`
    /// (`eva-start`) and containing each of `needles`; nothing went to stderr, and the
    /// token appears nowhere.
    #[track_caller]
    pub fn assert_error(&self, name: &str, needles: &[&str]) -> &Run {
        let last = self.stdout.lines().last().unwrap_or("");
        assert!(last.contains(&format!(" ERROR {name}: ")), "last line is not {name}'s error line\n{}", self.dump());
        for needle in needles {
            assert!(last.contains(needle), "error line lacks {needle:?}: {last}\n{}", self.dump());
        }
        assert_eq!(self.stderr, "", "stderr\n{}", self.dump());
        self.assert_token_hidden()
    }

    /// Nothing was changed: no systemctl start, stop or reset-failed, no master script run.
    #[track_caller]
    pub fn assert_untouched(&self) -> &Run {
        assert_eq!(self.changes(), Vec::<String>::new(), "{}", self.dump());
        assert_eq!(self.master("argc"), None, "the start script ran\n{}", self.dump());
        assert_eq!(self.stop_script_runs(), 0, "the stop script ran\n{}", self.dump());
        self
    }

    /// Each default unit is in `state` (`active`, `inactive`).
    #[track_caller]
    pub fn assert_states(&self, state: &str) -> &Run {
        for id in IDS {
            assert_eq!(self.state(id), state, "{id}\n{}", self.dump());
        }
        self
    }

    #[track_caller]
    pub fn assert_elapsed_below(&self, limit: Duration) -> &Run {
        assert!(self.elapsed < limit, "took {:?}, limit {limit:?}\n{}", self.elapsed, self.dump());
        self
    }

    /// No trace of the worker token anywhere we print.
    #[track_caller]
    pub fn assert_token_hidden(&self) -> &Run {
        for out in [&self.stdout, &self.stderr] {
            assert!(!out.contains(TOKEN), "token leaked\n{}", self.dump());
        }
        self
    }
}

/// The flags that take a value in what the fakes are asked: the runtime's
/// (`events --filter X --since X --format X`, `inspect --type X`, `version --format X`) and
/// clplogcmd's (`-m MESSAGE -l LEVEL`).
const VALUED_FLAGS: [&str; 6] = ["--filter", "--since", "--format", "--type", "-m", "-l"];

/// One recorded invocation of a fake (its arguments, the program's name left out), read by
/// what each argument is rather than where it stands.
pub trait Argv {
    /// The command (`events`, `inspect`): the first argument.
    fn verb(&self) -> &str;
    /// The value of the first `FLAG VALUE` or `FLAG=VALUE` with this flag (`--since`).
    fn flag(&self, name: &str) -> Option<&str>;
    /// The values of every `FLAG VALUE` or `FLAG=VALUE` with this flag, in order (`--filter`).
    fn flags(&self, name: &str) -> Vec<&str>;
    /// The operands after the verb: neither a flag (`--all`) nor a flag's value (see
    /// VALUED_FLAGS); `inspect --type container ID…` gives the ids.
    fn operands(&self) -> Vec<&str>;
}

impl Argv for [String] {
    fn verb(&self) -> &str {
        self.first().map_or("", String::as_str)
    }

    fn flag(&self, name: &str) -> Option<&str> {
        self.flags(name).into_iter().next()
    }

    fn flags(&self, name: &str) -> Vec<&str> {
        let mut values = Vec::new();
        let mut args = self.iter();
        while let Some(arg) = args.next() {
            if arg == name {
                if let Some(value) = args.next() {
                    values.push(value.as_str());
                }
            } else if let Some(value) = arg.strip_prefix(name).and_then(|rest| rest.strip_prefix('=')) {
                values.push(value);
            }
        }
        values
    }

    fn operands(&self) -> Vec<&str> {
        let mut operands = Vec::new();
        let mut args = self.iter().skip(1);
        while let Some(arg) = args.next() {
            if VALUED_FLAGS.contains(&arg.as_str()) {
                args.next();
            } else if !arg.starts_with('-') {
                operands.push(arg.as_str());
            }
        }
        operands
    }
}
