//! The summary of a span of readings.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;
use maxpower::hours::{Hour, Hours, Sample};
use serde::Serialize;

use crate::cost::{Costs, Prices};

/// Readings gathered; [`Report::summary`] makes the summary.
#[derive(Debug)]
pub struct Report {
    hours: Hours,
    quarters: Hours,
    power: Power,
    readings: u64,
    skipped: u64,
    /// Per-minute power sums (import, export, readings) within a span, for a day's chart.
    minutes: Option<(DateTime<Utc>, DateTime<Utc>, Minutes)>,
}

/// Per minute (since the epoch): import W sum, export W sum, readings.
type Minutes = BTreeMap<i64, (f64, f64, u32)>;

#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct Power {
    pub min_w: Option<f64>,
    pub max_w: Option<f64>,
    /// The mean of the readings' import power.
    pub avg_w: Option<f64>,
    #[serde(skip)]
    sum: f64,
    #[serde(skip)]
    n: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Day {
    pub date: NaiveDate,
    pub import_kwh: f64,
    pub export_kwh: f64,
    /// Every hour of the day is covered by readings.
    pub complete: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PeakHour {
    pub date: NaiveDate,
    pub start: DateTime<Utc>,
    pub kwh: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Month {
    /// `YYYY-MM`.
    pub month: String,
    pub import_kwh: f64,
    pub export_kwh: f64,
    /// Norway: the highest hours on three different days, their average
    /// and the step it falls in (0 = the first).
    pub norway_top: Vec<PeakHour>,
    pub norway_average_kwh: f64,
    pub norway_step: usize,
    /// Belgium: the highest quarter hour, as demand (W), and when.
    pub belgium_peak_w: Option<f64>,
    pub belgium_peak_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub costs: Option<Costs>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub tz: String,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub readings: u64,
    /// Lines of the logs that were not readings (torn, edited, not JSON):
    /// not counted, but said.
    pub skipped_lines: u64,
    pub import_kwh: f64,
    pub export_kwh: f64,
    pub days: Vec<Day>,
    pub months: Vec<Month>,
    /// The mean import (kWh) of each local hour of the day, 0-23, over the
    /// complete hours.
    pub profile_kwh: Vec<Option<f64>>,
    pub power: Power,
    /// Stretches without readings: from, to.
    pub gaps: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub costs: Option<Costs>,
}

impl Default for Report {
    fn default() -> Report {
        Report::new()
    }
}

fn r3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

impl Report {
    pub fn new() -> Report {
        Report {
            hours: Hours::new(Duration::hours(1)),
            quarters: Hours::new(Duration::minutes(15)),
            power: Power::default(),
            readings: 0,
            skipped: 0,
            minutes: None,
        }
    }

    /// Takes the report of the readings after this one's, gathered apart
    /// (another thread): the result is that of one pass over all of them.
    pub fn append(&mut self, later: Report) {
        self.hours.append(later.hours);
        self.quarters.append(later.quarters);
        self.readings += later.readings;
        self.skipped += later.skipped;
        let (a, b) = (&mut self.power, later.power);
        a.min_w = match (a.min_w, b.min_w) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        };
        a.max_w = match (a.max_w, b.max_w) {
            (Some(x), Some(y)) => Some(x.max(y)),
            (x, y) => x.or(y),
        };
        a.sum += b.sum;
        a.n += b.n;
        if let (Some((_, _, mine)), Some((_, _, theirs))) = (&mut self.minutes, later.minutes) {
            for (k, (i, e, n)) in theirs {
                let m = mine.entry(k).or_default();
                m.0 += i;
                m.1 += e;
                m.2 += n;
            }
        }
    }

    /// An empty report that keeps the same minutes as this one (for a thread).
    pub fn like(&self) -> Report {
        let mut r = Report::new();
        if let Some((a, b, _)) = &self.minutes {
            r.keep_minutes(*a, *b);
        }
        r
    }

    /// Keeps each minute's mean power within `[from, to)` (a day's chart).
    pub fn keep_minutes(&mut self, from: DateTime<Utc>, to: DateTime<Utc>) {
        self.minutes = Some((from, to, BTreeMap::new()));
    }

    /// The kept minutes: start, mean import W, mean export W.
    pub fn minutes(&self) -> Vec<(DateTime<Utc>, f64, f64)> {
        let Some((_, _, m)) = &self.minutes else { return Vec::new() };
        m.iter()
            .filter_map(|(k, (i, e, n))| {
                let n = f64::from((*n).max(1));
                Some((DateTime::from_timestamp(k * 60, 0)?, i / n, e / n))
            })
            .collect()
    }

    /// The hours (or quarters) of the local days `from..=to`.
    pub fn periods(&self, quarters: bool, tz: Tz, from: Option<NaiveDate>, to: Option<NaiveDate>) -> Vec<Hour> {
        let src = if quarters { &self.quarters } else { &self.hours };
        src.hours()
            .into_iter()
            .filter(|h| {
                let d = h.start.with_timezone(&tz).date_naive();
                from.is_none_or(|f| d >= f) && to.is_none_or(|t| d <= t)
            })
            .collect()
    }

    /// A line of the logs that is not a reading.
    pub fn skip(&mut self) {
        self.skipped += 1;
    }

    /// The lines skipped so far.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// A reading at `at` (in time order, as the day files hold them).
    pub fn add(&mut self, at: DateTime<Utc>, s: &Sample) {
        self.readings += 1;
        self.hours.add(at, s);
        self.quarters.add(at, s);
        if let Some((from, to, m)) = &mut self.minutes {
            if *from <= at && at < *to {
                let e = m.entry(at.timestamp().div_euclid(60)).or_default();
                e.0 += s.import_w.unwrap_or(0.0);
                e.1 += s.export_w.unwrap_or(0.0);
                e.2 += 1;
            }
        }
        if let Some(w) = s.import_w {
            let p = &mut self.power;
            p.min_w = Some(p.min_w.map_or(w, |m| m.min(w)));
            p.max_w = Some(p.max_w.map_or(w, |m| m.max(w)));
            p.sum += w;
            p.n += 1;
        }
    }

    /// The summary of the local days `from..=to` (all when `None`).
    pub fn summary(
        &self,
        tz: Tz,
        steps: &[f64],
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        prices: Option<&Prices>,
    ) -> Summary {
        let inside = |h: &Hour| {
            let d = h.start.with_timezone(&tz).date_naive();
            from.is_none_or(|f| d >= f) && to.is_none_or(|t| d <= t)
        };
        let hours: Vec<Hour> = self.hours.hours().into_iter().filter(inside).collect();
        let quarters: Vec<Hour> = self.quarters.hours().into_iter().filter(inside).collect();
        let local = |t: DateTime<Utc>| t.with_timezone(&tz);
        // Days.
        let mut days: BTreeMap<NaiveDate, (f64, f64, usize)> = BTreeMap::new();
        for h in &hours {
            let e = days.entry(local(h.start).date_naive()).or_default();
            e.0 += h.import_wh;
            e.1 += h.export_wh;
            e.2 += usize::from(h.complete);
        }
        let costs_by_day = prices.map(|p| crate::cost::by_day(&quarters, p, tz));
        let days: Vec<Day> = days
            .into_iter()
            .map(|(date, (imp, exp, complete))| {
                let (s, e) = han_common::times::day_bounds(tz, date);
                let len = usize::try_from((e - s).num_hours()).unwrap_or(24);
                Day {
                    date,
                    import_kwh: r3(imp / 1000.0),
                    export_kwh: r3(exp / 1000.0),
                    complete: complete == len,
                    cost: costs_by_day.as_ref().and_then(|c| c.get(&date)).map(|c| c.cost),
                }
            })
            .collect();
        // Months.
        let mut months: BTreeMap<(i32, u32), Vec<Hour>> = BTreeMap::new();
        for h in &hours {
            let l = local(h.start);
            months.entry((l.year(), l.month())).or_default().push(*h);
        }
        let months: Vec<Month> = months
            .into_iter()
            .map(|((y, m), hs)| {
                let complete: Vec<Hour> = hs.iter().filter(|h| h.complete).copied().collect();
                let no = maxpower::capacity::month(&complete, tz, steps);
                let qs: Vec<Hour> = quarters
                    .iter()
                    .filter(|q| q.complete && (local(q.start).year(), local(q.start).month()) == (y, m))
                    .copied()
                    .collect();
                let be = maxpower::belgium::computed(&qs);
                Month {
                    month: format!("{y:04}-{m:02}"),
                    import_kwh: r3(hs.iter().map(|h| h.import_wh).sum::<f64>() / 1000.0),
                    export_kwh: r3(hs.iter().map(|h| h.export_wh).sum::<f64>() / 1000.0),
                    norway_top: no
                        .top
                        .iter()
                        .map(|d| PeakHour { date: d.date, start: d.hour, kwh: r3(d.kwh) })
                        .collect(),
                    norway_average_kwh: r3(no.average_kwh),
                    norway_step: no.step,
                    belgium_peak_w: be.map(|p| r3(p.w)),
                    belgium_peak_at: be.and_then(|p| p.at),
                    costs: prices.map(|p| crate::cost::total(&qs_all(&quarters, y, m, tz), p, tz)),
                }
            })
            .collect();
        // The hour-of-day profile.
        let mut prof = [(0.0f64, 0u32); 24];
        for h in hours.iter().filter(|h| h.complete) {
            if let Some(slot) = prof.get_mut(local(h.start).hour() as usize) {
                slot.0 += h.import_wh / 1000.0;
                slot.1 += 1;
            }
        }
        let mut power = self.power;
        power.avg_w = (power.n > 0).then(|| (power.sum / power.n as f64 * 10.0).round() / 10.0);
        Summary {
            tz: tz.name().to_string(),
            from,
            to,
            readings: self.readings,
            skipped_lines: self.skipped,
            import_kwh: r3(hours.iter().map(|h| h.import_wh).sum::<f64>() / 1000.0),
            export_kwh: r3(hours.iter().map(|h| h.export_wh).sum::<f64>() / 1000.0),
            days,
            months,
            profile_kwh: prof.iter().map(|(s, n)| (*n > 0).then(|| r3(s / f64::from(*n)))).collect(),
            power,
            gaps: self.hours.gaps.clone(),
            costs: prices.map(|p| crate::cost::total(&quarters, p, tz)),
        }
    }
}

/// A month's quarters, complete or not (costs count all energy).
fn qs_all(quarters: &[Hour], y: i32, m: u32, tz: Tz) -> Vec<Hour> {
    quarters
        .iter()
        .filter(|q| {
            let l = q.start.with_timezone(&tz);
            (l.year(), l.month()) == (y, m)
        })
        .copied()
        .collect()
}
