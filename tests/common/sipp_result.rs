//! The outcome of a SIPp run: exit code, call counters from the `-trace_stat` CSV, the
//! `<log>` lines and the error trace, with helpers for assertions.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{Result, bail};

use super::process::tail;

/// The outcome of a finished run.
#[derive(Debug, Clone)]
pub struct SippResult {
    /// Exit code (0 all calls OK, 1 some failed, 97 internal exit, 99 no call, 255 fatal;
    /// 128 + signal when killed).
    pub exit_code: i32,
    /// `SuccessfulCall(C)` of the last stat line.
    pub successful: u64,
    /// `FailedCall(C)` of the last stat line.
    pub failed: u64,
    /// The whole last stat line by column name.
    pub stats: HashMap<String, String>,
    /// The `<log>` lines (`-log_file`).
    pub log: String,
    /// Unexpected messages and errors (`-error_file`).
    pub errors: String,
    /// The run's directory.
    pub dir: PathBuf,
}

impl SippResult {
    /// Ok when the exit code is 0 and at least one call succeeded and none failed; the error
    /// carries the logs.
    pub fn check(&self) -> Result<()> {
        if self.exit_code == 0 && self.failed == 0 && self.successful > 0 {
            return Ok(());
        }
        bail!("{}", self.describe())
    }

    /// A summary with the tails of the logs, for assertion messages.
    pub fn describe(&self) -> String {
        format!(
            "sipp in {:?}: exit {} successful {} failed {}\nlog:\n{}\nerrors:\n{}",
            self.dir,
            self.exit_code,
            self.successful,
            self.failed,
            tail(&self.log, 20),
            tail(&self.errors, 20)
        )
    }

    /// `<log>` lines that start with `prefix`.
    pub fn log_lines<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = &'a str> {
        self.log.lines().filter(move |l| l.starts_with(prefix))
    }
}

/// The last line of a `;`-separated SIPp stat CSV, keyed by the header's column names.
pub fn parse_stat_csv(text: &str) -> HashMap<String, String> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let Some(header) = lines.next() else {
        return HashMap::new();
    };
    let Some(last) = lines.next_back() else {
        return HashMap::new();
    };
    header
        .split(';')
        .map(str::to_owned)
        .zip(last.split(';').map(str::to_owned))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_csv_last_line_by_column() {
        let csv = "A;SuccessfulCall(C);FailedCall(C);\n1;0;0;\n2;3;1;\n";
        let s = parse_stat_csv(csv);
        assert_eq!(s["SuccessfulCall(C)"], "3");
        assert_eq!(s["FailedCall(C)"], "1");
        assert!(parse_stat_csv("A;B\n").is_empty());
    }
}
