//! The summary of a span of readings.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, Utc};
use chrono_tz::Tz;
use han_energy::hours::{Hour, Hours, Sample};
use serde::Serialize;

use crate::summary::{MonthPart, Span, Summary, Totals, combine, month_parts};

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
    /// Months summarised as they ended, their periods dropped.
    fold: Option<Fold>,
    parts: Vec<MonthPart>,
}

/// Summarising month by month: the span, the first reading (a month is
/// folded only when its start was seen, so a thread's first month is
/// joined whole with the thread before), and the current local month.
#[derive(Debug, Clone)]
struct Fold {
    span: Span,
    /// Nothing is read before this report's readings (the first thread):
    /// its first month is whole too.
    alone: bool,
    first: Option<DateTime<Utc>>,
    month: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

/// The local month holding `t`: its start and end.
fn month_bounds(tz: Tz, t: DateTime<Utc>) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let first = t.with_timezone(&tz).date_naive().with_day(1)?;
    let next = first.checked_add_months(Months::new(1))?;
    Some((han_common::times::day_bounds(tz, first).0, han_common::times::day_bounds(tz, next).0))
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

impl Power {
    /// The mean import power, to 0.1 W.
    pub(crate) fn mean(&self) -> Option<f64> {
        (self.n > 0).then(|| (self.sum / self.n as f64 * 10.0).round() / 10.0)
    }
}

impl Default for Report {
    fn default() -> Report {
        Report::new()
    }
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
            fold: None,
            parts: Vec::new(),
        }
    }

    /// A report for [`Report::summary`] of `span` alone, that keeps the
    /// periods of the months not yet over only: its memory does not grow
    /// with the span. (The hours of a long span are not kept for
    /// [`Report::periods`].)
    pub fn folding(span: Span) -> Report {
        Report { fold: Some(Fold { span, alone: true, first: None, month: None }), ..Report::new() }
    }

    /// Takes the report of the readings after this one's, gathered apart
    /// (another thread): the result is that of one pass over all of them.
    pub fn append(&mut self, later: Report) {
        self.hours.append(later.hours);
        self.quarters.append(later.quarters);
        self.readings += later.readings;
        self.skipped += later.skipped;
        self.parts.extend(later.parts);
        if let (Some(mine), Some(theirs)) = (&mut self.fold, later.fold) {
            mine.first = mine.first.or(theirs.first);
            mine.month = theirs.month.or(mine.month);
        }
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

    /// This report's readings are the first there are (the first thread's
    /// part): no part before it is joined to it.
    pub fn first_part(mut self) -> Report {
        if let Some(f) = &mut self.fold {
            f.alone = true;
        }
        self
    }

    /// An empty report that keeps the same minutes as this one (for a
    /// thread's part, joined after another's: [`Report::append`]).
    pub fn like(&self) -> Report {
        let mut r = Report::new();
        r.fold = self.fold.as_ref().map(|f| Fold { span: f.span.clone(), alone: false, first: None, month: None });
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
        self.fold_ended_month(at);
    }

    /// After a reading at `at`: the month before it, when it is over, is
    /// summarised and its periods dropped (no later reading adds to them:
    /// readings come in time order).
    fn fold_ended_month(&mut self, at: DateTime<Utc>) {
        let Some(f) = &mut self.fold else { return };
        let first = *f.first.get_or_insert(at);
        match f.month {
            Some((start, end)) if at >= end => {
                if first < start || f.alone {
                    let hours = self.hours.take(start, end);
                    let quarters = self.quarters.take(start, end);
                    self.parts.extend(month_parts(&hours, &quarters, &f.span));
                }
                f.month = month_bounds(f.span.tz, at);
            }
            Some(_) => {}
            None => f.month = month_bounds(f.span.tz, at),
        }
    }

    /// The summary of `span`'s days: the months folded so far and those
    /// still held as periods.
    pub fn summary(&self, span: &Span) -> Summary {
        let mut parts = self.parts.clone();
        parts.extend(month_parts(&self.hours.hours(), &self.quarters.hours(), span));
        let totals = Totals {
            readings: self.readings,
            skipped_lines: self.skipped,
            power: self.power,
            gaps: self.hours.gaps.clone(),
        };
        combine(parts, totals, span)
    }
}
