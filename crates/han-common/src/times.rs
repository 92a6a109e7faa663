//! The times of a stream line (docs/stream.md, "Meter time"): `received`
//! (`2025-12-14T15:00:02.314Z`) and meter times, which carry their UTC
//! offset only when it is known (`2017-01-02T19:20:02+01:00`, else
//! `2025-12-14T16:00:00`, a local date-time).

use chrono::{DateTime, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// A time as a stream line writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamTime {
    /// The wall-clock date and time as written.
    pub local: NaiveDateTime,
    /// Its UTC offset, when written (`Z` is +00:00).
    pub offset: Option<FixedOffset>,
}

impl StreamTime {
    /// Parses `YYYY-MM-DDThh:mm:ss[.f...][Z|±hh:mm]`; `None` for anything else.
    pub fn parse(s: &str) -> Option<StreamTime> {
        let b = s.as_bytes();
        let num = |from: usize, len: usize| -> Option<u32> {
            let digits = b.get(from..from + len)?;
            digits.iter().try_fold(0u32, |n, &d| d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0')))
        };
        let sep = |at: usize, c: u8| b.get(at) == Some(&c);
        if !(sep(4, b'-') && sep(7, b'-') && sep(10, b'T') && sep(13, b':') && sep(16, b':')) {
            return None;
        }
        let date = NaiveDate::from_ymd_opt(num(0, 4)? as i32, num(5, 2)?, num(8, 2)?)?;
        let (h, m, sec) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
        let mut at = 19;
        let mut nanos = 0u32;
        if sep(at, b'.') {
            at += 1;
            let mut scale = 100_000_000u32;
            while let Some(d) = b.get(at).filter(|d| d.is_ascii_digit()) {
                nanos += u32::from(d - b'0') * scale;
                scale /= 10;
                at += 1;
            }
        }
        let local = date.and_hms_nano_opt(h, m, sec, nanos)?;
        let offset = match b.get(at) {
            None => None,
            Some(b'Z') if at + 1 == b.len() => Some(FixedOffset::east_opt(0)?),
            Some(&c @ (b'+' | b'-')) if at + 6 == b.len() && sep(at + 3, b':') => {
                let secs = (num(at + 1, 2)? * 3600 + num(at + 4, 2)? * 60) as i32;
                Some(FixedOffset::east_opt(if c == b'-' { -secs } else { secs })?)
            }
            Some(_) => return None,
        };
        Some(StreamTime { local, offset })
    }

    /// The instant: by its own offset, else as a wall-clock time in `tz`.
    /// The repeated autumn hour is settled by `near` (the earlier reading's
    /// instant): the candidate closer to it wins; a time in the spring gap
    /// is taken with the offset before the gap.
    pub fn instant(&self, tz: Tz, near: Option<DateTime<Utc>>) -> DateTime<Utc> {
        if let Some(off) = self.offset {
            return (self.local - off).and_utc();
        }
        match tz.from_local_datetime(&self.local) {
            LocalResult::Single(t) => t.to_utc(),
            LocalResult::Ambiguous(early, late) => {
                let (early, late) = (early.to_utc(), late.to_utc());
                match near {
                    Some(n) if (late - n).abs() < (early - n).abs() => late,
                    _ => early,
                }
            }
            LocalResult::None => {
                // In the spring gap: the clock has not moved on yet.
                let before = self.local - chrono::Duration::hours(1);
                tz.from_local_datetime(&before).earliest().map_or_else(|| self.local.and_utc(), |t| t.to_utc())
                    + chrono::Duration::hours(1)
            }
        }
    }

    /// The local date in `tz`: a time without offset is already local, so
    /// its own date; one with an offset is converted.
    pub fn date_in(&self, tz: Tz) -> NaiveDate {
        match self.offset {
            None => self.local.date(),
            Some(off) => (self.local - off).and_utc().with_timezone(&tz).date_naive(),
        }
    }
}

/// The hidden `--now TIME` flag as the tools declare it: a tool's `Args`
/// takes it with `#[command(flatten)] pub now: NowFlag`, and it reads as the
/// `Option<String>` it holds, for [`now_flag`] to parse.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct NowFlag {
    /// Act as if it were this instant (RFC 3339): for trying things out and for tests.
    #[arg(long, global = true, value_name = "TIME", hide = true)]
    pub now: Option<String>,
}

impl std::ops::Deref for NowFlag {
    type Target = Option<String>;

