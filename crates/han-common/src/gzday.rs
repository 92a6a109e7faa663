//! A day's plain log file (`YYYY-MM-DD.jsonl`, `.csv`) merged into its
//! gzip file (`NAME.gz`), and when a day file is closed: the one rule and
//! the one merge han-log's compressor and logcopy share.
//!
//! The processes agree through an advisory lock (`flock`) on the plain
//! file: han-log holds it (shared) on every day file it has open, from
//! opening it to closing it; a merge, and logcopy moving a plain file, hold
//! it exclusively. So a day is closed when its date is before today in the
//! log's zone and its lock can be had. A merge removes the plain file while
//! it holds the lock, so whoever takes the lock next checks that the name
//! still leads to the file it locked.
//!
//! A merge adds the plain file to the gzip file as another gzip member
//! (readers take the members in order), writes it atomically, reads it back
//! and compares, and only then removes the plain file. A merge stopped
//! after the gzip file was written and before the plain file was removed
//! (a crash, a kill) leaves a gzip file that already ends with the plain
//! file's bytes; the next merge sees that and only removes the plain file,
//! so no reading is stored twice.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use fs4::FileExt;

use crate::atomic::{parent, sync_dir, write_atomic, write_atomic_with};

/// A merge that failed; the plain file is kept.
#[derive(Debug, thiserror::Error)]
pub enum GzDayError {
    /// A file could not be read, written, locked or removed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: io::Error,
    },
    /// The gzip file written did not read back as the old one and the
    /// plain file; the old gzip file (or none) was put back.
    #[error("{0} did not read back the same; kept the plain file")]
    Verify(PathBuf),
}

fn at(path: &Path) -> impl FnOnce(io::Error) -> GzDayError + '_ {
    move |source| GzDayError::Io { path: path.to_owned(), source }
}

/// The gzip file of a plain day file: `NAME.gz`.
pub fn gz_path(plain: &Path) -> PathBuf {
    let mut gz = plain.as_os_str().to_owned();
    gz.push(".gz");
    PathBuf::from(gz)
}

/// Where a day file stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayState {
    /// Its day is over and no process has it open: it may be merged or moved.
    Closed,
    /// Its day is today or later.
    NotOver,
    /// A process holds its lock: a han-log has it open (or a merge or a
    /// logcopy is at it).
    InUse,
    /// It is not there (any more).
    Gone,
}

/// Whether the plain day file `plain` of `date` is closed, `today` being
/// today's date in the log's zone: the day is over and no process holds the
/// file's lock (taken and let go at once).
pub fn state(plain: &Path, date: NaiveDate, today: NaiveDate) -> Result<DayState, GzDayError> {
    if date >= today {
        return Ok(DayState::NotOver);
    }
    Ok(match claim(plain)? {
        Claimed::Yes(_) => DayState::Closed,
        Claimed::InUse => DayState::InUse,
        Claimed::Gone => DayState::Gone,
    })
}

/// The exclusive lock on a plain day file, held until dropped: no han-log
/// appends to the file meanwhile, and no other merge or logcopy takes it.
#[derive(Debug)]
pub struct Claim {
    file: File,
    path: PathBuf,
}

/// What [`claim`] got.
#[derive(Debug)]
pub enum Claimed {
    /// The lock, on the file the name leads to.
    Yes(Claim),
    /// Another process holds the file's lock.
    InUse,
    /// The file is not there.
    Gone,
}

/// Takes the exclusive lock of a plain day file without waiting.
pub fn claim(plain: &Path) -> Result<Claimed, GzDayError> {
    // Each round: the name led to a file that was merged away and made anew
    // between the open and the lock; the new one is tried.
    for _ in 0..3 {
        let file = match File::open(plain) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Claimed::Gone),
            Err(e) => return Err(at(plain)(e)),
        };
        match FileExt::try_lock(&file) {
            Ok(()) => {}
            Err(fs4::TryLockError::WouldBlock) => return Ok(Claimed::InUse),
            Err(fs4::TryLockError::Error(e)) => return Err(at(plain)(e)),
        }
        match still_named(plain, &file) {
            Ok(true) => return Ok(Claimed::Yes(Claim { file, path: plain.to_owned() })),
            Ok(false) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Claimed::Gone),
            Err(e) => return Err(at(plain)(e)),
        }
    }
    Ok(Claimed::InUse)
}

