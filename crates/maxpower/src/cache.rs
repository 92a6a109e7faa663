//! The closed days' sums, kept between runs (`STATE/maxpower-days-*.json`):
//! a cron run every few minutes then reads only today's file, not the
//! whole month again (on a Pi the month's DSMR logs are bigger than its
//! memory, and would be read from the SD card every time).
//!
//! The sums are taken up again only when they were made from exactly the
//! files there are now (name, size, modification time), with the same
//! settings: a late reading added to a closed day, a day compressed, or
//! another zone, reads the month again. A cache that cannot be read is
//! ignored; one that cannot be written is reported, and the run goes on.

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use chrono::NaiveDate;
use han_common::logs::DayFile;
use serde::{Deserialize, Serialize};

use crate::cli::Tariff;
use crate::read::Saved;

/// Bumped when what is kept, or how it is summed, changes.
const VERSION: u32 = 2;

/// A file as it was when it was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    name: String,
    len: u64,
    modified_ns: u128,
}

impl Seen {
    pub fn of(file: &DayFile) -> Option<Seen> {
        let meta = std::fs::metadata(&file.path).ok()?;
        let modified_ns = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?.as_nanos();
        Some(Seen { name: file.path.file_name()?.to_str()?.to_owned(), len: meta.len(), modified_ns })
    }
}

/// What the sums were made with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Key {
    pub version: u32,
    pub dir: PathBuf,
    pub tz: String,
    pub tariff: Option<Tariff>,
    /// The first day read (the day before the month).
    pub from: NaiveDate,
}

impl Key {
    pub fn new(dir: &Path, tz: &str, tariff: Option<Tariff>, from: NaiveDate) -> Key {
        Key {
            version: VERSION,
            dir: std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned()),
            tz: tz.to_owned(),
            tariff,
            from,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Cache {
    key: Key,
    files: Vec<Seen>,
    scan: Saved,
}

/// One file a month (the first day read names it), so a look at a past
/// month with `--now` does not throw away this month's.
fn path(state: &Path, key: &Key) -> PathBuf {
    state.join(format!("maxpower-days-{}.json", key.from.format("%Y-%m-%d")))
}

/// The kept sums, when they were made with `key` from the first files of
/// `closed` as they are now: the sums and how many files they cover.
pub fn load(state: &Path, key: &Key, closed: &[DayFile]) -> Option<(Saved, usize)> {
    let bytes = std::fs::read(path(state, key)).ok()?;
    let Ok(c) = serde_json::from_slice::<Cache>(&bytes) else {
        eprintln!("maxpower: {} is not readable: the month is read again", path(state, key).display());
        return None;
    };
    if c.key != *key || c.files.len() > closed.len() {
        return None;
    }
    let same = c.files.iter().zip(closed).all(|(seen, file)| Seen::of(file).as_ref() == Some(seen));
    same.then_some((c.scan, c.files.len()))
}

/// Keeps the sums of `closed` (atomically); a failure is only reported.
pub fn save(state: &Path, key: &Key, closed: &[DayFile], scan: Saved) {
    let Some(files) = closed.iter().map(Seen::of).collect::<Option<Vec<Seen>>>() else { return };
    let c = Cache { key: key.clone(), files, scan };
    let p = path(state, key);
    let written = serde_json::to_vec(&c)
        .map_err(std::io::Error::from)
        .and_then(|bytes| std::fs::create_dir_all(state).and_then(|()| han_common::atomic::write_atomic(&p, &bytes)));
    if let Err(e) = written {
        eprintln!("maxpower: cannot keep the closed days' sums in {}: {e}", p.display());
        return;
    }
    // Other months' are of no more use (a past month's is made again when asked for).
    for entry in std::fs::read_dir(state).into_iter().flatten().flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("maxpower-days-") && name.ends_with(".json") && entry.path() != p {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
