//! What `show` and the page say of a day: the current slot, the cheapest
//! and dearest, min/avg/max (of the all-in price where there is one, else of
//! spot), and hour means for users billed per hour.

use chrono::{DateTime, Timelike, Utc};
use serde::Serialize;

use crate::file::{PriceFile, SlotPrice};
use crate::slots::round;

/// The price a user pays attention to.
pub fn value(p: &SlotPrice) -> f64 {
    p.total_per_kwh.unwrap_or(p.spot_per_kwh)
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// `total` or `spot`: which price min/avg/max are of.
    pub of: &'static str,
    pub min: f64,
    /// Time-weighted.
    pub avg: f64,
    pub max: f64,
    pub cheapest: SlotPrice,
    pub dearest: SlotPrice,
    pub current: Option<SlotPrice>,
}

/// The day's summary; `None` for a file without slots.
pub fn summary(slots: &[SlotPrice], now: DateTime<Utc>) -> Option<Summary> {
    let first = slots.first()?;
    let of = if first.total_per_kwh.is_some() { "total" } else { "spot" };
    let mut cheapest = first;
    let mut dearest = first;
    let (mut sum, mut minutes) = (0.0, 0.0);
    for s in slots {
        // The first of equal prices is the one named.
        if value(s) < value(cheapest) {
            cheapest = s;
        }
        if value(s) > value(dearest) {
            dearest = s;
        }
        let m = (s.end - s.start).num_minutes() as f64;
        sum += value(s) * m;
        minutes += m;
    }
    Some(Summary {
        of,
        min: value(cheapest),
        avg: round(sum / minutes.max(1.0), 5),
        max: value(dearest),
        cheapest: cheapest.clone(),
        dearest: dearest.clone(),
        current: slots.iter().find(|s| s.start <= now && now < s.end).cloned(),
    })
}

/// The file's hour means, or means made from its slots.
pub fn hours(f: &PriceFile) -> Vec<SlotPrice> {
    if let Some(h) = &f.hours {
        return h.clone();
    }
    let mut out: Vec<SlotPrice> = Vec::new();
    let mut parts: Vec<&SlotPrice> = Vec::new();
    let hour = |t: DateTime<Utc>| t.with_minute(0).and_then(|t| t.with_second(0)).unwrap_or(t);
    let flush = |parts: &mut Vec<&SlotPrice>, out: &mut Vec<SlotPrice>| {
        let minutes: i64 = parts.iter().map(|p| (p.end - p.start).num_minutes()).sum();
        if let (60, Some(first)) = (minutes, parts.first()) {
            let mean = |f: &dyn Fn(&SlotPrice) -> f64| {
                parts.iter().map(|p| f(p) * (p.end - p.start).num_minutes() as f64).sum::<f64>() / 60.0
            };
            let total = first.total_per_kwh.map(|_| round(mean(&|p| p.total_per_kwh.unwrap_or(0.0)), 5));
            out.push(SlotPrice {
                start: hour(first.start),
                end: hour(first.start) + chrono::Duration::hours(1),
                eur_per_mwh: round(mean(&|p| p.eur_per_mwh), 6),
                spot_per_kwh: round(mean(&|p| p.spot_per_kwh), 5),
                total_per_kwh: total,
            });
        }
        parts.clear();
    };
    for s in &f.slots {
        if parts.first().is_some_and(|p| hour(p.start) != hour(s.start)) {
            flush(&mut parts, &mut out);
        }
        parts.push(s);
    }
    flush(&mut parts, &mut out);
    out
}