/// Whether `path` still names the open `file` (not removed, nor replaced).
pub fn still_named(path: &Path, file: &File) -> io::Result<bool> {
    let (named, open) = (std::fs::metadata(path)?, file.metadata()?);
    Ok(named.dev() == open.dev() && named.ino() == open.ino())
}

/// What a merge did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Merged {
    /// The plain file was added to the gzip file (made when there was
    /// none), verified, and removed.
    Appended(PathBuf),
    /// The gzip file already ended with the plain file's bytes (a merge
    /// stopped before its last step): only the plain file was removed.
    Finished(PathBuf),
    /// Another process holds the plain file's lock: nothing done.
    InUse,
    /// The plain file is not there (merged or moved by another): nothing done.
    Gone,
}

/// Merges the plain day file `plain` into `plain.gz`, under its lock.
/// The caller decides whether the day is over; the lock decides whether
/// anyone still has it.
pub fn merge(plain: &Path) -> Result<Merged, GzDayError> {
    match claim(plain)? {
        Claimed::Yes(c) => c.merge(),
        Claimed::InUse => Ok(Merged::InUse),
        Claimed::Gone => Ok(Merged::Gone),
    }
}

impl Claim {
    /// The plain file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The plain file from its start.
    fn plain(&self) -> io::Result<&File> {
        let mut f = &self.file;
        f.seek(SeekFrom::Start(0))?;
        Ok(f)
    }

