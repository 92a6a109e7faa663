//! The daily logs (`DIR/YYYY-MM-DD.jsonl`, and `.jsonl.gz` once
//! compressed), read back line by line: the one reader every tool uses.
//!
//! A day may have both files (readings that came for a day after it was
//! compressed): the compressed one is read first. A last line without its
//! newline is a line still being written (or torn by a crash): it is not
//! returned, only counted.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use flate2::read::MultiGzDecoder;

/// The file of a day with extension `ext` (`jsonl`, `csv`): `DIR/YYYY-MM-DD.ext`.
pub fn day_path(dir: &Path, date: NaiveDate, ext: &str) -> PathBuf {
    dir.join(format!("{}.{ext}", date.format("%Y-%m-%d")))
}

/// The day of a file name `YYYY-MM-DD` + `suffix` (`.jsonl`, `.csv.gz`).
pub fn date_of(name: &str, suffix: &str) -> Option<NaiveDate> {
    let stem = name.strip_suffix(suffix)?;
    if stem.len() != 10 {
        return None;
    }
    NaiveDate::parse_from_str(stem, "%Y-%m-%d").ok()
}

/// One log file of a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayFile {
    /// The local day it holds.
    pub date: NaiveDate,
    /// The file.
    pub path: PathBuf,
    /// Whether it is gzipped.
    pub compressed: bool,
}

impl DayFile {
    /// Opens it for reading, decompressing as it goes.
    pub fn lines(&self) -> io::Result<Lines> {
        let f = File::open(&self.path)?;
        Ok(if self.compressed { Lines::new(MultiGzDecoder::new(f)) } else { Lines::new(f) })
    }
}

/// The log files of `dir` whose day is within `from..=to` (either open),
/// in day order, compressed before plain. Other files are not listed.
pub fn day_files(dir: &Path, from: Option<NaiveDate>, to: Option<NaiveDate>) -> io::Result<Vec<DayFile>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let (date, compressed) = match (date_of(name, ".jsonl.gz"), date_of(name, ".jsonl")) {
            (Some(d), _) => (d, true),
            (None, Some(d)) => (d, false),
            (None, None) => continue,
        };
        if from.is_some_and(|f| date < f) || to.is_some_and(|t| date > t) {
            continue;
        }
        files.push(DayFile { date, path: entry.path(), compressed });
    }
    files.sort_by_key(|f| (f.date, !f.compressed));
    Ok(files)
}

/// What a read of the logs saw besides its lines.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReadStats {
    /// Files read.
    pub files: u64,
    /// Lines returned.
    pub lines: u64,
    /// Unfinished last lines left out.
    pub unfinished: u64,
}

/// Calls `f` with every line (without its newline) of every log file of
/// `dir` in `from..=to`, in order; `f` returns `false` to stop.
pub fn for_each_line(
    dir: &Path,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    mut f: impl FnMut(&DayFile, &[u8]) -> bool,
) -> io::Result<ReadStats> {
    let mut stats = ReadStats::default();
    for file in day_files(dir, from, to)? {
        let mut lines = file.lines().map_err(|e| with_path(e, &file.path))?;
        stats.files += 1;
        while let Some(line) = lines.next_line().map_err(|e| with_path(e, &file.path))? {
            stats.lines += 1;
            if !f(&file, line) {
                stats.unfinished += u64::from(lines.unfinished);
                return Ok(stats);
            }
        }
        stats.unfinished += u64::from(lines.unfinished);
    }
    Ok(stats)
}

fn with_path(e: io::Error, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// Whole lines of a reader, lent one at a time.
pub struct Lines {
    inner: Box<dyn Read + Send>,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    /// Set at the end when the input ended inside a line.
    pub unfinished: bool,
}

impl std::fmt::Debug for Lines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lines").field("start", &self.start).field("end", &self.end).finish_non_exhaustive()
    }
}

const CHUNK: usize = 256 * 1024;

impl Lines {
    /// Lines of `r`.
    pub fn new(r: impl Read + Send + 'static) -> Lines {
        Lines { inner: Box::new(r), buf: vec![0; CHUNK], start: 0, end: 0, eof: false, unfinished: false }
    }

