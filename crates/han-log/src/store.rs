//! Append-only day files (`DIR/YYYY-MM-DD.jsonl`, `.csv`).
//!
//! Lines wait in memory until written; a file is written from the start of
//! its waiting bytes, so a short write (a disk that fills up) is continued
//! on the same open file where it stopped and no line is ever torn in the
//! middle of a file. A file that cannot be opened or written keeps its lines
//! waiting (up to a bound shared by all days) and is retried. A file is only
//! closed when nothing waits for it; the tail a crash may have torn is cut
//! when the file is first opened (kept in `NAME.torn`, and said). An open
//! file holds a shared lock, so other processes know the day is not closed.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDate;

/// Which days are open for appending and which one is being compressed,
/// shared with the compressor: neither touches the other's day.
#[derive(Debug, Default)]
pub struct Busy {
    /// Days with an open file, and how many.
    pub open: BTreeMap<NaiveDate, u32>,
    /// The day being compressed.
    pub compressing: Option<NaiveDate>,
}

/// A failure to store, as reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The file.
    pub path: PathBuf,
    /// The error.
    pub message: String,
}

#[derive(Debug)]
struct Day {
    file: Option<File>,
    waiting: Vec<u8>,
    unsynced: u64,
    used: Instant,
}

/// The files of one kind (`jsonl`, `csv`) in a directory.
#[derive(Debug)]
pub struct Files {
    dir: PathBuf,
    ext: &'static str,
    header: Option<&'static [u8]>,
    days: BTreeMap<NaiveDate, Day>,
    busy: Arc<Mutex<Busy>>,
    waiting: usize,
    limit: usize,
    dir_unsynced: bool,
    /// Lines written to the files.
    pub stored: u64,
    /// Lines written and synced.
    pub synced: u64,
    /// Lines dropped because the memory bound was reached.
    pub lost: u64,
}

impl Files {
    /// Files `DIR/YYYY-MM-DD.EXT`; a new file starts with `header`.
    pub fn new(
        dir: &Path,
        ext: &'static str,
        header: Option<&'static [u8]>,
        limit: usize,
        busy: Arc<Mutex<Busy>>,
    ) -> Files {
        Files {
            dir: dir.to_owned(),
            ext,
            header,
            days: BTreeMap::new(),
            busy,
            waiting: 0,
            limit,
            dir_unsynced: false,
            stored: 0,
            synced: 0,
            lost: 0,
        }
    }

    /// The file of a day.
    pub fn path(&self, date: NaiveDate) -> PathBuf {
        han_common::logs::day_path(&self.dir, date, self.ext)
    }

    /// Queues one line (without its newline) for `date`; `false` when the
    /// memory bound dropped it.
    pub fn push(&mut self, date: NaiveDate, line: &[u8]) -> bool {
        if self.waiting + line.len() + 1 > self.limit {
            self.lost += 1;
            return false;
        }
        let day = self.days.entry(date).or_insert_with(|| Day {
            file: None,
            waiting: Vec::new(),
            unsynced: 0,
            used: Instant::now(),
        });
        day.waiting.extend_from_slice(line);
        day.waiting.push(b'\n');
        day.used = Instant::now();
        self.waiting += line.len() + 1;
        true
    }

    /// Lines waiting (not yet written), counted.
    pub fn waiting_lines(&self) -> u64 {
        self.days.values().map(|d| memchr::memchr_iter(b'\n', &d.waiting).count() as u64).sum()
    }

    /// Writes what waits. Returns the first failure (the rest still waits).
    pub fn write(&mut self) -> Result<(), Failure> {
        let mut first = None;
        let dates: Vec<NaiveDate> = self.days.iter().filter(|(_, d)| !d.waiting.is_empty()).map(|(k, _)| *k).collect();
        for date in dates {
            if let Err(f) = self.write_day(date) {
                first.get_or_insert(f);
            }
        }
        first.map_or(Ok(()), Err)
    }

