//! `--compress-after N`: the days older than N days are gzipped, by the
//! merge han-log shares with logcopy (`han_common::gzday`): under the plain
//! file's lock, the plain file is added to `NAME.gz` as another gzip member
//! (the whole file when there is no gzip file yet), written atomically, read
//! back and compared, and only then removed. A day that got readings again
//! after it was compressed has both files; the next pass adds the new
//! readings the same way (readers take `.jsonl.gz` then `.jsonl`, and
//! members in order).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use han_common::gzday::{self, Merged};
use han_common::logs::date_of;

use crate::store::Busy;

/// What a pass did with one file.
#[derive(Debug)]
pub enum Done {
    /// Compressed to this file.
    Compressed(PathBuf),
    /// This file already held the plain file (a pass stopped before removing
    /// it): the plain file was removed.
    Finished(PathBuf),
    /// Left as it was, and why.
    Failed(PathBuf, String),
}

/// The plain day files (`.jsonl`, `.csv`) of `dir` older than `before`.
fn candidates(dir: &Path, before: NaiveDate) -> io::Result<Vec<(NaiveDate, PathBuf)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else { continue };
        let Some(date) = date_of(name, ".jsonl").or_else(|| date_of(name, ".csv")) else { continue };
        if date < before {
            out.push((date, path));
        }
    }
    out.sort();
    Ok(out)
}

/// Compresses every plain day file of `dir` older than `before` that no
/// store of this han-log has open, nor another process (logcopy) holds.
pub fn compress_old(dir: &Path, before: NaiveDate, busy: &Arc<Mutex<Busy>>) -> io::Result<Vec<Done>> {
    let mut done = Vec::new();
    for (date, path) in candidates(dir, before)? {
        {
            let mut b = busy.lock().map_err(|_| io::Error::other("lock poisoned"))?;
            if b.open.contains_key(&date) {
                continue;
            }
            b.compressing = Some(date);
        }
        let result = gzday::merge(&path);
        if let Ok(mut b) = busy.lock() {
            b.compressing = None;
        }
        match result {
            Ok(Merged::Appended(gz)) => done.push(Done::Compressed(gz)),
            Ok(Merged::Finished(gz)) => done.push(Done::Finished(gz)),
            // logcopy is at it, or was: its day, its turn.
            Ok(Merged::InUse | Merged::Gone) => {}
            Err(e) => done.push(Done::Failed(path, e.to_string())),
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use std::fs::File;
    use std::io::Read;

    use flate2::read::MultiGzDecoder;

    use super::*;

    #[test]
    fn old_days_compressed_verified_and_appended() {
        let dir = std::env::temp_dir().join(format!("han-log-compress-{}", std::process::id()));
        std::fs::remove_dir_all(&dir).ok();
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in [
            ("2025-01-01.jsonl", "a\nb\n"),
            ("2025-01-01.csv", "time\n1\n"),
            ("2025-01-02.jsonl", "c\n"),
            ("2025-01-03.jsonl", "today\n"),
            ("notes.txt", "x"),
        ] {
            std::fs::write(dir.join(name), text).unwrap();
        }
        let busy = Arc::new(Mutex::new(Busy::default()));
        busy.lock().unwrap().open.insert(NaiveDate::from_ymd_opt(2025, 1, 2).unwrap(), 1);
        let before = NaiveDate::from_ymd_opt(2025, 1, 3).unwrap();
        let done = compress_old(&dir, before, &busy).unwrap();
        assert_eq!(done.len(), 2, "{done:?}");
        let mut names: Vec<String> =
            std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        assert_eq!(
            names,
            ["2025-01-01.csv.gz", "2025-01-01.jsonl.gz", "2025-01-02.jsonl", "2025-01-03.jsonl", "notes.txt"]
        );
        // New readings for a compressed day, compressed again: one file, in order.
        std::fs::write(dir.join("2025-01-01.jsonl"), "late\n").unwrap();
        compress_old(&dir, before, &Arc::new(Mutex::new(Busy::default()))).unwrap();
        let mut text = String::new();
        MultiGzDecoder::new(File::open(dir.join("2025-01-01.jsonl.gz")).unwrap()).read_to_string(&mut text).unwrap();
        assert_eq!(text, "a\nb\nlate\n");
        assert!(!dir.join("2025-01-01.jsonl").exists());
        // A day another process holds (logcopy moving it) is left to it.
        std::fs::write(dir.join("2025-01-01.jsonl"), "later\n").unwrap();
        let Ok(gzday::Claimed::Yes(held)) = gzday::claim(&dir.join("2025-01-01.jsonl")) else { panic!("claimed") };
        let done = compress_old(&dir, before, &Arc::new(Mutex::new(Busy::default()))).unwrap();
        assert!(done.is_empty(), "{done:?}");
        assert!(dir.join("2025-01-01.jsonl").exists(), "left to its holder");
        drop(held);
        std::fs::remove_dir_all(&dir).ok();
    }
}