    /// The next whole line, without its `\n` (and `\r`); `None` at the end.
    pub fn next_line(&mut self) -> io::Result<Option<&[u8]>> {
        loop {
            let pending = self.buf.get(self.start..self.end).unwrap_or_default();
            if let Some(nl) = memchr::memchr(b'\n', pending) {
                let from = self.start;
                self.start += nl + 1;
                let line = self.buf.get(from..from + nl).unwrap_or_default();
                return Ok(Some(line.strip_suffix(b"\r").unwrap_or(line)));
            }
            if self.eof {
                self.unfinished = self.start < self.end;
                self.start = self.end;
                return Ok(None);
            }
            self.fill()?;
        }
    }

    /// Reads more: moves the unfinished line to the front, grows the buffer
    /// when one line fills it.
    fn fill(&mut self) -> io::Result<()> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        let room = self.buf.get_mut(self.end..).unwrap_or_default();
        match self.inner.read(room) {
            Ok(0) => self.eof = true,
            Ok(n) => self.end += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn all(input: &[u8], chunk: usize) -> (Vec<Vec<u8>>, bool) {
        struct Slow<'a>(&'a [u8], usize);
        impl Read for Slow<'_> {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(self.1).min(out.len());
                let (a, b) = self.0.split_at(n);
                out[..n].copy_from_slice(a);
                self.0 = b;
                Ok(n)
            }
        }
        let owned: &'static [u8] = Box::leak(input.to_vec().into_boxed_slice());
        let mut l = Lines::new(Slow(owned, chunk));
        let mut out = Vec::new();
        while let Some(line) = l.next_line().unwrap() {
            out.push(line.to_vec());
        }
        (out, l.unfinished)
    }

    proptest! {
        #[test]
        fn lines_in_any_chunks(lines in proptest::collection::vec("[a-z{}\":,]{0,300}", 0..40), chunk in 1usize..700, tail in "[a-z]{0,5}") {
            let mut input = lines.join("\n").into_bytes();
            if !lines.is_empty() { input.push(b'\n'); }
            input.extend_from_slice(tail.as_bytes());
            let (got, unfinished) = all(&input, chunk);
            let want: Vec<Vec<u8>> = lines.iter().map(|l| l.as_bytes().to_vec()).collect();
            prop_assert_eq!(got, want);
            prop_assert_eq!(unfinished, !tail.is_empty());
        }
    }

    #[test]
    fn a_line_longer_than_the_buffer() {
        let long = vec![b'x'; CHUNK * 3 + 7];
        let mut input = long.clone();
        input.extend_from_slice(b"\r\nshort\n");
        let (got, unfinished) = all(&input, CHUNK);
        assert_eq!(got, vec![long, b"short".to_vec()]);
        assert!(!unfinished);
    }

    #[test]
    fn days_in_order_compressed_first_others_ignored() {
        use std::io::Write;
        let dir = std::env::temp_dir().join(format!("han-common-logs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("2025-03-02.jsonl"), "c\nd\nunfinished").unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"a\nb\n").unwrap();
        std::fs::write(dir.join("2025-03-02.jsonl.gz"), gz.finish().unwrap()).unwrap();
        std::fs::write(dir.join("2025-03-01.jsonl"), "0\n").unwrap();
        std::fs::write(dir.join("2025-03-03.jsonl"), "e\n").unwrap();
        for other in ["2025-03-02.csv", "2025-03-02.jsonl.torn", "notes.jsonl", "2025-3-4.jsonl"] {
            std::fs::write(dir.join(other), "x\n").unwrap();
        }
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let mut seen = Vec::new();
        let stats = for_each_line(&dir, Some(day("2025-03-02")), None, |f, l| {
            seen.push(format!("{} {}", f.date, String::from_utf8_lossy(l)));
            true
        })
        .unwrap();
        assert_eq!(seen, ["2025-03-02 a", "2025-03-02 b", "2025-03-02 c", "2025-03-02 d", "2025-03-03 e"]);
        assert_eq!(stats, ReadStats { files: 3, lines: 5, unfinished: 1 });
        let stats = for_each_line(&dir, None, Some(day("2025-03-01")), |_, _| true).unwrap();
        assert_eq!(stats.lines, 1);
        std::fs::remove_dir_all(&dir).ok();
    }
}
