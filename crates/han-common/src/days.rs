//! Which local day a reading belongs to, and at what instant: the one rule
//! for every tool that puts readings in days or hours (han-log's files,
//! maxpower's hours).
//!
//! The meter's clock when the reading has one (so a replayed or simulated
//! stream lands in the days it describes), else the time received. Many
//! meters put their clock only in some lists (Aidon: the hourly list 3): a
//! reading without one takes the meter clock of the last reading that had
//! one, moved on by the time received since then, when that was within an
//! hour; so it lands beside its neighbours, not in "today".

use crate::line::Line;
use crate::times::{StreamTime, day_bounds};
use crate::tz::Tz;
use chrono::{DateTime, Duration, NaiveDate, Utc};

/// Which time puts a reading in its day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// The meter's clock when the reading has one (carried to readings
    /// without one), else the time received.
    Meter,
    /// Always the time it was received.
    Received,
}

/// A reading's place in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Its local day.
    pub date: NaiveDate,
    /// Its instant.
    pub at: DateTime<Utc>,
}

/// How far the last meter clock is carried to readings without one.
const CARRY: Duration = Duration::hours(1);

/// What [`Days`] carries from one reading to the next, to be kept (a
/// tool that saves its place in the logs) and taken up again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DaysState {
    last_meter: Option<(DateTime<Utc>, DateTime<Utc>)>,
    last: Option<DateTime<Utc>>,
}

/// Attributes readings to days, one stream at a time.
#[derive(Debug)]
pub struct Days {
    tz: Tz,
    clock: Clock,
    /// The last meter clock seen and the receive time of its reading.
    last_meter: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// The last instant given out (settles the repeated autumn hour).
    last: Option<DateTime<Utc>>,
    /// The local day of the last instant converted, with its bounds.
    cached: Option<(DateTime<Utc>, DateTime<Utc>, NaiveDate)>,
}

impl Days {
    /// Days in `tz`, by `clock`.
    pub fn new(tz: Tz, clock: Clock) -> Days {
        Days { tz, clock, last_meter: None, last: None, cached: None }
    }

    /// What it carries on, to save.
    pub fn state(&self) -> DaysState {
        DaysState { last_meter: self.last_meter, last: self.last }
    }

    /// Days in `tz` by `clock` that go on from a saved [`DaysState`].
    pub fn resume(tz: Tz, clock: Clock, state: DaysState) -> Days {
        Days { tz, clock, last_meter: state.last_meter, last: state.last, cached: None }
    }

    /// The zone of the days.
    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// The day and instant of `line`; `now` when it carries no time at all.
    pub fn stamp(&mut self, line: &Line<'_>, now: DateTime<Utc>) -> Stamp {
        let (received, meter) = Days::times(line);
        self.stamp_times(received, meter, now)
    }

    /// A line's times, parsed: when received, and the meter's clock (for a
    /// reader that parses lines on other threads and stamps them in order
    /// with [`Days::stamp_times`]).
    pub fn times(line: &Line<'_>) -> (Option<DateTime<Utc>>, Option<StreamTime>) {
        let received = line.received.as_deref().and_then(StreamTime::parse).map(|t| t.instant(Tz::UTC, None));
        (received, line.meter_time.as_deref().and_then(StreamTime::parse))
    }

    /// [`Days::stamp`] of a line's parsed [`Days::times`].
    pub fn stamp_times(
        &mut self,
        received: Option<DateTime<Utc>>,
        meter: Option<StreamTime>,
        now: DateTime<Utc>,
    ) -> Stamp {
        let meter = match self.clock {
            Clock::Meter => meter,
            Clock::Received => None,
        };
        let stamp = match meter {
            Some(m) => {
                let at = m.instant(self.tz, self.last);
                if let Some(r) = received {
                    self.last_meter = Some((at, r));
                }
                Stamp { date: m.date_in(self.tz), at }
            }
            None => {
                let carried = match (self.clock, self.last_meter, received) {
                    (Clock::Meter, Some((m, r0)), Some(r)) if r >= r0 && r - r0 <= CARRY => Some(m + (r - r0)),
                    _ => None,
                };
                let at = carried.or(received).or(self.last).unwrap_or(now);
                Stamp { date: self.date_of(at), at }
            }
        };
        self.last = Some(stamp.at);
        stamp
    }

    /// The local date of an instant (the day's bounds are kept: most
    /// readings fall in the same day as the one before).
    pub fn date_of(&mut self, at: DateTime<Utc>) -> NaiveDate {
        if let Some((start, end, date)) = self.cached {
            if start <= at && at < end {
                return date;
            }
        }
        let date = at.with_timezone(&self.tz).date_naive();
        let (start, end) = day_bounds(self.tz, date);
        self.cached = Some((start, end, date));
        date
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(json: &str) -> Line<'_> {
        Line::parse(json.as_bytes(), false).unwrap()
    }

    fn reading(received: &str, meter: Option<&str>) -> String {
        let mt = meter.map(|m| format!(",\"meter_time\":\"{m}\"")).unwrap_or_default();
        format!("{{\"v\":1,\"received\":\"{received}\"{mt},\"protocol\":\"han\",\"obis\":{{}}}}")
    }

    #[test]
    fn meter_clock_received_and_carried() {
        let now = DateTime::parse_from_rfc3339("2026-12-01T12:00:00Z").unwrap().to_utc();
        let mut d = Days::new(Tz::Europe__Oslo, Clock::Meter);
        // A replay: received today, the meter clock in 2025.
        let s = d.stamp(&line(&reading("2026-12-01T10:00:00.000Z", Some("2025-03-29T23:59:58"))), now);
        assert_eq!((s.date.to_string(), s.at.to_rfc3339()), ("2025-03-29".into(), "2025-03-29T22:59:58+00:00".into()));
        // No clock: carried from the reading before, 3 s later.
        let s = d.stamp(&line(&reading("2026-12-01T10:00:03.000Z", None)), now);
        assert_eq!((s.date.to_string(), s.at.to_rfc3339()), ("2025-03-30".into(), "2025-03-29T23:00:01+00:00".into()));
        // More than an hour later: the receive time.
        let s = d.stamp(&line(&reading("2026-12-01T11:00:04.000Z", None)), now);
        assert_eq!(s.date.to_string(), "2026-12-01");
        // --clock received ignores the meter.
        let mut r = Days::new(Tz::Europe__Oslo, Clock::Received);
        let s = r.stamp(&line(&reading("2026-11-30T23:30:00.000Z", Some("2025-03-29T23:59:58"))), now);
        assert_eq!(s.date.to_string(), "2026-12-01", "00:30 in Oslo");
        // Nothing at all: now.
        let s = Days::new(Tz::UTC, Clock::Meter).stamp(&line(r#"{"v":1,"protocol":"p1","obis":{}}"#), now);
        assert_eq!(s.at, now);
    }

    #[test]
    fn the_cache_follows_the_days() {
        let mut d = Days::new(Tz::Europe__Oslo, Clock::Meter);
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        assert_eq!(d.date_of(at("2025-10-25T21:59:59Z")).to_string(), "2025-10-25");
        assert_eq!(d.date_of(at("2025-10-25T22:00:00Z")).to_string(), "2025-10-26");
        assert_eq!(d.date_of(at("2025-10-26T22:59:59Z")).to_string(), "2025-10-26", "25 hours");
        assert_eq!(d.date_of(at("2025-10-26T23:00:00Z")).to_string(), "2025-10-27");
        assert_eq!(d.date_of(at("2025-10-25T23:00:00Z")).to_string(), "2025-10-26", "back");
    }
}