    fn deref(&self) -> &Option<String> {
        &self.now
    }
}

/// The hidden `--now TIME` flag of the tools (for trying things out and
/// for tests): RFC 3339.
pub fn now_flag(t: Option<&str>) -> Result<Option<DateTime<Utc>>, crate::Usage> {
    t.map(|t| {
        DateTime::parse_from_rfc3339(t)
            .map(|d| d.to_utc())
            .map_err(|e| crate::Usage(format!("--now {t:?}: {e} (RFC 3339, as 2025-01-31T23:59:00+01:00)")))
    })
    .transpose()
}

/// When the local day `date` of `tz` starts and ends (UTC): 24 hours, or
/// 23 and 25 on the days summer time starts and ends.
pub fn day_bounds(tz: Tz, date: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = |d: NaiveDate| {
        // Midnight, or the first hour that exists where a zone skips midnight.
        (0..4)
            .find_map(|h| d.and_hms_opt(h, 0, 0).and_then(|t| tz.from_local_datetime(&t).earliest()))
            .map_or_else(|| d.and_time(chrono::NaiveTime::MIN).and_utc(), |t| t.to_utc())
    };
    let next = date.succ_opt().unwrap_or(date);
    (start(date), start(next))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> StreamTime {
        StreamTime::parse(s).unwrap_or_else(|| panic!("{s} parses"))
    }

    #[test]
    fn every_form_of_the_contract() {
        let r = t("2025-12-14T15:00:02.314Z");
        assert_eq!(r.offset, FixedOffset::east_opt(0));
        assert_eq!(r.instant(Tz::UTC, None).timestamp_millis(), 1_765_724_402_314);
        let m = t("2017-01-02T19:20:02+01:00");
        assert_eq!(m.instant(Tz::UTC, None).to_rfc3339(), "2017-01-02T18:20:02+00:00");
        assert_eq!(m.date_in(Tz::Europe__Amsterdam).to_string(), "2017-01-02");
        let n = t("2025-12-14T16:00:00.25");
        assert_eq!(n.offset, None);
        assert_eq!(n.local.and_utc().timestamp_subsec_millis(), 250);
        assert_eq!(n.instant(Tz::Europe__Oslo, None).to_rfc3339(), "2025-12-14T15:00:00.250+00:00");
        assert_eq!(t("2025-01-01T00:30:00-05:30").instant(Tz::UTC, None).to_rfc3339(), "2025-01-01T06:00:00+00:00");
        for bad in ["", "2025-12-14", "2025-13-14T16:00:00", "2025-12-14T16:00:00+0100", "2025-12-14T16:00:00x", "x"] {
            assert_eq!(StreamTime::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn dst_fold_and_gap_in_local_time() {
        let tz = Tz::Europe__Oslo;
        // 02:30 comes twice on 2025-10-26: settled by the reading before.
        let fold = t("2025-10-26T02:30:00");
        let first = t("2025-10-26T02:29:00+02:00").instant(tz, None);
        assert_eq!(fold.instant(tz, Some(first)).to_rfc3339(), "2025-10-26T00:30:00+00:00");
        let second = t("2025-10-26T02:29:00+01:00").instant(tz, None);
        assert_eq!(fold.instant(tz, Some(second)).to_rfc3339(), "2025-10-26T01:30:00+00:00");
        // 02:30 never comes on 2025-03-30.
        assert_eq!(t("2025-03-30T02:30:00").instant(tz, None).to_rfc3339(), "2025-03-30T01:30:00+00:00");
        // The day of an offset time is the zone's; of a local time its own.
        assert_eq!(t("2025-03-29T23:30:00Z").date_in(tz).to_string(), "2025-03-30");
        assert_eq!(t("2025-03-29T23:30:00").date_in(tz).to_string(), "2025-03-29");
    }

    #[test]
    fn days_of_23_24_and_25_hours() {
        let hours = |d: &str| {
            let (a, b) = day_bounds(Tz::Europe__Oslo, NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap());
            (a.to_rfc3339(), (b - a).num_hours())
        };
        assert_eq!(hours("2025-03-30"), ("2025-03-29T23:00:00+00:00".to_owned(), 23));
        assert_eq!(hours("2025-10-26"), ("2025-10-25T22:00:00+00:00".to_owned(), 25));
        assert_eq!(hours("2025-12-01"), ("2025-11-30T23:00:00+00:00".to_owned(), 24));
    }
}
