//! Daily files by name: `YYYY-MM-DD.` and a known extension. A day is
//! closed once it is before today (local); a day whose file and its `.gz`
//! are both there is being compressed by han-log and waits for the next run.

use chrono::{Days, NaiveDate};

/// The extensions of the daily files han-log and spotprices write.
pub const EXTENSIONS: &[&str] = &["jsonl", "jsonl.gz", "csv", "csv.gz", "jsonl.torn", "json"];

/// A daily file by its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Daily {
    pub name: String,
    pub date: NaiveDate,
    pub ext: &'static str,
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
    /// Not yet: today or later, or being compressed.
    Wait(&'static str),
}

/// The action for each daily file of a directory, given today's date and
/// `keep_days` (the latest closed days kept here as well).
pub fn plan(files: &[Daily], today: NaiveDate, keep_days: u32) -> Vec<(Daily, Action)> {
    let keep_from = today.checked_sub_days(Days::new(u64::from(keep_days))).unwrap_or(NaiveDate::MIN);
    files
        .iter()
        .map(|f| {
            let action = if f.date >= today {
                Action::Wait("not closed yet")
            } else if being_compressed(f, files) {
                Action::Wait("han-log is compressing it")
            } else if f.date >= keep_from {
                Action::Copy
            } else {
                Action::Move
            };
            (f.clone(), action)
        })
        .collect()
}

/// A file and its `.gz` both there: han-log's compressor is between its
/// rename and its remove (or was stopped there); it finishes first.
fn being_compressed(f: &Daily, all: &[Daily]) -> bool {
    let plain = f.name.strip_suffix(".gz").unwrap_or(&f.name);
    let gz = format!("{plain}.gz");
    all.iter().any(|o| o.name == plain) && all.iter().any(|o| o.name == gz)
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
    fn closed_days_kept_days_and_compression() {
        let files: Vec<Daily> = [
            "2026-01-07.jsonl.gz",
            "2026-01-08.jsonl",
            "2026-01-08.jsonl.gz",
            "2026-01-09.jsonl",
            "2026-01-10.jsonl",
            "2026-01-11.json",
        ]
        .iter()
        .filter_map(|n| daily(n))
        .collect();
        let p = plan(&files, d("2026-01-10"), 1);
        let a: Vec<(&str, Action)> = p.iter().map(|(f, a)| (f.name.as_str(), a.clone())).collect();
        assert_eq!(
            a,
            [
                ("2026-01-07.jsonl.gz", Action::Move),
                ("2026-01-08.jsonl", Action::Wait("han-log is compressing it")),
                ("2026-01-08.jsonl.gz", Action::Wait("han-log is compressing it")),
                ("2026-01-09.jsonl", Action::Copy),
                ("2026-01-10.jsonl", Action::Wait("not closed yet")),
                ("2026-01-11.json", Action::Wait("not closed yet")),
            ]
        );
    }
}
