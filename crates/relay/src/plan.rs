//! `relay schedule`: the window around now (local times, across midnight),
//! the cheapest slots in it from the price files, or a fallback before the
//! prices are out. Pure.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// A priced slot: start, end, price.
pub type Priced = (DateTime<Utc>, DateTime<Utc>, f64);

fn at(date: NaiveDate, time: NaiveTime, tz: Tz) -> DateTime<Utc> {
    // A time skipped by a clock change moves to the hour after it.
    let local = date.and_time(time);
    tz.from_local_datetime(&local)
        .earliest()
        .or_else(|| tz.from_local_datetime(&(local + Duration::hours(1))).earliest())
        .map_or_else(|| local.and_utc(), |t| t.to_utc())
}

/// The window `from`-`to` (local; `to` at or before `from` means the next
/// day) that holds `now`, else the next one to start.
pub fn window(now: DateTime<Utc>, tz: Tz, from: NaiveTime, to: NaiveTime) -> (DateTime<Utc>, DateTime<Utc>) {
    let today = now.with_timezone(&tz).date_naive();
    let span = |d: NaiveDate| {
        let end_day = if to <= from { d.succ_opt().unwrap_or(d) } else { d };
        (at(d, from, tz), at(end_day, to, tz))
    };
    let yesterday = today.pred_opt().unwrap_or(today);
    let tomorrow = today.succ_opt().unwrap_or(today);
    for d in [yesterday, today, tomorrow] {
        let (s, e) = span(d);
        if now < e {
            return (s, e);
        }
    }
    span(tomorrow)
}

/// The local dates a window touches (their price files are needed).
pub fn dates(window: (DateTime<Utc>, DateTime<Utc>), tz: Tz) -> Vec<NaiveDate> {
    let first = window.0.with_timezone(&tz).date_naive();
    let last = (window.1 - Duration::seconds(1)).with_timezone(&tz).date_naive();
    let mut v = vec![first];
    let mut d = first;
    while d < last {
        d = d.succ_opt().unwrap_or(last);
        v.push(d);
    }
    v
}

/// A span of time the relay is on in: start, end.
pub type Span = (DateTime<Utc>, DateTime<Utc>);

/// The window's priced slots in time order, when they cover it without a
/// gap; else `None`.
fn covered(slots: &[Priced], window: Span) -> Option<Vec<Priced>> {
    let mut inside: Vec<Priced> = slots.iter().copied().filter(|(s, e, _)| *s >= window.0 && *e <= window.1).collect();
    inside.sort_by_key(|(s, _, _)| *s);
    let mut at = window.0;
    for (s, e, _) in &inside {
        if *s != at {
            return None;
        }
        at = *e;
    }
    (at == window.1).then_some(inside)
}

fn minutes_of((s, e, _): &Priced) -> i64 {
    (*e - *s).num_minutes()
}

/// The cheapest slots inside the window adding up to `minutes` (fewer when
/// the window is shorter); `None` when the prices do not cover the whole
/// window. Ties go to the earlier slot.
pub fn cheapest(slots: &[Priced], window: Span, minutes: i64) -> Option<Vec<Span>> {
    let mut inside = covered(slots, window)?;
    inside.sort_by(|a, b| a.2.total_cmp(&b.2).then(a.0.cmp(&b.0)));
    let mut got = 0;
    let mut chosen: Vec<Span> = Vec::new();
    for (s, e, _) in inside {
        if got >= minutes {
            break;
        }
        got += (e - s).num_minutes();
        chosen.push((s, e));
    }
    chosen.sort();
    Some(chosen)
}

/// A load's minimum on and off times, in minutes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Minimums {
    pub on: i64,
    pub off: i64,
}

/// Where a plan under construction stands after a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    /// No slot taken yet: the first block may start anywhere.
    Start,
    /// In a block, on for so many minutes (counted up to `min.on`).
    On(i64),
    /// Between blocks, off for so many minutes (counted up to `min.off`).
    Off(i64),
}

