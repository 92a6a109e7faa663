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

/// The cheapest slots inside the window adding up to `minutes` (fewer when
/// the window is shorter); `None` when the prices do not cover the whole
/// window. Ties go to the earlier slot.
pub fn cheapest(
    slots: &[Priced],
    window: (DateTime<Utc>, DateTime<Utc>),
    minutes: i64,
) -> Option<Vec<(DateTime<Utc>, DateTime<Utc>)>> {
    let mut inside: Vec<Priced> = slots.iter().copied().filter(|(s, e, _)| *s >= window.0 && *e <= window.1).collect();
    inside.sort_by_key(|(s, _, _)| *s);
    // The prices must cover the window without a gap.
    let mut at = window.0;
    for (s, e, _) in &inside {
        if *s != at {
            return None;
        }
        at = *e;
    }
    if at != window.1 {
        return None;
    }
    inside.sort_by(|a, b| a.2.total_cmp(&b.2).then(a.0.cmp(&b.0)));
    let mut got = 0;
    let mut chosen: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
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

/// A fixed fallback (`from`-`to`, local) inside the window, for before the
/// prices are out.
pub fn fallback(
    window: (DateTime<Utc>, DateTime<Utc>),
    tz: Tz,
    from: NaiveTime,
    to: NaiveTime,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
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
}