    /// Merges the locked plain file into its gzip file (see [`merge`]);
    /// the lock goes when this returns.
    pub fn merge(self) -> Result<Merged, GzDayError> {
        let plain = self.path.as_path();
        let gz = gz_path(plain);
        let old = match std::fs::read(&gz) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(at(&gz)(e)),
        };
        if !old.is_empty() && self.ends(&old).map_err(at(&gz))? {
            self.remove()?;
            return Ok(Merged::Finished(gz));
        }
        write_atomic_with(&gz, |out| {
            out.write_all(&old)?;
            let mut enc = GzEncoder::new(out, Compression::default());
            io::copy(&mut self.plain()?, &mut enc)?;
            enc.finish().map(drop)
        })
        .map_err(at(&gz))?;
        // What the gzip file holds must be the old members, then the plain file.
        let plain_bytes = self.plain().map_err(at(plain))?;
        let expected: Box<dyn Read + '_> = if old.is_empty() {
            Box::new(plain_bytes)
        } else {
            Box::new(MultiGzDecoder::new(old.as_slice()).chain(plain_bytes))
        };
        let written = File::open(&gz).map_err(at(&gz))?;
        if !same(MultiGzDecoder::new(written), expected).map_err(at(&gz))? {
            // The old gzip file back (or none); the plain file stays.
            let back = if old.is_empty() { std::fs::remove_file(&gz) } else { write_atomic(&gz, &old) };
            back.map_err(at(&gz))?;
            return Err(GzDayError::Verify(gz));
        }
        self.remove()?;
        Ok(Merged::Appended(gz))
    }

    /// Whether the gzip members `gz` end with exactly the plain file.
    fn ends(&self, gz: &[u8]) -> io::Result<bool> {
        let len = self.file.metadata()?.len();
        let total = io::copy(&mut MultiGzDecoder::new(gz), &mut io::sink())?;
        let Some(before) = total.checked_sub(len) else { return Ok(false) };
        let mut rest = MultiGzDecoder::new(gz);
        io::copy(&mut (&mut rest).take(before), &mut io::sink())?;
        same(rest, self.plain()?)
    }

    /// Removes the plain file (still locked, so no han-log appends to it
    /// meanwhile), durably.
    fn remove(self) -> Result<(), GzDayError> {
        std::fs::remove_file(&self.path).map_err(at(&self.path))?;
        sync_dir(parent(&self.path)).map_err(at(parent(&self.path)))
    }
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

    fn gzip(parts: &[&str]) -> Vec<u8> {
        let mut out = Vec::new();
        for p in parts {
            let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
            enc.write_all(p.as_bytes()).unwrap();
            out.extend(enc.finish().unwrap());
        }
        out
    }

    fn gunzip(p: &Path) -> String {
        let mut s = String::new();
        MultiGzDecoder::new(File::open(p).unwrap()).read_to_string(&mut s).unwrap();
        s
    }

    fn day(name: &str) -> (han_testkit::Tmp, PathBuf) {
        let t = han_testkit::Tmp::new("han-common-gzday", name);
        let p = t.join("2025-01-01.jsonl");
        (t, p)
    }

    #[test]
    fn a_plain_file_alone_becomes_the_gzip_file() {
        let (_t, p) = day("alone");
        std::fs::write(&p, "a\nb\n").unwrap();
        assert_eq!(merge(&p).unwrap(), Merged::Appended(gz_path(&p)));
        assert_eq!(gunzip(&gz_path(&p)), "a\nb\n");
        assert!(!p.exists());
        assert_eq!(merge(&p).unwrap(), Merged::Gone);
    }

    #[test]
    fn a_late_part_is_added_after_the_old_members() {
        let (_t, p) = day("late");
        std::fs::write(gz_path(&p), gzip(&["a\n", "b\n"])).unwrap();
        std::fs::write(&p, "c\n").unwrap();
        assert_eq!(merge(&p).unwrap(), Merged::Appended(gz_path(&p)));
        assert_eq!(gunzip(&gz_path(&p)), "a\nb\nc\n");
        assert!(!p.exists());
    }

    #[test]
    fn a_merge_stopped_before_the_remove_is_finished_without_duplicates() {
        let (_t, p) = day("crash");
        // The gzip file was written (old part, then the plain one); the plain file not yet removed.
        std::fs::write(gz_path(&p), gzip(&["a\nb\n", "c\nd\n"])).unwrap();
        std::fs::write(&p, "c\nd\n").unwrap();
        assert_eq!(merge(&p).unwrap(), Merged::Finished(gz_path(&p)));
        assert_eq!(gunzip(&gz_path(&p)), "a\nb\nc\nd\n");
        assert!(!p.exists());
        // The plain part only equal to a middle piece: merged, not taken for a crash.
        std::fs::write(gz_path(&p), gzip(&["c\nd\n", "e\n"])).unwrap();
        std::fs::write(&p, "c\nd\n").unwrap();
        assert_eq!(merge(&p).unwrap(), Merged::Appended(gz_path(&p)));
        assert_eq!(gunzip(&gz_path(&p)), "c\nd\ne\nc\nd\n");
    }

    #[test]
    fn a_held_lock_leaves_the_day_alone() {
        let (_t, p) = day("held");
        std::fs::write(&p, "a\n").unwrap();
        let today = NaiveDate::from_ymd_opt(2025, 1, 2).unwrap();
        let yesterday = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
        assert_eq!(state(&p, yesterday, today).unwrap(), DayState::Closed);
        assert_eq!(state(&p, today, today).unwrap(), DayState::NotOver);
        // What han-log's store does with a day file it has open.
        let open = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        FileExt::try_lock_shared(&open).unwrap();
        assert_eq!(state(&p, yesterday, today).unwrap(), DayState::InUse);
        assert_eq!(merge(&p).unwrap(), Merged::InUse);
        assert!(p.exists() && !gz_path(&p).exists());
        drop(open);
        let Claimed::Yes(c) = claim(&p).unwrap() else { panic!("free once closed") };
        assert_eq!(c.path(), p);
        assert_eq!(state(&p, yesterday, today).unwrap(), DayState::InUse, "held by a claim too");
        assert_eq!(c.merge().unwrap(), Merged::Appended(gz_path(&p)));
        assert_eq!(state(&p, yesterday, today).unwrap(), DayState::Gone);
    }

    #[test]
    fn a_gzip_file_that_is_not_one_is_an_error_and_the_plain_file_stays() {
        let (_t, p) = day("bad");
        std::fs::write(gz_path(&p), "not gzip").unwrap();
        std::fs::write(&p, "a\n").unwrap();
        let e = merge(&p).unwrap_err();
        assert!(e.to_string().starts_with(&gz_path(&p).display().to_string()), "{e}");
        assert_eq!(std::fs::read(&p).unwrap(), b"a\n");
        assert_eq!(std::fs::read(gz_path(&p)).unwrap(), b"not gzip");
    }
}
