//! Child processes of a test and the test's output directory.
//!
//! [`Proc`] starts a command in its own process group with stdout and stderr in files of the
//! test dir, and on Drop stops the whole group (SIGTERM, then SIGKILL after a grace). When the
//! test is failing (the thread is panicking during Drop) it prints the tail of its logs.
//! [`TestDir`] is `target/e2e/<test-name>-<pid>/`, emptied at start and kept after the run.

use std::fs::File;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// SIGKILL.
pub const SIGKILL: i32 = 9;
/// SIGUSR1 (SIPp: soft stop).
pub const SIGUSR1: i32 = 10;
/// SIGTERM.
pub const SIGTERM: i32 = 15;
/// SIGINT.
pub const SIGINT: i32 = 2;

/// Grace between SIGTERM and SIGKILL on Drop.
const GRACE: Duration = Duration::from_secs(3);
/// Lines of each log printed when a test fails.
const TAIL_LINES: usize = 30;

/// A per-test output directory under `target/e2e/`, kept after the run.
#[derive(Debug, Clone)]
pub struct TestDir {
    path: PathBuf,
}

impl TestDir {
    /// Creates (or empties) `target/e2e/<name>-<pid>/`.
    pub fn new(name: &str) -> Result<TestDir> {
        let path = target_dir()
            .join("e2e")
            .join(format!("{name}-{}", std::process::id()));
        if path.exists() {
            std::fs::remove_dir_all(&path).with_context(|| format!("emptying {path:?}"))?;
        }
        std::fs::create_dir_all(&path).with_context(|| format!("creating {path:?}"))?;
        Ok(TestDir { path })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A path inside the directory.
    pub fn join(&self, name: impl AsRef<Path>) -> PathBuf {
        self.path.join(name)
    }

    /// A sub-directory, created if missing.
    pub fn subdir(&self, name: &str) -> Result<TestDir> {
        let path = self.path.join(name);
        std::fs::create_dir_all(&path).with_context(|| format!("creating {path:?}"))?;
        Ok(TestDir { path })
    }
}

/// A started child process (leader of its own process group).
#[derive(Debug)]
pub struct Proc {
    name: String,
    child: Child,
    status: Option<ExitStatus>,
    stdout: PathBuf,
    stderr: PathBuf,
    /// Extra files whose tail is printed on failure (e.g. a SIPp error log).
    extra_logs: Vec<PathBuf>,
}

impl Proc {
    /// Starts `cmd` as `name`: own process group, stdin null, stdout/stderr to
    /// `<dir>/<name>.out` and `<dir>/<name>.err`.
    pub fn spawn(dir: &Path, name: &str, mut cmd: Command) -> Result<Proc> {
        let stdout = dir.join(format!("{name}.out"));
        let stderr = dir.join(format!("{name}.err"));
        cmd.stdin(Stdio::null())
            .stdout(File::create(&stdout)?)
            .stderr(File::create(&stderr)?)
            .process_group(0);
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {name}: {cmd:?}"))?;
        Ok(Proc {
            name: name.to_owned(),
            child,
            status: None,
            stdout,
            stderr,
            extra_logs: vec![],
        })
    }

    /// Also print the tail of `path` when the test fails.
    pub fn add_log(&mut self, path: PathBuf) {
        self.extra_logs.push(path);
    }

    /// The process id (= its process group id).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The name given at spawn.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Path of the stdout file.
    pub fn stdout_path(&self) -> &Path {
        &self.stdout
    }

    /// Path of the stderr file.
    pub fn stderr_path(&self) -> &Path {
        &self.stderr
    }

    /// Exit status if it has exited (reaps it).
    pub fn try_wait(&mut self) -> Result<Option<ExitStatus>> {
        if self.status.is_none() {
            self.status = self.child.try_wait()?;
        }
        Ok(self.status)
    }

