//! Daily files by name: `YYYY-MM-DD.` and a known extension. A day is
//! closed once it is before today (local); a plain day file (`.jsonl`,
//! `.csv`) also needs nobody to hold it: han-log holds a lock on each day
//! file it has open (`han_common::gzday::state` tells, given to [`plan`]).
//! A day with both a plain file and its `.gz` is merged here first (the
//! plain file added to the `.gz`), then its `.gz` goes.

use chrono::{Days, NaiveDate};

/// The extensions of the daily files han-log and spotprices write.
pub const EXTENSIONS: &[&str] = &["jsonl", "jsonl.gz", "csv", "csv.gz", "jsonl.torn", "json"];

/// The extensions of the files han-log appends to (and holds open).
pub const PLAIN: &[&str] = &["jsonl", "csv"];

/// A daily file by its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Daily {
    pub name: String,
    pub date: NaiveDate,
    pub ext: &'static str,
}

impl Daily {
    /// Whether han-log appends to it (`.jsonl`, `.csv`).
    pub fn is_plain(&self) -> bool {
        PLAIN.contains(&self.ext)
    }
}

/// The day and extension of a daily file's name; `None` for other files
/// (temporary ones, state, anything else).
pub fn daily(name: &str) -> Option<Daily> {
    let (day, ext) = name.split_once('.')?;
    if day.len() != 10 {
        return None;
    }
    let date = NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?;
    let ext = EXTENSIONS.iter().find(|e| **e == ext)?;
    Some(Daily { name: name.to_string(), date, ext })
}

/// What to do with a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Copy, verify, then remove here.
    Move,
    /// Copy and verify, and keep here too (within `--keep-days`).
    Copy,
    /// Add this plain file to its `.gz` here (its `.gz` then goes).
    Merge,
    /// Not yet: today or later, or still open.
    Wait(&'static str),
}

/// The action for each daily file of a directory, given today's date,
/// `keep_days` (the latest closed days kept here as well) and, for the
/// plain files of a day before today, why one is not closed (`None`:
/// closed).
pub fn plan(
    files: &[Daily],
    today: NaiveDate,
    keep_days: u32,
    not_closed: impl Fn(&Daily) -> Option<&'static str>,
) -> Vec<(Daily, Action)> {
    let keep_from = today.checked_sub_days(Days::new(u64::from(keep_days))).unwrap_or(NaiveDate::MIN);
    // Why each plain file of a past day waits, asked once.
    let waits: Vec<(&str, Option<&'static str>)> =
        files.iter().filter(|f| f.is_plain() && f.date < today).map(|f| (f.name.as_str(), not_closed(f))).collect();
    let wait_of = |name: &str| waits.iter().find(|(n, _)| *n == name).and_then(|(_, w)| *w);
    let has = |name: &str| files.iter().any(|o| o.name == name);
    files
        .iter()
        .map(|f| {
            let plain_of_gz = f.name.strip_suffix(".gz").filter(|p| has(p));
            let action = if f.date >= today {
                Action::Wait("not closed yet")
            } else if let Some(why) = wait_of(&f.name) {
                Action::Wait(why)
            } else if f.is_plain() && has(&format!("{}.gz", f.name)) {
                Action::Merge
            } else if plain_of_gz.is_some_and(|p| wait_of(p).is_some()) {
                // Its plain part is still written: both go together, later.
                Action::Wait("its plain file is still open")
            } else if f.date >= keep_from {
                Action::Copy
            } else {
                Action::Move
            };
            (f.clone(), action)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    #[test]
    fn names() {
        assert_eq!(daily("2026-01-10.jsonl.gz").map(|f| (f.date, f.ext)), Some((d("2026-01-10"), "jsonl.gz")));
        assert_eq!(daily("2026-01-10.json").map(|f| f.ext), Some("json"));
        assert_eq!(daily(".2026-01-10.jsonl.logcopy"), None);
        assert_eq!(daily("2026-13-10.jsonl"), None);
        assert_eq!(daily("current.json"), None);
        assert_eq!(daily("2026-01-10.txt"), None);
    }

    #[test]
    fn closed_days_kept_days_open_files_and_merges() {
        let files: Vec<Daily> = [
            "2026-01-06.jsonl",
            "2026-01-06.jsonl.gz",
            "2026-01-07.jsonl.gz",
            "2026-01-08.csv",
            "2026-01-08.jsonl",
            "2026-01-08.jsonl.gz",
            "2026-01-09.jsonl",
            "2026-01-10.jsonl",
            "2026-01-11.json",
        ]
        .iter()
        .filter_map(|n| daily(n))
        .collect();
        let asked = std::cell::RefCell::new(Vec::new());
        let open = |f: &Daily| {
            asked.borrow_mut().push(f.name.clone());
            (f.date == d("2026-01-08")).then_some("han-log has it open")
        };
        let p = plan(&files, d("2026-01-10"), 1, open);
        let a: Vec<(&str, Action)> = p.iter().map(|(f, a)| (f.name.as_str(), a.clone())).collect();
        assert_eq!(
            a,
            [
                ("2026-01-06.jsonl", Action::Merge),
                ("2026-01-06.jsonl.gz", Action::Move),
                ("2026-01-07.jsonl.gz", Action::Move),
                ("2026-01-08.csv", Action::Wait("han-log has it open")),
                ("2026-01-08.jsonl", Action::Wait("han-log has it open")),
                ("2026-01-08.jsonl.gz", Action::Wait("its plain file is still open")),
                ("2026-01-09.jsonl", Action::Copy),
                ("2026-01-10.jsonl", Action::Wait("not closed yet")),
                ("2026-01-11.json", Action::Wait("not closed yet")),
            ]
        );
        assert_eq!(
            asked.into_inner(),
            ["2026-01-06.jsonl", "2026-01-08.csv", "2026-01-08.jsonl", "2026-01-09.jsonl"],
            "the plain files of past days, once each"
        );
    }
}
