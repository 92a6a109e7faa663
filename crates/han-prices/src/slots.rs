//! Delivery slots keyed by their UTC start and length, never by a local hour
//! number, and the local day they are cut to (23, 24 or 25 hours).

use chrono::{DateTime, Duration, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// One delivery slot's price.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Slot {
    pub start: DateTime<Utc>,
    /// 15, 30 or 60 in practice.
    pub minutes: u32,
    pub eur_per_mwh: f64,
}

impl Slot {
    pub fn end(&self) -> DateTime<Utc> {
        self.start + Duration::minutes(i64::from(self.minutes))
    }
}

/// Why a day's slots cannot be trusted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DayError {
    #[error("no prices for {date} in the answer{}", held.map_or(String::new(), |(a, b)| format!(" (it held {a} to {b})")))]
    Empty { date: NaiveDate, held: Option<(DateTime<Utc>, DateTime<Utc>)> },
    #[error("the prices for {date} start at {first}, not at the local midnight {start}")]
    LateStart { date: NaiveDate, first: DateTime<Utc>, start: DateTime<Utc> },
    #[error("the prices for {date} end at {last}, not at the next local midnight {end}")]
    EarlyEnd { date: NaiveDate, last: DateTime<Utc>, end: DateTime<Utc> },
    #[error("no price from {from} to {to}")]
    Gap { from: DateTime<Utc>, to: DateTime<Utc> },
    #[error("two different prices for the slot at {at}: {a} and {b} EUR/MWh")]
    Conflict { at: DateTime<Utc>, a: f64, b: f64 },
    #[error("slots overlap at {at}")]
    Overlap { at: DateTime<Utc> },
}

/// The UTC span of a local day: its midnight to the next one.
pub fn day_span(date: NaiveDate, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    han_common::times::day_bounds(tz, date)
}

/// Cuts slots to the local day `date`: where periods of different
/// resolutions overlap the finer ones win; the rest must tile the day
/// exactly, from its midnight to the next, without gaps.
pub fn cut(mut slots: Vec<Slot>, date: NaiveDate, tz: Tz) -> Result<Vec<Slot>, DayError> {
    let (start, end) = day_span(date, tz);
    let held = slots.iter().map(|s| s.start).min().zip(slots.iter().map(Slot::end).max());
    slots.retain(|s| s.end() > start && s.start < end);
    slots.sort_by(|a, b| a.start.cmp(&b.start).then(a.minutes.cmp(&b.minutes)));
    // The same slot twice (several series for one auction): one price only.
    let mut unique: Vec<Slot> = Vec::with_capacity(slots.len());
    for s in slots {
        match unique.last() {
            Some(l) if l.start == s.start && l.minutes == s.minutes => {
                if l.eur_per_mwh != s.eur_per_mwh {
                    return Err(DayError::Conflict { at: s.start, a: l.eur_per_mwh, b: s.eur_per_mwh });
                }
            }
            _ => unique.push(s),
        }
    }
    let finer = |s: &Slot| unique.iter().any(|o| o.minutes < s.minutes && o.start < s.end() && s.start < o.end());
    let kept: Vec<Slot> = unique.iter().filter(|s| !finer(s)).copied().collect();
    let (Some(first), Some(last)) = (kept.first(), kept.last()) else { return Err(DayError::Empty { date, held }) };
    if first.start != start {
        return Err(DayError::LateStart { date, first: first.start, start });
    }
    for w in kept.windows(2) {
        if let [a, b] = w {
            if b.start > a.end() {
                return Err(DayError::Gap { from: a.end(), to: b.start });
            }
            if b.start < a.end() {
                return Err(DayError::Overlap { at: b.start });
            }
        }
    }
    if last.end() != end {
        return Err(DayError::EarlyEnd { date, last: last.end(), end });
    }
    Ok(kept)
}

/// The mean price of each whole hour, for users billed per hour (the mean
/// of its quarters); an hour not fully covered is left out.
pub fn hourly(slots: &[Slot]) -> Vec<Slot> {
    let mut out: Vec<Slot> = Vec::new();
    let mut acc: Option<(DateTime<Utc>, f64, u32)> = None;
    let hour_of = |t: DateTime<Utc>| t.with_minute(0).and_then(|t| t.with_second(0)).unwrap_or(t);
    let close = |acc: Option<(DateTime<Utc>, f64, u32)>, out: &mut Vec<Slot>| {
        if let Some((start, sum, minutes)) = acc {
            if minutes == 60 {
                out.push(Slot { start, minutes: 60, eur_per_mwh: round(sum / 60.0, 6) });
            }
        }
    };
    for s in slots {
        let h = hour_of(s.start);
        match &mut acc {
            Some((start, sum, minutes)) if *start == h => {
                *sum += s.eur_per_mwh * f64::from(s.minutes);
                *minutes += s.minutes;
            }
            _ => {
                close(acc.take(), &mut out);
                acc = Some((h, s.eur_per_mwh * f64::from(s.minutes), s.minutes));
            }
        }
    }
    close(acc, &mut out);
    out
}

