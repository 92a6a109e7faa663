//! Norway's capacity tariff (kapasitetsledd): the average of the three
//! highest hourly energies of the month, each on a different day, picks
//! the month's grid step; and how much more the current hour may take
//! before it would lift the month into the next step.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::hours::Hour;

/// The common steps (kWh/h): 0-2, 2-5, 5-10, 10-15, 15-20, 20-25, 25-50, 50+.
pub const DEFAULT_STEPS: [f64; 7] = [2.0, 5.0, 10.0, 15.0, 20.0, 25.0, 50.0];

/// A day's highest hour.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DayPeak {
    /// The local day.
    pub date: NaiveDate,
    /// Its highest hour's start.
    pub hour: DateTime<Utc>,
    /// Its energy, kWh.
    pub kwh: f64,
}

/// The month so far.
#[derive(Debug, Clone, PartialEq)]
pub struct Month {
    /// The highest hours on three different days, highest first.
    pub top: Vec<DayPeak>,
    /// Their average, kWh/h (0 with no day yet).
    pub average_kwh: f64,
    /// The step it falls in: 0 for the first (below the first bound).
    pub step: usize,
}

/// The step of an average: the first whose upper bound is above it.
pub fn step_of(average_kwh: f64, steps: &[f64]) -> usize {
    steps.iter().position(|upper| average_kwh < *upper).unwrap_or(steps.len())
}

/// Each day's highest import hour, highest first.
fn day_peaks(hours: &[Hour], tz: Tz) -> Vec<DayPeak> {
    let mut days: Vec<DayPeak> = Vec::new();
    for h in hours {
        let date = h.start.with_timezone(&tz).date_naive();
        let kwh = h.import_wh / 1000.0;
        match days.iter_mut().find(|d| d.date == date) {
            Some(d) if kwh > d.kwh => *d = DayPeak { date, hour: h.start, kwh },
            Some(_) => {}
            None => days.push(DayPeak { date, hour: h.start, kwh }),
        }
    }
    days.sort_by(|a, b| b.kwh.total_cmp(&a.kwh));
    days
}

/// The month of `hours` (complete hours of one month): top three days.
pub fn month(hours: &[Hour], tz: Tz, steps: &[f64]) -> Month {
    let mut top = day_peaks(hours, tz);
    top.truncate(3);
    let average_kwh = if top.is_empty() { 0.0 } else { top.iter().map(|d| d.kwh).sum::<f64>() / top.len() as f64 };
    Month { step: step_of(average_kwh, steps), average_kwh, top }
}

/// How much more energy (Wh) the hour starting at `current` may take,
/// on top of `so_far_wh`, before the month's step rises; `None` when no
/// amount would (the top step). `done` holds the month's other hours.
pub fn headroom(done: &[Hour], current: DateTime<Utc>, so_far_wh: f64, tz: Tz, steps: &[f64]) -> Option<f64> {
    let step_with = |wh: f64| {
        let mut all: Vec<Hour> = done.iter().filter(|h| h.start != current).copied().collect();
        all.push(Hour { start: current, import_wh: wh, export_wh: 0.0, from_registers: false, complete: true });
        month(&all, tz, steps).step
    };
    let now = step_with(so_far_wh);
    if now >= steps.len() {
        return None;
    }
    // The step only rises with the hour's energy: find where, to 0.01 Wh.
    let (mut lo, mut hi) = (so_far_wh, so_far_wh + 3.0 * steps.last().copied().unwrap_or(50.0) * 1000.0 + 1.0);
    while hi - lo > 0.01 {
        let mid = (lo + hi) / 2.0;
        if step_with(mid) == now { lo = mid } else { hi = mid }
    }
    Some(lo - so_far_wh)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hour(s: &str, kwh: f64) -> Hour {
        let start = DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        Hour { start, import_wh: kwh * 1000.0, export_wh: 0.0, from_registers: true, complete: true }
    }

    #[test]
    fn three_days_not_three_hours_of_one_day() {
        let hours = [
            hour("2025-01-06T16:00:00Z", 9.0),
            hour("2025-01-06T17:00:00Z", 8.5),
            hour("2025-01-06T18:00:00Z", 8.0),
            hour("2025-01-07T17:00:00Z", 4.0),
            hour("2025-01-08T17:00:00Z", 5.0),
            hour("2025-01-09T17:00:00Z", 3.0),
        ];
        let m = month(&hours, Tz::Europe__Oslo, &DEFAULT_STEPS);
        let kwh: Vec<f64> = m.top.iter().map(|d| d.kwh).collect();
        assert_eq!(kwh, [9.0, 5.0, 4.0], "one peak a day");
        assert!((m.average_kwh - 6.0).abs() < 1e-9);
        assert_eq!(m.step, 2, "5-10 kWh/h");
    }

    #[test]
    fn the_day_is_local() {
        // 23:30 UTC on the 6th is 00:30 on the 7th in Oslo.
        let hours = [hour("2025-01-06T22:00:00Z", 3.0), hour("2025-01-06T23:00:00Z", 4.0)];
        assert_eq!(month(&hours, Tz::Europe__Oslo, &DEFAULT_STEPS).top.len(), 2);
        assert_eq!(month(&hours, Tz::UTC, &DEFAULT_STEPS).top.len(), 1);
    }

    #[test]
    fn headroom_before_the_next_step() {
        // Other days: 4.0 and 3.5; today so far nothing bigger. Step 5-10
        // starts at 5.0: the current hour may reach 3 * 5.0 - 4.0 - 3.5 = 7.5 kWh.
        let done = [hour("2025-01-06T17:00:00Z", 4.0), hour("2025-01-07T17:00:00Z", 3.5)];
        let current = DateTime::parse_from_rfc3339("2025-01-08T17:00:00Z").unwrap().to_utc();
        let room = headroom(&done, current, 1000.0, Tz::Europe__Oslo, &DEFAULT_STEPS).unwrap();
        assert!((room - 6500.0).abs() < 0.02, "{room}");
        // With the month already in the top step nothing lifts it.
        let big = [
            hour("2025-01-05T17:00:00Z", 60.0),
            hour("2025-01-06T17:00:00Z", 60.0),
            hour("2025-01-07T17:00:00Z", 60.0),
        ];
        assert_eq!(headroom(&big, current, 0.0, Tz::Europe__Oslo, &DEFAULT_STEPS), None);
        assert_eq!(step_of(1.99, &DEFAULT_STEPS), 0);
        assert_eq!(step_of(2.0, &DEFAULT_STEPS), 1);
        assert_eq!(step_of(75.0, &DEFAULT_STEPS), 7);
    }
}
