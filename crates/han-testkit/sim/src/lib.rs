//! Simulated streams for the tools' tests: a han-sim meter's frames
//! through the real decoder, as han-read writes them ([`lines`]), and
//! stream lines filed into day files as han-log files them ([`DayFiles`]).
//!
//! A crate beside han-testkit, not in it: han and han-sim take han-testkit
//! for their own tests, and a kit that took them back would be a cycle.
//! A dev-dependency only: `han-testkit-sim = { path = "../han-testkit/sim" }`.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use han::{Config, Decoder, EventRef, Tz};
use han_common::days::{Clock, Days};
use han_common::line::Line;
use han_simulator::{Options, Simulator};

/// The stream lines of a han-sim run by `options` until `end` (sent before
/// it), decoded in `tz`: each reading's frame time and its line (no
/// newline), received `lag` after the meter sent it.
pub fn lines(options: Options, tz: Tz, end: DateTime<Utc>, lag: Duration) -> Vec<(DateTime<Utc>, Vec<u8>)> {
    let mut s = Simulator::new(options);
    let mut d = Decoder::new(Config { tz: Some(tz), ..Config::default() });
    let mut lines = Vec::new();
    loop {
        let f = s.next_frame();
        if f.time >= end {
            break;
        }
        d.push(&f.bytes);
        while let Some(e) = d.next_event_ref() {
            if let EventRef::Reading(r) = e {
                let mut l = Vec::new();
                r.write_json_line_received(Some(&(f.time + lag)), &mut l);
                lines.push((f.time, l.trim_ascii_end().to_vec()));
            }
        }
    }
    lines
}

/// Day files of a folder, appended to a line at a time as han-log files
/// stream lines: by the local day in `tz` of each line's time by `clock`.
#[derive(Debug)]
pub struct DayFiles {
    dir: PathBuf,
    days: Days,
}

impl DayFiles {
    /// Makes `dir` if it is not there.
    pub fn new(dir: &Path, tz: Tz, clock: Clock) -> DayFiles {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        DayFiles { dir: dir.to_owned(), days: Days::new(tz, clock) }
    }

    /// Appends `line` (and a newline) to its day's file.
    pub fn add(&mut self, line: &[u8]) {
        let l = Line::parse(line, false).unwrap_or_else(|e| panic!("a stream line: {e:?}"));
        let date = self.days.stamp(&l, Utc::now()).date;
        let path = han_common::logs::day_path(&self.dir, date, "jsonl");
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        f.write_all(line).and_then(|()| f.write_all(b"\n")).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}