/// Like [`cheapest`], but every block of consecutive slots lasts at least
/// `min.on` and every gap between two blocks at least `min.off`, so that
/// carrying out the plan never switches the load sooner than it allows: the
/// cheapest such set of slots that adds up to `minutes` (or more, when a
/// block must be longer). Without such a set (a window shorter than
/// `min.on`) the whole window. Ties go to the earlier slots.
pub fn cheapest_with(slots: &[Priced], window: Span, minutes: i64, min: Minimums) -> Option<Vec<Span>> {
    if min == Minimums::default() {
        return cheapest(slots, window, minutes);
    }
    let inside = covered(slots, window)?;
    let whole = || inside.iter().map(|(s, e, _)| (*s, *e)).collect::<Vec<_>>();
    let total: i64 = inside.iter().map(minutes_of).sum();
    if minutes >= total {
        return Some(whole());
    }
    // Dynamic programming over the slots: for each (minutes taken, capped
    // at `minutes`; phase) the cheapest choice so far. Prices are per kWh,
    // so a slot costs its price times its length.
    type Best = std::collections::BTreeMap<(i64, Phase), (f64, Vec<bool>)>;
    let mut best: Best = Best::new();
    best.insert((0, Phase::Start), (0.0, Vec::new()));
    let better = |a: &(f64, Vec<bool>), b: &(f64, Vec<bool>)| {
        let tol = 1e-9 * a.0.abs().max(b.0.abs()).max(1.0);
        // Cheaper; on a tie the one that takes a slot first (the earlier slots).
        a.0 < b.0 - tol || ((a.0 - b.0).abs() <= tol && a.1 > b.1)
    };
    for slot in &inside {
        let d = minutes_of(slot);
        let mut next = Best::new();
        let mut offer = |key: (i64, Phase), v: (f64, Vec<bool>)| match next.get(&key) {
            Some(old) if !better(&v, old) => {}
            _ => {
                next.insert(key, v);
            }
        };
        for (&(got, phase), (cost, taken)) in &best {
            let take = match phase {
                Phase::Start => Some(d),
                Phase::On(r) => Some(r + d),
                Phase::Off(g) if g >= min.off => Some(d),
                Phase::Off(_) => None,
            };
            if let Some(run) = take {
                let mut t = taken.clone();
                t.push(true);
                offer(((got + d).min(minutes), Phase::On(run.min(min.on))), (cost + slot.2 * d as f64, t));
            }
            let skip = match phase {
                Phase::Start => Some(Phase::Start),
                Phase::On(r) if r >= min.on => Some(Phase::Off(d.min(min.off))),
                Phase::On(_) => None,
                Phase::Off(g) => Some(Phase::Off((g + d).min(min.off))),
            };
            if let Some(p) = skip {
                let mut t = taken.clone();
                t.push(false);
                offer((got, p), (*cost, t));
            }
        }
        best = next;
    }
    let mut end: Option<(f64, Vec<bool>)> = None;
    for (&(got, phase), v) in &best {
        let done = got >= minutes && !matches!(phase, Phase::On(r) if r < min.on);
        if done && end.as_ref().is_none_or(|e| better(v, e)) {
            end = Some(v.clone());
        }
    }
    Some(match end {
        Some((_, taken)) => inside.iter().zip(taken).filter(|(_, t)| *t).map(|((s, e, _), _)| (*s, *e)).collect(),
        None => whole(),
    })
}

/// One block of consecutive slots lasting `minutes` (at least `min_on`),
/// the cheapest in the window: for a load that must not stop midway (a
/// dishwasher, a car). The whole window when it is shorter; `None` when the
/// prices do not cover the window. Ties go to the earlier block.
pub fn contiguous(slots: &[Priced], window: Span, minutes: i64, min_on: i64) -> Option<Vec<Span>> {
    let inside = covered(slots, window)?;
    let length = minutes.max(min_on);
    let mut best: Option<(f64, usize, usize)> = None;
    for i in 0..inside.len() {
        let (mut got, mut cost) = (0, 0.0);
        for (j, slot) in inside.iter().enumerate().skip(i) {
            got += minutes_of(slot);
            cost += slot.2 * minutes_of(slot) as f64;
            if got >= length {
                let tol = 1e-9 * cost.abs().max(1.0);
                if best.is_none_or(|(c, _, _)| cost < c - tol) {
                    best = Some((cost, i, j));
                }
                break;
            }
        }
    }
    let (from, to) = best.map_or((0, inside.len()), |(_, i, j)| (i, j + 1));
    Some(inside.get(from..to).unwrap_or_default().iter().map(|(s, e, _)| (*s, *e)).collect())
}

