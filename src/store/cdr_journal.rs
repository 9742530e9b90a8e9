//! The CDR journal: a local append-only file of CDRs that could not be written to the
//! database, replayed into it when it answers again (and at start-up).
//!
//! Owns the file format (one JSON CDR per line, each append followed by `fsync`) and its
//! three operations: append, read back, clear. A torn last line (a crash in the middle of an
//! append) is skipped on reading: its CDRs were never acknowledged. Must not touch the
//! database: the CDR writer (`calls/cdr_writer.rs`) decides when to spill and replay. Plain
//! `std::fs` because it is used only while the database is failing, a rare and slow path.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::CdrRecord;

/// Where the CDR writer keeps its journal, relative to the working directory (next to the
/// demo's SQLite database).
pub const DEFAULT_PATH: &str = "data/cdr-journal.jsonl";

/// One journal file.
#[derive(Debug, Clone)]
pub struct CdrJournal {
    path: PathBuf,
}

impl CdrJournal {
    /// The journal at `path` (created on the first append).
    pub fn at(path: impl Into<PathBuf>) -> CdrJournal {
        CdrJournal { path: path.into() }
    }

    /// Its file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `cdrs` and syncs them to disk before returning.
    pub fn append(&self, cdrs: &[CdrRecord]) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut text = Vec::new();
        for cdr in cdrs {
            serde_json::to_writer(&mut text, cdr)?;
            text.push(b'\n');
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        file.write_all(&text)?;
        file.sync_data()
    }

    /// Every whole CDR in the journal, oldest first (none when there is no file).
    pub fn read(&self) -> std::io::Result<Vec<CdrRecord>> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(err),
        };
        let mut cdrs = Vec::new();
        for (n, line) in text.lines().enumerate() {
            match serde_json::from_str(line) {
                Ok(cdr) => cdrs.push(cdr),
                Err(err) => tracing::warn!(
                    journal = %self.path.display(),
                    line = n + 1,
                    error = %err,
                    "skipping a torn CDR journal line (never acknowledged)"
                ),
            }
        }
        Ok(cdrs)
    }

    /// Removes the journal once its CDRs are in the database.
    pub fn clear(&self) -> std::io::Result<()> {
        match std::fs::remove_file(&self.path) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(err),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::sample_cdr as cdr;

    #[test]
    fn appended_cdrs_read_back_in_order_and_a_torn_line_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let journal = CdrJournal::at(dir.path().join("sub/j.jsonl"));
        assert!(journal.read().unwrap().is_empty());
        journal.append(&[cdr("a"), cdr("b")]).unwrap();
        journal.append(&[cdr("c")]).unwrap();
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(journal.path())
            .unwrap();
        file.write_all(b"{\"id\":\"d\",\"call_").unwrap();
        let ids: Vec<String> = journal.read().unwrap().into_iter().map(|c| c.id).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        assert_eq!(journal.read().unwrap()[0], cdr("a"));
        journal.clear().unwrap();
        assert!(journal.read().unwrap().is_empty());
        journal.clear().unwrap();
    }
}
