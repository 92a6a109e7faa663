//! What a run found, in one value: printed as text, as JSON, written to
//! the page, and what the mails are made of.

use chrono::{DateTime, SecondsFormat, Utc};
use han_common::times::day_bounds;
use han_common::tz::Tz;
use han_energy::hours::{Current, Hour};
use han_energy::{belgium, capacity};
use serde::Serialize;

use crate::cli::Tariff;
use crate::read::{Scan, month_start};
use crate::state::MonthPeak;

/// An instant as RFC 3339 in UTC (state keys, JSON).
pub fn utc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// An instant as local RFC 3339.
fn local(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).to_rfc3339_opts(SecondsFormat::Secs, false)
}

#[derive(Debug, Clone, Serialize)]
pub struct HourOut {
    /// Its start, local RFC 3339.
    pub start: String,
    #[serde(skip)]
    pub at: DateTime<Utc>,
    pub import_wh: f64,
    pub export_wh: f64,
    /// `registers` or `power` (integrated).
    pub source: &'static str,
    /// Whether readings cover all of it.
    pub complete: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct CurrentOut {
    pub start: String,
    #[serde(skip)]
    pub at: DateTime<Utc>,
    pub so_far_wh: f64,
    pub recent_w: Option<f64>,
    pub projected_wh: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PeakOut {
    pub date: String,
    pub hour: String,
    pub kwh: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Norway {
    /// The highest hours on three different days, highest first.
    pub top: Vec<PeakOut>,
    pub average_kwh: f64,
    /// 1 for the first step.
    pub step: usize,
    /// The step's bounds, kWh/h (no upper bound for the top step).
    pub step_from_kwh: f64,
    pub step_to_kwh: Option<f64>,
    /// The steps' upper bounds.
    pub steps: Vec<f64>,
    /// How much more the current hour may take before the month's step rises (none in the top step).
    pub headroom_wh: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MonthOut {
    pub month: String,
    pub peak_w: f64,
    pub source: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Belgium {
    /// This month's peak quarter-hour demand, W: the meter's when it sends it, else computed.
    pub month_peak_w: Option<f64>,
    pub month_peak_time: Option<String>,
    pub peak_from_meter: bool,
    /// The peak computed from the readings.
    pub computed_peak_w: Option<f64>,
    /// What the month is billed at (at least 2.5 kW).
    pub billed_w: f64,
    /// The mean of the last 12 months' billed peaks (this one included).
    pub mean_12_w: f64,
    /// The months that mean is of, newest first.
    pub months: Vec<MonthOut>,
    /// The quarter hour now running.
    pub quarter: Option<CurrentOut>,
    /// How much more it may take before it sets a new billed peak, Wh.
    pub quarter_headroom_wh: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GapOut {
    pub from: String,
    pub to: String,
    pub minutes: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub now: String,
    #[serde(skip)]
    pub at: DateTime<Utc>,
    pub tz: String,
    pub month: String,
    pub tariff: Tariff,
    /// `flag or config`, `meter data` or `default`.
    pub tariff_from: &'static str,
    pub limit_wh: Option<f64>,
    pub last_reading: Option<String>,
    pub readings: u64,
    pub not_readings: u64,
    /// Day files whose last line is torn (skipped, like `not_readings`).
    pub torn_last_lines: Vec<String>,
    pub today: Vec<HourOut>,
    pub month_import_kwh: f64,
    pub month_export_kwh: f64,
    /// The month's hours over the limit.
    pub over_limit: Vec<HourOut>,
    pub current: Option<CurrentOut>,
    pub norway: Option<Norway>,
    pub belgium: Option<Belgium>,
    pub gaps: Vec<GapOut>,
    /// Register snapshots seen again and not counted twice.
    pub repeated: u64,
}

/// The period now running, when readings are coming for it.
fn current_out(c: &Current, tz: Tz) -> Option<CurrentOut> {
    c.is_running().then(|| CurrentOut {
        start: local(c.start, tz),
        at: c.start,
        so_far_wh: c.so_far_wh,
        recent_w: c.recent_w,
        projected_wh: c.projected_wh,
    })
}

fn hour_out(h: &Hour, tz: Tz) -> HourOut {
    HourOut {
        start: local(h.start, tz),
        at: h.start,
        import_wh: h.import_wh,
        export_wh: h.export_wh,
        source: if h.from_registers { "registers" } else { "power" },
        complete: h.complete,
    }
}

/// What the month's bounds are, in UTC.
pub fn month_bounds(now: DateTime<Utc>, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    let first = month_start(now, tz);
    let next = first.checked_add_months(chrono::Months::new(1)).unwrap_or(first);
    (day_bounds(tz, first).0, day_bounds(tz, next).0)
}

/// The inputs a summary needs besides the readings.
#[derive(Debug)]
pub struct Given<'a> {
    pub now: DateTime<Utc>,
    pub tz: Tz,
    pub tariff: Option<Tariff>,
    pub limit_wh: Option<f64>,
    pub steps: &'a [f64],
    /// Past months' peaks from the state file.
    pub months: &'a std::collections::BTreeMap<String, MonthPeak>,
}

pub fn summarise(scan: &Scan, g: &Given<'_>) -> Summary {
    let tz = g.tz;
    let (from, to) = month_bounds(g.now, tz);
    let sums = scan.hours();
    let month: Vec<Hour> = sums.hours().into_iter().filter(|h| h.start >= from && h.start < to).collect();
    let current = sums.current(g.now);
    let done: Vec<Hour> = month.iter().filter(|h| h.start != current.start).copied().collect();
    let today = g.now.with_timezone(&tz).date_naive();
    let (t0, t1) = day_bounds(tz, today);
    let (tariff, tariff_from) = match (g.tariff, scan.hint) {
        (Some(t), _) => (t, "flag or config"),
        (None, Some(t)) => (t, "meter data"),
        (None, None) => (Tariff::None, "default"),
    };
    let norway = (tariff == Tariff::No).then(|| {
        let m = capacity::month(&done, tz, g.steps);
        let step_from_kwh = m.step.checked_sub(1).and_then(|i| g.steps.get(i)).copied().unwrap_or(0.0);
        Norway {
            top: m
                .top
                .iter()
                .map(|d| PeakOut { date: d.date.to_string(), hour: local(d.hour, tz), kwh: d.kwh })
                .collect(),
            average_kwh: m.average_kwh,
            step: m.step + 1,
            step_from_kwh,
            step_to_kwh: g.steps.get(m.step).copied(),
            steps: g.steps.to_vec(),
            headroom_wh: capacity::headroom(&done, current.start, current.so_far_wh, tz, g.steps),
        }
    });
    let month_name = from.with_timezone(&tz).format("%Y-%m").to_string();
    let belgium = (tariff == Tariff::Be).then(|| belgium(scan, g, (from, to), &month_name));
    Summary {
        now: local(g.now, tz),
        at: g.now,
        tz: tz.name().to_owned(),
        month: month_name,
        tariff,
        tariff_from,
        limit_wh: g.limit_wh,
        last_reading: sums.last_reading().map(|t| local(t, tz)),
        readings: scan.readings,
        not_readings: scan.bad,
        torn_last_lines: scan.torn.clone(),
        today: month.iter().filter(|h| h.start >= t0 && h.start < t1).map(|h| hour_out(h, tz)).collect(),
        month_import_kwh: month.iter().map(|h| h.import_wh).sum::<f64>() / 1000.0,
        month_export_kwh: month.iter().map(|h| h.export_wh).sum::<f64>() / 1000.0,
        over_limit: match g.limit_wh {
            Some(l) => done.iter().filter(|h| h.import_wh > l).map(|h| hour_out(h, tz)).collect(),
            None => Vec::new(),
        },
        current: current_out(&current, tz),
        norway,
        belgium,
        gaps: sums
            .gaps
            .iter()
            .filter(|(a, b)| *b > from && *a < to)
            .map(|(a, b)| GapOut { from: local(*a, tz), to: local(*b, tz), minutes: (*b - *a).num_minutes() })
            .collect(),
        repeated: sums.repeated,
    }
}

fn belgium(scan: &Scan, g: &Given<'_>, (from, to): (DateTime<Utc>, DateTime<Utc>), this: &str) -> Belgium {
    let tz = g.tz;
    let sums = scan.quarters();
    let quarters: Vec<Hour> = sums.hours().into_iter().filter(|h| h.start >= from && h.start < to).collect();
    let computed = belgium::computed(&quarters);
    // The meter resets its peak when its month starts: only this month's reading counts.
    let meter = scan.meter_peak.as_ref().filter(|(_, _, at)| *at >= from && *at < to);
    let (peak, peak_time, from_meter) = match (meter, computed) {
        (Some((w, t, _)), _) => (Some(*w), t.clone(), true),
        (None, Some(p)) => (Some(p.w), p.at.map(|t| local(t, tz)), false),
        (None, None) => (None, None, false),
    };
    let mut known: std::collections::BTreeMap<String, MonthOut> = g
        .months
        .iter()
        .filter(|(m, _)| m.as_str() < this)
        .map(|(m, p)| (m.clone(), MonthOut { month: m.clone(), peak_w: p.peak_w, source: p.source.clone() }))
        .collect();
    for (m, w) in scan.meter_history() {
        if m.as_str() < this {
            known.insert(m.clone(), MonthOut { month: m, peak_w: w, source: "meter".into() });
        }
    }
    let mut months: Vec<MonthOut> = Vec::new();
    if let Some(w) = peak {
        let source = if from_meter { "meter" } else { "computed" };
        months.push(MonthOut { month: this.to_owned(), peak_w: w, source: source.into() });
    }
    months.extend(known.into_values().rev());
    months.truncate(belgium::MONTHS);
    let peaks: Vec<f64> = months.iter().map(|m| m.peak_w).collect();
    let q = sums.current(g.now);
    Belgium {
        month_peak_w: peak,
        month_peak_time: peak_time,
        peak_from_meter: from_meter,
        computed_peak_w: computed.map(|p| p.w),
        billed_w: belgium::billed(peak.unwrap_or(0.0)),
        mean_12_w: belgium::mean_w(&peaks),
        months,
        quarter: current_out(&q, tz),
        quarter_headroom_wh: q.is_running().then(|| belgium::headroom_wh(peak.unwrap_or(0.0), q.so_far_wh)),
    }
}