/// A fixed fallback (`from`-`to`, local) inside the window, for before the
/// prices are out.
pub fn fallback(window: Span, tz: Tz, from: NaiveTime, to: NaiveTime) -> Vec<Span> {
    let mut out = Vec::new();
    for d in dates(window, tz) {
        let end_day = if to <= from { d.succ_opt().unwrap_or(d) } else { d };
        let (s, e) = (at(d, from, tz).max(window.0), at(end_day, to, tz).min(window.1));
        if s < e && !out.iter().any(|(a, b)| *a < e && s < *b) {
            out.push((s, e));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Oslo;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("time").to_utc()
    }
    fn hm(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).expect("time")
    }

    #[test]
    fn windows_across_midnight() {
        let w = |now: &str| window(t(now), Oslo, hm(22, 0), hm(7, 0));
        // 23:30 local: tonight's window.
        assert_eq!(w("2026-01-10T23:30:00+01:00"), (t("2026-01-10T22:00:00+01:00"), t("2026-01-11T07:00:00+01:00")));
        // 03:00: the window that began yesterday.
        assert_eq!(w("2026-01-11T03:00:00+01:00"), (t("2026-01-10T22:00:00+01:00"), t("2026-01-11T07:00:00+01:00")));
        // 12:00: tonight's, not yet begun.
        assert_eq!(w("2026-01-11T12:00:00+01:00"), (t("2026-01-11T22:00:00+01:00"), t("2026-01-12T07:00:00+01:00")));
        let day = window(t("2026-01-11T12:00:00+01:00"), Oslo, hm(10, 0), hm(16, 0));
        assert_eq!(day, (t("2026-01-11T10:00:00+01:00"), t("2026-01-11T16:00:00+01:00")));
        assert_eq!(dates(w("2026-01-11T03:00:00+01:00"), Oslo).len(), 2);
    }

    #[test]
    fn the_cheapest_quarters() {
        let w = (t("2026-01-10T22:00:00+01:00"), t("2026-01-10T23:00:00+01:00"));
        let q = |i: i64, p: f64| (w.0 + Duration::minutes(15 * i), w.0 + Duration::minutes(15 * (i + 1)), p);
        let slots = [q(0, 3.0), q(1, 1.0), q(2, 2.0), q(3, 1.0)];
        let got = cheapest(&slots, w, 30).expect("covered");
        assert_eq!(got, [(slots[1].0, slots[1].1), (slots[3].0, slots[3].1)]);
        assert_eq!(cheapest(&slots[..3], w, 30), None, "a missing quarter");
        assert_eq!(cheapest(&slots, w, 600).map(|v| v.len()), Some(4));
    }

    /// Quarters from 22:00 with these prices.
    fn quarters(prices: &[f64]) -> (Span, Vec<Priced>) {
        let start = t("2026-01-10T22:00:00+01:00");
        let q = |i: usize| start + Duration::minutes(15 * i as i64);
        let slots: Vec<Priced> = prices.iter().enumerate().map(|(i, p)| (q(i), q(i + 1), *p)).collect();
        ((start, q(prices.len())), slots)
    }

    /// The chosen quarters as indexes.
    fn picked(w: Span, got: &[Span]) -> Vec<i64> {
        got.iter().map(|(s, _)| (*s - w.0).num_minutes() / 15).collect()
    }

    #[test]
    fn one_block_the_cheapest_consecutive_quarters() {
        // Cheapest single quarters: 1 and 5 (1.0 each); cheapest hour in a
        // row: quarters 4-7 (3+1+2+2 = 8) against 0-3 (5+1+4+4 = 14) and
        // the others (1-4: 12, 2-5: 12, 3-6: 10, 4-7: 8, 5-8: 14).
        let (w, slots) = quarters(&[5.0, 1.0, 4.0, 4.0, 3.0, 1.0, 2.0, 2.0, 9.0]);
        assert_eq!(picked(w, &cheapest(&slots, w, 60).expect("covered")), [1, 5, 6, 7]);
        assert_eq!(picked(w, &contiguous(&slots, w, 60, 0).expect("covered")), [4, 5, 6, 7]);
        // 50 minutes is four quarters; min_on makes the block longer.
        assert_eq!(picked(w, &contiguous(&slots, w, 50, 0).expect("covered")), [4, 5, 6, 7]);
        assert_eq!(picked(w, &contiguous(&slots, w, 30, 45).expect("covered")), [5, 6, 7]);
        // Longer than the window: all of it.
        assert_eq!(contiguous(&slots, w, 600, 0).map(|v| v.len()), Some(9));
        assert_eq!(contiguous(&slots[1..], w, 60, 0), None, "a missing quarter");
    }

    #[test]
    fn minimum_times_shape_the_plan() {
        // Cheapest 30 minutes: quarters 1 and 4, apart. With min_on 30m
        // each block needs two quarters: 1-2 (1+3) beats 3-4 (8+1) and 4-5.
        let (w, slots) = quarters(&[9.0, 1.0, 3.0, 8.0, 1.0, 6.0, 9.0, 9.0]);
        assert_eq!(picked(w, &cheapest_with(&slots, w, 30, Minimums::default()).expect("covered")), [1, 4]);
        let on30 = Minimums { on: 30, off: 0 };
        assert_eq!(picked(w, &cheapest_with(&slots, w, 30, on30).expect("covered")), [1, 2]);
        // 60 minutes with min_on 30m: two blocks 1-2 and 4-5 (1+3+1+6 = 11)
        // beat any hour in a row; with min_off 45m the gap of one quarter
        // between them is too short, and 1-2 with 5-6 or 4-5 with 0-1 do
        // not fit either: one block 1-4 (1+3+8+1 = 13) is the cheapest.
        assert_eq!(picked(w, &cheapest_with(&slots, w, 60, on30).expect("covered")), [1, 2, 4, 5]);
        let both = Minimums { on: 30, off: 45 };
        assert_eq!(picked(w, &cheapest_with(&slots, w, 60, both).expect("covered")), [1, 2, 3, 4]);
        // A window shorter than min_on: all of it.
        let (w2, s2) = quarters(&[1.0, 2.0]);
        assert_eq!(cheapest_with(&s2, w2, 15, Minimums { on: 60, off: 0 }).map(|v| v.len()), Some(2));
    }
}
