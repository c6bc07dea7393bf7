//! Our log: timestamped lines on stdout, one per step with its duration.
//!
//! CLUSTERPRO keeps what an Exec resource's script prints in the resource's log file, so
//! stdout *is* the log for an administrator after an incident: local timestamps (to line up
//! with the cluster's own logs), one line per step, and the elapsed time of each step as an
//! `elapsed=` field. `--log-format json` gives one JSON object per line for log shippers.

use std::fmt;
use std::time::{Duration, Instant};

use clap::ValueEnum;
use tracing::level_filters::LevelFilter;
use tracing_subscriber::fmt::time::ChronoLocal;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Timestamped human-readable lines.
    #[default]
    Human,
    /// One JSON object per line.
    Json,
}

/// Sets up the global subscriber. `verbosity` is the number of `-v` minus the number of
/// `-q`: 0 is info, 1 debug, 2 trace, -1 warnings and errors only, -2 errors only. Lines go
/// to stdout, or to stderr when `to_stderr`.
pub fn init(verbosity: i8, format: LogFormat, to_stderr: bool) {
    let level = match verbosity {
        i8::MIN..=-2 => LevelFilter::ERROR,
        -1 => LevelFilter::WARN,
        0 => LevelFilter::INFO,
        1 => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    };
    let writer = tracing_subscriber::fmt::writer::BoxMakeWriter::new(move || -> Box<dyn std::io::Write> {
        if to_stderr { Box::new(std::io::stderr()) } else { Box::new(std::io::stdout()) }
    });
    let builder = tracing_subscriber::fmt().with_max_level(level).with_writer(writer).with_ansi(false).with_target(false);
    // A second initialisation (only possible in tests) keeps the first one.
    let _ = match format {
        LogFormat::Human => builder.with_timer(ChronoLocal::new("%Y-%m-%d %H:%M:%S%.3f".to_owned())).try_init(),
        LogFormat::Json => builder.json().flatten_event(true).with_timer(ChronoLocal::rfc_3339()).try_init(),
    };
}

/// A duration shown as seconds with two decimals: `2.01s`.
#[derive(Clone, Copy, Debug)]
pub struct Secs(pub Duration);

impl fmt::Display for Secs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.as_secs_f64();
        if secs.fract() == 0.0 && secs >= 1.0 { write!(f, "{secs:.0}s") } else { write!(f, "{secs:.2}s") }
    }
}

/// Measures one step; [`Step::done`] logs its line with the elapsed time.
pub struct Step {
    started: Instant,
}

impl Step {
    pub fn start() -> Step {
        Step { started: Instant::now() }
    }

    pub fn elapsed(&self) -> Secs {
        Secs(self.started.elapsed())
    }

    pub fn done(self, message: fmt::Arguments<'_>) {
        tracing::info!(elapsed = %self.elapsed(), "{message}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secs_formatting() {
        assert_eq!(Secs(Duration::from_secs(1500)).to_string(), "1500s");
        assert_eq!(Secs(Duration::from_millis(2013)).to_string(), "2.01s");
        assert_eq!(Secs(Duration::from_millis(200)).to_string(), "0.20s");
    }
}
