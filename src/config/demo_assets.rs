//! Where the dialplan and prompt directories are, and the built-in demo's copy of both.
//!
//! Owns: the demo's `dialplans/*.yaml` and `sounds/**/*.wav`, embedded in the binary by
//! `build.rs`, and the decision made at load time:
//! - a directory the configuration file names (`[dialplan] dir`, `[media] sounds_dir`) must
//!   exist, else a `file:line` error (before, a missing dialplan directory was an empty
//!   dialplan and `check` said OK);
//! - a directory the configuration leaves at its default (`dialplans`, `sounds`, relative to the
//!   working directory) is used when it exists (a source checkout, where the files can be
//!   edited and are reloaded on change); when it does not, the embedded demo copy is written
//!   under `data/demo/` (only files that differ) and used, so `centrala serve` has its IVR
//!   and prompts whatever the working directory.
//!
//! Must not touch: any other file. Driven by `Config::load`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{Config, ConfigError};

include!(concat!(env!("OUT_DIR"), "/demo_assets.rs"));

/// Where the embedded demo files are written (next to the demo's SQLite database).
pub const DEMO_ROOT: &str = "data/demo";

/// The lines of the configuration file that set the two directories, if it sets them.
#[derive(Debug, Default, Deserialize)]
pub(super) struct DirPlaces {
    #[serde(default)]
    dialplan: DialplanPlace,
    #[serde(default)]
    media: MediaPlace,
}

#[derive(Debug, Default, Deserialize)]
struct DialplanPlace {
    dir: Option<toml::Spanned<PathBuf>>,
}

#[derive(Debug, Default, Deserialize)]
struct MediaPlace {
    sounds_dir: Option<toml::Spanned<PathBuf>>,
}

impl DirPlaces {
    /// Reads the places from the file's text (which has already parsed as a `Config`).
    pub(super) fn find(text: &str) -> DirPlaces {
        toml::from_str(text).unwrap_or_default()
    }
}

/// Checks configured directories and falls back to the embedded demo for defaults that are
/// absent. `origin` and `text` are the file's name and content (`None`: no file).
pub(super) fn resolve(
    config: &mut Config,
    origin: &str,
    text: Option<&str>,
) -> Result<(), ConfigError> {
    let places = text.map(DirPlaces::find).unwrap_or_default();
    let line = |offset: usize| super::line_of(text.unwrap_or(""), offset);
    match &places.dialplan.dir {
        Some(dir) => require_dir(
            &config.dialplan.dir,
            "dialplan.dir",
            origin,
            line(dir.span().start),
        )?,
        None if !config.dialplan.dir.exists() => {
            config.dialplan.dir = install(Path::new(DEMO_ROOT), "dialplans", DIALPLANS, origin)?;
        }
        None => {}
    }
    match &places.media.sounds_dir {
        Some(dir) => require_dir(
            &config.media.sounds_dir,
            "media.sounds_dir",
            origin,
            line(dir.span().start),
        )?,
        None if !config.media.sounds_dir.exists() => {
            config.media.sounds_dir = install(Path::new(DEMO_ROOT), "sounds", SOUNDS, origin)?;
        }
        None => {}
    }
    Ok(())
}

fn require_dir(dir: &Path, key: &str, origin: &str, line: usize) -> Result<(), ConfigError> {
    if dir.is_dir() {
        return Ok(());
    }
    Err(ConfigError::Syntax {
        path: origin.to_string(),
        line,
        message: format!("{key} '{}' is not a directory", dir.display()),
    })
}

/// Writes `files` under `root/name` (skipping files already equal) and returns that directory.
fn install(
    root: &Path,
    name: &str,
    files: &[(&str, &[u8])],
    origin: &str,
) -> Result<PathBuf, ConfigError> {
    let dir = root.join(name);
    let failed = |path: &Path, err: std::io::Error| ConfigError::Invalid {
        path: origin.to_string(),
        message: format!("writing the built-in demo file {}: {err}", path.display()),
    };
    for (rel, bytes) in files {
        let path = dir.join(rel);
        if std::fs::read(&path).is_ok_and(|old| old == *bytes) {
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| failed(parent, e))?;
        }
        std::fs::write(&path, bytes).map_err(|e| failed(&path, e))?;
    }
    tracing::info!(dir = %dir.display(), "using the built-in demo {name}");
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_dialplan_and_its_prompts_are_embedded() {
        assert!(DIALPLANS.iter().any(|(name, _)| *name == "demo.yaml"));
        assert!(SOUNDS.iter().any(|(name, _)| *name == "en/welcome.wav"));
        assert!(SOUNDS.iter().any(|(name, _)| *name == "moh/default.wav"));
    }

    #[test]
    fn a_missing_configured_dialplan_dir_names_its_line() {
        let text = "[sip]\n\n[dialplan]\ndir = \"/nonexistent/plans\"\n";
        let mut config = Config::parse(text, "c.toml").unwrap();
        let err = resolve(&mut config, "c.toml", Some(text)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "c.toml:4: dialplan.dir '/nonexistent/plans' is not a directory"
        );
    }

    #[test]
    fn absent_defaults_are_installed_from_the_binary_once() {
        let root = tempfile::tempdir().unwrap();
        let dir = install(root.path(), "sounds", SOUNDS, "x").unwrap();
        let welcome = dir.join("en/welcome.wav");
        assert!(welcome.is_file());
        let stamp = std::fs::metadata(&welcome).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        install(root.path(), "sounds", SOUNDS, "x").unwrap();
        assert_eq!(
            std::fs::metadata(&welcome).unwrap().modified().unwrap(),
            stamp
        );
    }
}