/// Rounds to `places` decimals (prices are stored to a thousandth of an
/// øre; sums of f64 must not show as 0.30000000000000004).
pub fn round(x: f64, places: i32) -> f64 {
    let m = 10f64.powi(places);
    (x * m).round() / m
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Oslo;

    /// How many slots of `minutes` a local day has (92, 96 or 100 quarters).
    pub fn expected(date: NaiveDate, tz: Tz, minutes: u32) -> i64 {
        let (s, e) = day_span(date, tz);
        (e - s).num_minutes() / i64::from(minutes.max(1))
    }

    fn quarters(from: DateTime<Utc>, n: usize) -> Vec<Slot> {
        (0..n)
            .map(|i| Slot { start: from + Duration::minutes(15 * i as i64), minutes: 15, eur_per_mwh: i as f64 })
            .collect()
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    #[test]
    fn dst_days_have_92_and_100_quarters() {
        assert_eq!(expected(d(2025, 3, 30), Oslo, 15), 92);
        assert_eq!(expected(d(2025, 10, 26), Oslo, 15), 100);
        assert_eq!(expected(d(2025, 10, 27), Oslo, 60), 24);
        let (s, _) = day_span(d(2025, 10, 26), Oslo);
        assert_eq!(cut(quarters(s, 100), d(2025, 10, 26), Oslo).map(|v| v.len()), Ok(100));
        assert!(matches!(cut(quarters(s, 96), d(2025, 10, 26), Oslo), Err(DayError::EarlyEnd { .. })));
    }

    #[test]
    fn finer_slots_win_and_gaps_are_found() {
        let (s, _) = day_span(d(2025, 11, 3), Oslo);
        let mut v = quarters(s, 96);
        v.push(Slot { start: s, minutes: 60, eur_per_mwh: 99.0 });
        let got = cut(v.clone(), d(2025, 11, 3), Oslo).expect("a day");
        assert_eq!(got.len(), 96);
        v.remove(10);
        assert!(matches!(cut(v, d(2025, 11, 3), Oslo), Err(DayError::Gap { .. })));
    }

    #[test]
    fn hour_means() {
        let (s, _) = day_span(d(2025, 11, 3), Oslo);
        let h = hourly(&quarters(s, 96));
        assert_eq!(h.len(), 24);
        assert_eq!(h.first().map(|h| h.eur_per_mwh), Some(1.5));
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever slots come, the cut never panics, and a day it accepts
        /// tiles the day from midnight to midnight.
        #[test]
        fn an_accepted_day_tiles_its_span(raw in prop::collection::vec((0i64..110, prop::sample::select(vec![15u32, 30, 60]), -500.0f64..500.0), 0..130)) {
            let date = NaiveDate::from_ymd_opt(2025, 10, 26).expect("date");
            let tz = chrono_tz::Europe::Oslo;
            let (start, end) = day_span(date, tz);
            let slots: Vec<Slot> = raw.iter().map(|(q, m, p)| Slot { start: start + Duration::minutes(15 * q), minutes: *m, eur_per_mwh: *p }).collect();
            if let Ok(day) = cut(slots, date, tz) {
                prop_assert_eq!(day.first().map(|s| s.start), Some(start));
                prop_assert_eq!(day.last().map(|s| s.end()), Some(end));
                for w in day.windows(2) {
                    prop_assert_eq!(w[0].end(), w[1].start);
                }
            }
        }

        /// A whole day of quarters is kept as it came, whatever the order.
        #[test]
        fn a_whole_day_in_any_order(seed in any::<u64>()) {
            let date = NaiveDate::from_ymd_opt(2025, 3, 30).expect("date");
            let tz = chrono_tz::Europe::Oslo;
            let (start, _) = day_span(date, tz);
            let mut slots: Vec<Slot> = (0..92).map(|i| Slot { start: start + Duration::minutes(15 * i), minutes: 15, eur_per_mwh: i as f64 }).collect();
            let want = slots.clone();
            let mut s = seed;
            for i in (1..slots.len()).rev() {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                slots.swap(i, (s >> 33) as usize % (i + 1));
            }
            prop_assert_eq!(cut(slots, date, tz), Ok(want));
        }
    }
}
