//! The running dialplan: loaded at start-up, reloaded on SIGHUP and when a file in the
//! directory changes. A reload that fails validation keeps the running version and logs
//! every error; calls in progress keep the `Arc<Dialplan>` they started with.
//!
//! Owns: the current `Arc<Dialplan>` and the watcher task (the only shell in `dialplan`).
//! Driven by: `server` (start-up, watcher), `main` (`centrala check`), calls (`current`).

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use super::{Dialplan, DialplanError};

/// How often the directory is checked for changes.
const POLL: Duration = Duration::from_secs(2);

/// The dialplan in force, swappable at run time.
pub struct LiveDialplan {
    current: RwLock<Arc<Dialplan>>,
    dir: PathBuf,
    sounds: PathBuf,
}

impl LiveDialplan {
    /// Loads `dir`, checking prompts against `sounds/<lang>/<prompt>.wav`.
    pub fn load(dir: &Path, sounds: &Path) -> Result<Arc<LiveDialplan>, Vec<DialplanError>> {
        let dialplan = load(dir, sounds)?;
        Ok(Arc::new(LiveDialplan {
            current: RwLock::new(Arc::new(dialplan)),
            dir: dir.to_path_buf(),
            sounds: sounds.to_path_buf(),
        }))
    }

    /// The version new calls use.
    pub fn current(&self) -> Arc<Dialplan> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Loads the directory again; on errors the running version stays and they are logged.
    pub fn reload(&self) -> Result<(), Vec<DialplanError>> {
        match load(&self.dir, &self.sounds) {
            Ok(dialplan) => {
                *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(dialplan);
                tracing::info!(dir = %self.dir.display(), "dialplan reloaded");
                Ok(())
            }
            Err(errors) => {
                for error in &errors {
                    tracing::error!(%error, "dialplan reload refused; the running version stays");
                }
                Err(errors)
            }
        }
    }

    /// Reloads on SIGHUP and whenever a file of the directory changes.
    pub fn watch(self: &Arc<Self>) {
        let live = self.clone();
        tokio::spawn(async move {
            let mut stamp = directory_stamp(&live.dir);
            let mut tick = tokio::time::interval(POLL);
            #[cfg(unix)]
            let mut hangup =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
            loop {
                #[cfg(unix)]
                let signalled = async {
                    match hangup.as_mut() {
                        Some(signal) => {
                            signal.recv().await;
                        }
                        None => std::future::pending().await,
                    }
                };
                #[cfg(not(unix))]
                let signalled = std::future::pending::<()>();
                tokio::select! {
                    () = signalled => {
                        tracing::info!("SIGHUP: reloading the dialplan");
                        let _ = live.reload();
                    }
                    _ = tick.tick() => {
                        let now = directory_stamp(&live.dir);
                        if now != stamp {
                            stamp = now;
                            let _ = live.reload();
                        }
                    }
                }
            }
        });
    }
}

/// Loads `dir` (an absent directory is an empty dialplan, for deployments without IVR).
pub fn load(dir: &Path, sounds: &Path) -> Result<Dialplan, Vec<DialplanError>> {
    if !dir.exists() {
        tracing::warn!(dir = %dir.display(), "no dialplan directory; only extensions are reachable");
        return Dialplan::load_sources(&[], &|_, _| true);
    }
    let sounds = sounds.to_path_buf();
    Dialplan::load_dir(dir, &move |lang, prompt| {
        sounds.join(lang).join(format!("{prompt}.wav")).is_file()
    })
}

/// The newest modification time and the count of the directory's entries.
fn directory_stamp(dir: &Path) -> (Option<SystemTime>, usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (None, 0);
    };
    let mut newest = None;
    let mut count = 0;
    for entry in entries.flatten() {
        count += 1;
        let modified = entry.metadata().and_then(|m| m.modified()).ok();
        newest = newest.max(modified);
    }
    (newest, count)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "languages: [en]\nroutes:\n  - number: \"5000\"\n    flow: main\n\
                        flows:\n  main:\n    steps:\n      - answer\n      - hangup\n";

    #[test]
    fn a_broken_reload_keeps_the_running_version() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("plan.yaml"), GOOD).unwrap();
        let live = LiveDialplan::load(dir.path(), dir.path()).unwrap();
        let before = live.current();
        assert!(before.route("5000", None).is_some());
        std::fs::write(
            dir.path().join("plan.yaml"),
            "flows:\n  main:\n    steps:\n      - goto: nowhere\n",
        )
        .unwrap();
        let errors = live.reload().unwrap_err();
        assert!(
            errors.iter().any(|e| e.to_string().contains("plan.yaml:")),
            "{errors:?}"
        );
        assert!(Arc::ptr_eq(&before, &live.current()));
        std::fs::write(dir.path().join("plan.yaml"), GOOD.replace("5000", "5001")).unwrap();
        live.reload().unwrap();
        assert!(live.current().route("5001", None).is_some());
        assert!(
            before.route("5000", None).is_some(),
            "calls in progress keep their version"
        );
    }

    #[test]
    fn a_missing_directory_is_an_empty_dialplan() {
        let plan = load(
            Path::new("/nonexistent/dialplans"),
            Path::new("/nonexistent"),
        )
        .unwrap();
        assert!(plan.route("5000", None).is_none());
    }
}