    fn write_day(&mut self, date: NaiveDate) -> Result<(), Failure> {
        let path = self.path(date);
        let fail = |e: io::Error| Failure { path: path.clone(), message: e.to_string() };
        let needs_open = self.days.get(&date).is_some_and(|d| d.file.is_none());
        if needs_open {
            let Some(opened) = self.open(date).map_err(fail)? else { return Ok(()) };
            if let Some(day) = self.days.get_mut(&date) {
                day.file = Some(opened);
            }
        }
        let Some(day) = self.days.get_mut(&date) else { return Ok(()) };
        let Some(file) = day.file.as_mut() else { return Ok(()) };
        while !day.waiting.is_empty() {
            match file.write(&day.waiting) {
                Ok(0) => return Err(fail(io::Error::from(io::ErrorKind::WriteZero))),
                Ok(n) => {
                    let lines = memchr::memchr_iter(b'\n', day.waiting.get(..n).unwrap_or_default()).count() as u64;
                    day.waiting.drain(..n);
                    self.waiting -= n;
                    self.stored += lines;
                    day.unsynced += lines;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(fail(e)),
            }
        }
        Ok(())
    }

    /// Opens a day's file for appending (`None`: the compressor, or another
    /// process, has it; try later). A tail torn by a crash is cut first; a
    /// new file gets the header.
    fn open(&mut self, date: NaiveDate) -> io::Result<Option<File>> {
        {
            let mut busy = self.busy.lock().map_err(|_| io::Error::other("lock poisoned"))?;
            if busy.compressing == Some(date) {
                return Ok(None);
            }
            *busy.open.entry(date).or_insert(0) += 1;
        }
        let opened = (|| {
            std::fs::create_dir_all(&self.dir)?;
            let path = self.path(date);
            let Some((mut file, created)) = open_locked(&path)? else { return Ok(None) };
            self.dir_unsynced |= created;
            if let Some(cut) = repair_tail(&mut file, &path)? {
                say_cut(&path, cut);
            }
            // A day already gzipped (its late readings) gets no header: the
            // plain file is merged into the gzip file as more of the same day.
            if file.metadata()?.len() == 0 && !han_common::gzday::gz_path(&path).exists() {
                if let (Some(h), Some(day)) = (self.header, self.days.get_mut(&date)) {
                    day.waiting.splice(0..0, h.iter().copied());
                    self.waiting += h.len();
                }
            }
            Ok(Some(file))
        })();
        if !matches!(opened, Ok(Some(_))) {
            self.release(date);
        }
        opened
    }

    fn release(&self, date: NaiveDate) {
        if let Ok(mut busy) = self.busy.lock() {
            if let Some(n) = busy.open.get_mut(&date) {
                *n -= 1;
                if *n == 0 {
                    busy.open.remove(&date);
                }
            }
        }
    }

    /// Syncs every file with unsynced lines (and the directory when a file
    /// was created); returns the first error.
    pub fn sync(&mut self) -> Result<(), Failure> {
        let mut first = None;
        for (date, day) in &mut self.days {
            let (Some(file), true) = (&day.file, day.unsynced > 0) else { continue };
            match file.sync_data() {
                Ok(()) => {
                    self.synced += day.unsynced;
                    day.unsynced = 0;
                }
                Err(e) => {
                    let path = han_common::logs::day_path(&self.dir, *date, self.ext);
                    first.get_or_insert(Failure { path, message: e.to_string() });
                }
            }
        }
        if self.dir_unsynced {
            match han_common::atomic::sync_dir(&self.dir) {
                Ok(()) => self.dir_unsynced = false,
                Err(e) => {
                    first.get_or_insert(Failure { path: self.dir.clone(), message: e.to_string() });
                }
            }
        }
        first.map_or(Ok(()), Err)
    }

    /// Closes the files nothing waits for that were not used for `idle`.
    pub fn close_idle(&mut self, idle: Duration) {
        let done: Vec<NaiveDate> = self
            .days
            .iter()
            .filter(|(_, d)| d.waiting.is_empty() && d.unsynced == 0 && d.used.elapsed() >= idle)
            .map(|(k, _)| *k)
            .collect();
        for date in done {
            if let Some(day) = self.days.remove(&date) {
                if day.file.is_some() {
                    self.release(date);
                }
            }
        }
    }
}

/// Opens a day file for appending with a shared lock on it, held as long as
/// the file is open (closing it lets the lock go): the lock tells the
/// compressor of another han-log and logcopy that the day is not closed
/// (`han_common::gzday`). `None`: one of them holds it now, to merge or
/// move the file; the lines wait. With the file, whether it was made here
/// (its directory entry is to be synced).
fn open_locked(path: &Path) -> io::Result<Option<(File, bool)>> {
    // Each round: the file was merged or moved away between the open and
    // the lock; the name is opened again (a new file).
    for _ in 0..3 {
        let created = !path.exists();
        let file = OpenOptions::new().read(true).append(true).create(true).open(path)?;
        match fs4::FileExt::try_lock_shared(&file) {
            Ok(()) => {}
            Err(fs4::TryLockError::WouldBlock) => return Ok(None),
            // A filesystem without locks: storing comes first.
            Err(fs4::TryLockError::Error(_)) => return Ok(Some((file, created))),
        }
        match han_common::gzday::still_named(path, &file) {
            Ok(true) => return Ok(Some((file, created))),
            Ok(false) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

/// Says that a torn tail was cut.
pub fn say_cut(path: &Path, cut: u64) {
    eprintln!(
        "han-log: {}: cut a torn last line of {cut} bytes (left by a crash); kept in {}",
        path.display(),
        torn_path(path).display()
    );
}

/// Where the cut tail of `path` is kept.
pub fn torn_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".torn");
    PathBuf::from(p)
}

/// Cuts a last line without its newline (a write a crash interrupted),
/// appending it to `NAME.torn` first; returns the bytes cut.
pub fn repair_tail(file: &mut File, path: &Path) -> io::Result<Option<u64>> {
    let len = file.metadata()?.len();
    let mut last = [0u8; 1];
    if len == 0 || (file.read_exact_at(&mut last, len - 1).is_ok() && last == [b'\n']) {
        return Ok(None);
    }
    const BLOCK: u64 = 64 * 1024;
    let mut end = len;
    let mut keep = 0;
    let mut block = Vec::new();
    while end > 0 {
        let start = end.saturating_sub(BLOCK);
        block.resize((end - start) as usize, 0);
        file.read_exact_at(&mut block, start)?;
        if let Some(i) = memchr::memrchr(b'\n', &block) {
            keep = start + i as u64 + 1;
            break;
        }
        end = start;
    }
    let mut tail = vec![0; (len - keep) as usize];
    file.read_exact_at(&mut tail, keep)?;
    tail.push(b'\n');
    let mut torn = OpenOptions::new().append(true).create(true).open(torn_path(path))?;
    torn.write_all(&tail)?;
    torn.sync_all()?;
    file.set_len(keep)?;
    file.sync_all()?;
    Ok(Some(len - keep))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("han-log-store-{name}-{}", std::process::id()));
        std::fs::remove_dir_all(&d).ok();
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn torn_tails_are_cut_and_kept() {
        let dir = tmp("torn");
        let p = dir.join("2025-01-01.jsonl");
        for (content, kept, cut) in [
            ("a\nb\n", "a\nb\n", None),
            ("a\nb\n{\"v\":1,", "a\nb\n", Some(7)),
            ("no newline at all", "", Some(17)),
            ("a\n\0\0\0", "a\n", Some(3)),
            ("", "", None),
        ] {
            std::fs::write(&p, content).unwrap();
            std::fs::remove_file(torn_path(&p)).ok();
            let mut f = OpenOptions::new().read(true).append(true).open(&p).unwrap();
            assert_eq!(repair_tail(&mut f, &p).unwrap(), cut, "{content:?}");
            assert_eq!(std::fs::read_to_string(&p).unwrap(), kept);
            if cut.is_some() {
                let torn = std::fs::read_to_string(torn_path(&p)).unwrap();
                assert_eq!(torn, format!("{}\n", &content[kept.len()..]));
            }
        }
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn days_header_bound_and_counts() {
        let dir = tmp("days");
        let busy = Arc::new(Mutex::new(Busy::default()));
        let mut f = Files::new(&dir.join("sub"), "csv", Some(b"time,x\n"), 40, Arc::clone(&busy));
        let d1 = NaiveDate::from_ymd_opt(2025, 3, 29).unwrap();
        let d2 = d1.succ_opt().unwrap();
        assert!(f.push(d1, b"1,a"));
        assert!(f.push(d2, b"2,b"));
        assert!(!f.push(d2, &[b'x'; 40]), "over the bound");
        assert_eq!((f.lost, f.waiting_lines()), (1, 2));
        f.write().unwrap();
        f.sync().unwrap();
        assert_eq!(busy.lock().unwrap().open.len(), 2);
        assert!(f.push(d1, b"3,c"));
        f.write().unwrap();
        f.sync().unwrap();
        assert_eq!(std::fs::read_to_string(f.path(d1)).unwrap(), "time,x\n1,a\n3,c\n");
        assert_eq!(std::fs::read_to_string(f.path(d2)).unwrap(), "time,x\n2,b\n");
        assert_eq!((f.stored, f.synced), (5, 5), "headers count as lines here");
        f.close_idle(Duration::ZERO);
        assert!(busy.lock().unwrap().open.is_empty());
        // A day the compressor holds waits.
        busy.lock().unwrap().compressing = Some(d1);
        assert!(f.push(d1, b"4,d"));
        f.write().unwrap();
        assert_eq!(f.waiting_lines(), 1);
        busy.lock().unwrap().compressing = None;
        f.write().unwrap();
        assert_eq!(std::fs::read_to_string(f.path(d1)).unwrap(), "time,x\n1,a\n3,c\n4,d\n");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_gzipped_day_gets_its_late_lines_without_a_header() {
        use std::io::Read;
        let dir = tmp("late");
        let busy = Arc::new(Mutex::new(Busy::default()));
        let mut f = Files::new(&dir, "csv", Some(b"time,x\n"), 1 << 20, Arc::clone(&busy));
        let d1 = NaiveDate::from_ymd_opt(2025, 3, 29).unwrap();
        let today = NaiveDate::from_ymd_opt(2025, 3, 31).unwrap();
        assert!(f.push(d1, b"1,a"));
        f.write().unwrap();
        f.sync().unwrap();
        f.close_idle(Duration::ZERO);
        crate::compress::compress_old(&dir, today, &busy).unwrap();
        assert!(!f.path(d1).exists(), "gzipped");
        // A reading of that day comes late, and is gzipped in turn.
        assert!(f.push(d1, b"2,b"));
        f.write().unwrap();
        f.sync().unwrap();
        f.close_idle(Duration::ZERO);
        assert_eq!(std::fs::read_to_string(f.path(d1)).unwrap(), "2,b\n");
        crate::compress::compress_old(&dir, today, &busy).unwrap();
        let mut text = String::new();
        let gz = han_common::gzday::gz_path(&f.path(d1));
        flate2::read::MultiGzDecoder::new(File::open(gz).unwrap()).read_to_string(&mut text).unwrap();
        assert_eq!(text, "time,x\n1,a\n2,b\n", "one header, at the top");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn an_open_day_file_is_locked_and_a_claimed_one_waits() {
        use han_common::gzday::{self, Claimed, DayState};
        let dir = tmp("lock");
        let mut f = Files::new(&dir, "jsonl", None, 1 << 20, Arc::new(Mutex::new(Busy::default())));
        let d1 = NaiveDate::from_ymd_opt(2025, 3, 29).unwrap();
        let today = d1.succ_opt().unwrap();
        assert!(f.push(d1, b"a"));
        f.write().unwrap();
        f.sync().unwrap();
        assert_eq!(gzday::state(&f.path(d1), d1, today).unwrap(), DayState::InUse, "open here");
        f.close_idle(Duration::ZERO);
        assert_eq!(gzday::state(&f.path(d1), d1, today).unwrap(), DayState::Closed, "closed: the lock went with it");
        // Claimed by another (logcopy moving it): the line waits, then goes.
        let Claimed::Yes(claim) = gzday::claim(&f.path(d1)).unwrap() else { panic!("the lock") };
        assert!(f.push(d1, b"b"));
        f.write().unwrap();
        assert_eq!(f.waiting_lines(), 1);
        // Moved away while claimed: the line goes to a new file, not the removed one.
        std::fs::remove_file(f.path(d1)).unwrap();
        drop(claim);
        f.write().unwrap();
        assert_eq!(f.waiting_lines(), 0);
        assert_eq!(std::fs::read_to_string(f.path(d1)).unwrap(), "b\n");
        std::fs::remove_dir_all(&dir).ok();
    }
}
