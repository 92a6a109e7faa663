//! The summary's parts: each local month's days, peaks, profile and costs,
//! made from its hours and quarters, and the whole made from the months. A
//! long span keeps only its months' parts, not their periods
//! ([`crate::report::Report::folding`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Datelike, DurationRound, FixedOffset, NaiveDate, TimeDelta, Timelike, Utc};
use chrono_tz::Tz;
use han_energy::hours::Hour;
use serde::Serialize;

use crate::cost::{Costs, Prices, Quarter, Sums};
use crate::report::Power;

/// What a summary is of: the zone of its days, the Norwegian steps, the
/// local days `from..=to` (all when `None`) and the prices, if any.
#[derive(Debug, Clone)]
pub struct Span {
    pub tz: Tz,
    pub steps: Vec<f64>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub prices: Option<Arc<Prices>>,
    /// Each hour in the summary too (`--hours`).
    pub hours: bool,
    /// The import of `from`'s month before `from`, kWh: the support cap
    /// counts from the month's start.
    pub used_before_kwh: f64,
}

impl Span {
    fn inside(&self, h: &Hour) -> bool {
        let d = h.start.with_timezone(&self.tz).date_naive();
        self.from.is_none_or(|f| d >= f) && self.to.is_none_or(|t| d <= t)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Day {
    pub date: NaiveDate,
    pub import_kwh: f64,
    pub export_kwh: f64,
    /// Every hour of the day is covered by readings.
    pub complete: bool,
    /// With prices: its quarters at their slots' prices, `null` when none
    /// had a price. Absent without prices.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<Option<f64>>,
    /// The import without a price and its share, when there is some.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unpriced_kwh: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unpriced_share: Option<f64>,
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
    /// Each hour, with `--hours`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hours: Option<Vec<HourRow>>,
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

/// One clock hour, for `--hours`.
#[derive(Debug, Clone, Serialize)]
pub struct HourRow {
    /// Its local start, with the offset (two hours of a summer-time end
    /// share a clock time, not an offset).
    pub start: DateTime<FixedOffset>,
    pub import_kwh: f64,
    pub export_kwh: f64,
    pub complete: bool,
    /// With prices: each priced quarter's import times its slot's price,
    /// `null` when no quarter of the hour had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<Option<f64>>,
    /// The import without a price and its share, when there is some.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unpriced_kwh: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unpriced_share: Option<f64>,
}

/// One local month's share of the summary.
#[derive(Debug, Clone)]
pub struct MonthPart {
    days: Vec<Day>,
    hours: Vec<HourRow>,
    month: Month,
    /// Per local hour of the day: import kWh of the complete hours, and their count.
    profile: [(f64, u32); 24],
    import_wh: f64,
    export_wh: f64,
    costs: Option<Sums>,
}

fn r3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The parts of the months that `hours` and `quarters` (in time order)
/// touch, within the span's days.
pub fn month_parts(hours: &[Hour], quarters: &[Hour], span: &Span) -> Vec<MonthPart> {
    let tz = span.tz;
    let month_of = |h: &Hour| {
        let l = h.start.with_timezone(&tz);
        (l.year(), l.month())
    };
    let mut months: BTreeMap<(i32, u32), (Vec<Hour>, Vec<Hour>)> = BTreeMap::new();
    for h in hours.iter().filter(|h| span.inside(h)) {
        months.entry(month_of(h)).or_default().0.push(*h);
    }
    for q in quarters.iter().filter(|q| span.inside(q)) {
        months.entry(month_of(q)).or_default().1.push(*q);
    }
    months.into_iter().map(|((y, m), (hs, qs))| month_part(y, m, &hs, &qs, span)).collect()
}

fn month_part(y: i32, m: u32, hours: &[Hour], quarters: &[Hour], span: &Span) -> MonthPart {
    let tz = span.tz;
    let local = |t: DateTime<Utc>| t.with_timezone(&tz);
    let prices = span.prices.as_deref();
    // The support cap counts the month's import from its start.
    let before = match span.from {
        Some(f) if (f.year(), f.month()) == (y, m) => span.used_before_kwh,
        _ => 0.0,
    };
    let priced = prices.map(|p| crate::cost::priced(quarters, p, before));
    let costs_by_day = priced.as_deref().zip(prices).map(|(qs, p)| crate::cost::by_day(qs, tz, p.support_cap));
    let mut days: BTreeMap<NaiveDate, (f64, f64, usize)> = BTreeMap::new();
    for h in hours {
        let e = days.entry(local(h.start).date_naive()).or_default();
        e.0 += h.import_wh;
        e.1 += h.export_wh;
        e.2 += usize::from(h.complete);
    }
    let days: Vec<Day> = days
        .into_iter()
        .map(|(date, (imp, exp, complete))| {
            let (s, e) = han_common::times::day_bounds(tz, date);
            let len = usize::try_from((e - s).num_hours()).unwrap_or(24);
            let c = costs_by_day.as_ref().map(|c| c.get(&date).copied().unwrap_or_default());
            Day {
                date,
                import_kwh: r3(imp / 1000.0),
                export_kwh: r3(exp / 1000.0),
                complete: complete == len,
                cost: c.map(|c| c.cost),
                unpriced_kwh: c.filter(|c| c.unpriced_share.is_some()).map(|c| c.unpriced_kwh),
                unpriced_share: c.and_then(|c| c.unpriced_share),
            }
        })
        .collect();
    let complete: Vec<Hour> = hours.iter().filter(|h| h.complete).copied().collect();
    let no = han_energy::capacity::month(&complete, tz, &span.steps);
    let complete_qs: Vec<Hour> = quarters.iter().filter(|q| q.complete).copied().collect();
    let be = han_energy::belgium::computed(&complete_qs);
    let import_wh: f64 = hours.iter().map(|h| h.import_wh).sum();
    let export_wh: f64 = hours.iter().map(|h| h.export_wh).sum();
    let costs = priced.as_deref().zip(costs_by_day.as_ref()).map(|(qs, by_day)| Sums::of(qs, by_day));
    let mut profile = [(0.0f64, 0u32); 24];
    for h in &complete {
        if let Some(slot) = profile.get_mut(local(h.start).hour() as usize) {
            slot.0 += h.import_wh / 1000.0;
            slot.1 += 1;
        }
    }
    MonthPart {
        days,
        hours: if span.hours { hour_rows(hours, priced.as_deref(), span) } else { Vec::new() },
        month: Month {
            month: format!("{y:04}-{m:02}"),
            import_kwh: r3(import_wh / 1000.0),
            export_kwh: r3(export_wh / 1000.0),
            norway_top: no.top.iter().map(|d| PeakHour { date: d.date, start: d.hour, kwh: r3(d.kwh) }).collect(),
            norway_average_kwh: r3(no.average_kwh),
            norway_step: no.step,
            belgium_peak_w: be.map(|p| r3(p.w)),
            belgium_peak_at: be.and_then(|p| p.at),
            costs: costs.map(|c| c.costs()),
        },
        profile,
        import_wh,
        export_wh,
        costs,
    }
}

/// The hours as rows, each with its cost from its priced quarters (`None`
/// without prices).
fn hour_rows(hours: &[Hour], quarters: Option<&[Quarter]>, span: &Span) -> Vec<HourRow> {
    let mut by_hour: BTreeMap<DateTime<Utc>, Vec<Quarter>> = BTreeMap::new();
    for q in quarters.unwrap_or_default() {
        by_hour.entry(q.start.duration_trunc(TimeDelta::hours(1)).unwrap_or(q.start)).or_default().push(*q);
    }
    hours
        .iter()
        .map(|h| {
            let c = quarters.map(|_| crate::cost::cost_of(by_hour.get(&h.start).into_iter().flatten()));
            let share = c.and_then(|(_, priced, unpriced)| crate::cost::share(unpriced, priced));
            HourRow {
                start: h.start.with_timezone(&span.tz).fixed_offset(),
                import_kwh: r3(h.import_wh / 1000.0),
                export_kwh: r3(h.export_wh / 1000.0),
                complete: h.complete,
                cost: c.map(|(cost, _, _)| cost),
                unpriced_kwh: c.filter(|_| share.is_some()).map(|(_, _, u)| crate::cost::r(u)),
                unpriced_share: share,
            }
        })
        .collect()
}

/// What the summary has besides its months.
#[derive(Debug)]
pub struct Totals {
    pub readings: u64,
    pub skipped_lines: u64,
    pub power: Power,
    pub gaps: Vec<(DateTime<Utc>, DateTime<Utc>)>,
}

/// The summary of some months' parts (in any order; each month once).
pub fn combine(mut parts: Vec<MonthPart>, totals: Totals, span: &Span) -> Summary {
    parts.sort_by(|a, b| a.month.month.cmp(&b.month.month));
    let mut profile = [(0.0f64, 0u32); 24];
    let (mut import_wh, mut export_wh) = (0.0, 0.0);
    let mut costs: Option<Sums> = None;
    for p in &parts {
        for (sum, add) in profile.iter_mut().zip(p.profile) {
            sum.0 += add.0;
            sum.1 += add.1;
        }
        import_wh += p.import_wh;
        export_wh += p.export_wh;
        if let Some(c) = &p.costs {
            costs.get_or_insert_default().add(c);
        }
    }
    let mut power = totals.power;
    power.avg_w = power.mean();
    Summary {
        tz: span.tz.name().to_string(),
        from: span.from,
        to: span.to,
        readings: totals.readings,
        skipped_lines: totals.skipped_lines,
        import_kwh: r3(import_wh / 1000.0),
        export_kwh: r3(export_wh / 1000.0),
        days: parts.iter().flat_map(|p| p.days.iter().cloned()).collect(),
        hours: span.hours.then(|| parts.iter().flat_map(|p| p.hours.iter().cloned()).collect()),
        profile_kwh: profile.iter().map(|(s, n)| (*n > 0).then(|| r3(s / f64::from(*n)))).collect(),
        power,
        gaps: totals.gaps,
        // A span with prices but no quarters has costs of nothing.
        costs: span.prices.as_ref().map(|_| costs.unwrap_or_default().costs()),
        months: parts.into_iter().map(|p| p.month).collect(),
    }
}