    /// Waits at most `timeout` for the exit; `None` when still running.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Result<Option<ExitStatus>> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.try_wait()? {
                return Ok(Some(status));
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends `sig` to the process itself (not its group).
    pub fn signal(&mut self, sig: i32) {
        if self.try_wait().ok().flatten().is_none() {
            send_signal(self.pid() as i32, sig);
        }
    }

    /// Stops the whole group: SIGTERM, SIGKILL after `grace`; returns the leader's status.
    pub fn stop(&mut self, grace: Duration) -> Option<ExitStatus> {
        let pgid = -(self.pid() as i32);
        send_signal(pgid, SIGTERM);
        let status = self.wait_timeout(grace).ok().flatten();
        send_signal(pgid, SIGKILL);
        match status {
            Some(status) => Some(status),
            None => self.wait_timeout(Duration::from_secs(2)).ok().flatten(),
        }
    }

    /// SIGKILL to the whole group at once (crash test), then reaps the leader.
    pub fn kill9(&mut self) -> Option<ExitStatus> {
        send_signal(-(self.pid() as i32), SIGKILL);
        self.wait_timeout(Duration::from_secs(5)).ok().flatten()
    }

    /// The last `lines` lines of stdout and stderr and the extra logs, labelled.
    pub fn log_tail(&self, lines: usize) -> String {
        let mut out = String::new();
        for path in [&self.stdout, &self.stderr]
            .into_iter()
            .chain(&self.extra_logs)
        {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            if !text.trim().is_empty() {
                out.push_str(&format!(
                    "--- {} ({}):\n{}\n",
                    self.name,
                    path.display(),
                    tail(&text, lines)
                ));
            }
        }
        out
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.stop(GRACE);
        if std::thread::panicking() {
            eprintln!("{}", self.log_tail(TAIL_LINES));
        }
    }
}

/// Exit code for a status: the code, or 128 + signal when killed.
pub fn exit_code(status: ExitStatus) -> i32 {
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

/// The last `lines` lines of `text`.
pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Polls `f` every 50 ms until it returns `Some`, or `timeout`.
pub fn wait_until<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `cargo`'s target dir: the ancestor of the test executable that holds `debug`/`release`.
fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe().ok();
    // <target>/<profile>/deps/<test-binary>
    exe.as_deref()
        .and_then(|e| e.parent())
        .filter(|deps| deps.ends_with("deps"))
        .and_then(|deps| deps.parent()?.parent())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
}

unsafe extern "C" {
    /// kill(2) from the C library std already links.
    fn kill(pid: i32, sig: i32) -> i32;
}

/// kill(2): `pid < 0` signals the process group `-pid`. Errors (ESRCH) are ignored.
pub fn send_signal(pid: i32, sig: i32) {
    if pid == 0 || pid == -1 {
        return; // never the caller's own group or every process
    }
    // SAFETY: kill(2) takes plain integers and has no memory effects.
    unsafe {
        kill(pid, sig);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_is_killed_on_drop_and_logs_are_files() {
        let dir = TestDir::new("process-selftest").unwrap();
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo hello; sleep 30 & wait"]);
        let p = Proc::spawn(dir.path(), "sleeper", cmd).unwrap();
        let pid = p.pid() as i32;
        std::thread::sleep(Duration::from_millis(200));
        let started = Instant::now();
        drop(p);
        assert!(started.elapsed() < Duration::from_secs(3));
        // the group (sh and its sleep child) is gone
        assert!(std::fs::read_to_string(format!("/proc/{pid}/stat")).is_err());
        assert_eq!(
            std::fs::read_to_string(dir.join("sleeper.out")).unwrap(),
            "hello\n"
        );
    }

    #[test]
    fn wait_timeout_reports_exit_code() {
        let dir = TestDir::new("process-exit").unwrap();
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "exit 3"]);
        let mut p = Proc::spawn(dir.path(), "exit3", cmd).unwrap();
        let status = p.wait_timeout(Duration::from_secs(5)).unwrap().unwrap();
        assert_eq!(exit_code(status), 3);
        assert_eq!(tail("a\nb\nc", 2), "b\nc");
    }
}
