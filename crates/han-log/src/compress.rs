//! `--compress-after N`: the days older than N days are gzipped. The gzip
//! file is written beside the plain one (atomically), read back and
//! compared byte for byte with it, and only then is the plain file removed.
//! A day that got readings again after it was compressed has both files;
//! the new readings are added to the gzip file as another member (readers
//! take `.jsonl.gz` then `.jsonl`, and members in order).

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use han_common::atomic::{sync_dir, write_atomic_with};
use han_common::logs::date_of;

use crate::store::Busy;

/// What a pass did with one file.
#[derive(Debug)]
pub enum Done {
    /// Compressed to this file.
    Compressed(PathBuf),
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
/// store has open.
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
        let result = compress(&path);
        if let Ok(mut b) = busy.lock() {
            b.compressing = None;
        }
        done.push(match result {
            Ok(gz) => Done::Compressed(gz),
            Err(e) => Done::Failed(path, e.to_string()),
        });
    }
    Ok(done)
}

/// `NAME` to `NAME.gz`, verified, then `NAME` removed.
fn compress(plain: &Path) -> io::Result<PathBuf> {
    let mut gz = plain.as_os_str().to_owned();
    gz.push(".gz");
    let gz = PathBuf::from(gz);
    let old = match std::fs::read(&gz) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    write_atomic_with(&gz, |out| {
        io::Write::write_all(out, &old)?;
        let mut enc = GzEncoder::new(out, Compression::default());
        io::copy(&mut BufReader::new(File::open(plain)?), &mut enc)?;
        enc.finish().map(drop)
    })?;
    // What the gzip file holds must be the old members, then the plain file.
    let expected = io::Cursor::new(&old);
    let expected: Box<dyn Read> = if old.is_empty() {
        Box::new(File::open(plain)?)
    } else {
        Box::new(MultiGzDecoder::new(expected).chain(File::open(plain)?))
    };
    if !same(MultiGzDecoder::new(File::open(&gz)?), expected)? {
        // Put the old gzip back (or none); the plain file stays.
        if old.is_empty() {
            std::fs::remove_file(&gz)?;
        } else {
            han_common::atomic::write_atomic(&gz, &old)?;
        }
        return Err(io::Error::other(format!("{} did not read back the same; kept the plain file", gz.display())));
    }
    std::fs::remove_file(plain)?;
    sync_dir(han_common::atomic::parent(plain))?;
    Ok(gz)
}

/// Whether two readers give the same bytes.
fn same(mut a: impl Read, mut b: impl Read) -> io::Result<bool> {
    let (mut x, mut y) = (vec![0u8; 64 * 1024], vec![0u8; 64 * 1024]);
    loop {
        let n = read_full(&mut a, &mut x)?;
        let m = read_full(&mut b, &mut y)?;
        if x.get(..n) != y.get(..m) {
            return Ok(false);
        }
        if n == 0 {
            return Ok(true);
        }
    }
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(buf.get_mut(n..).unwrap_or_default()) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
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
        std::fs::remove_dir_all(&dir).ok();
    }
}
