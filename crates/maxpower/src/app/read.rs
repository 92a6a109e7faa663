//! Readings in, hours summed: from the daily logs of the month, and from
//! the live stream with `--follow`. One [`Scan`] takes both.

use std::path::Path;

use anyhow::{Context, Result};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use han_common::days::{Clock, Days};
use han_common::line::Line;
use han_common::logs;
use han_common::tz::Tz;
use maxpower::hours::{Hours, Sample};

use super::cli::Tariff;

/// Norwegian HAN list identifiers (NEK/NVE lists of Aidon, Kaifa, Kamstrup).
const NORWEGIAN_LISTS: &[&str] = &["AIDON_V", "KFM_", "Kamstrup_V"];

/// What the readings gave.
#[derive(Debug)]
pub struct Scan {
    pub hours: Hours,
    /// Quarter hours, summed only for Belgium (told, or seen in the data).
    pub quarters: Option<Hours>,
    days: Days,
    /// The tariff the meter's data points to.
    pub hint: Option<Tariff>,
    /// The meter's own month peak (Belgium 1-0:1.6.0): W, its time as sent,
    /// and the reading's instant.
    pub meter_peak: Option<(f64, Option<String>, DateTime<Utc>)>,
    /// A recent line with the meter's demand history (0-0:98.1.0), kept once an hour.
    pub history_line: Option<Vec<u8>>,
    history_hour: Option<DateTime<Utc>>,
    /// Readings taken, and lines that were not readings.
    pub readings: u64,
    pub bad: u64,
    pub unfinished: u64,
    /// The tariff as told (quarters are summed only when it is Belgium's or unknown).
    told: Option<Tariff>,
    /// Readings after this are left out (`--now`: the month as it stood then).
    pub until: Option<DateTime<Utc>>,
}

/// The month holding `now` in `tz`: its first day.
pub fn month_start(now: DateTime<Utc>, tz: Tz) -> NaiveDate {
    let d = now.with_timezone(&tz).date_naive();
    d.with_day(1).unwrap_or(d)
}

/// The quantities read, by index (looked up once).
struct Wanted {
    import_w: usize,
    export_w: usize,
    import_kwh: usize,
    export_kwh: usize,
    peak_w: usize,
    peak_time: usize,
    quarter_w: usize,
}

fn wanted() -> &'static Wanted {
    static W: std::sync::OnceLock<Wanted> = std::sync::OnceLock::new();
    W.get_or_init(|| {
        let i = |name| han_common::line::index(name).unwrap_or(usize::MAX);
        Wanted {
            import_w: i("power_import_w"),
            export_w: i("power_export_w"),
            import_kwh: i("energy_import_kwh"),
            export_kwh: i("energy_export_kwh"),
            peak_w: i("demand_month_peak_w"),
            peak_time: i("demand_month_peak_time"),
            quarter_w: i("demand_quarter_w"),
        }
    })
}

fn quarter_hours() -> Hours {
    Hours::new(Duration::minutes(15))
}

impl Scan {
    /// `tariff` as told (`None`: from the data).
    pub fn new(tz: Tz, tariff: Option<Tariff>) -> Scan {
        Scan {
            hours: Hours::default(),
            quarters: (tariff == Some(Tariff::Be)).then(quarter_hours),
            days: Days::new(tz, Clock::Meter),
            hint: None,
            meter_peak: None,
            history_line: None,
            history_hour: None,
            readings: 0,
            bad: 0,
            unfinished: 0,
            until: None,
            told: tariff,
        }
    }

    /// Takes one line (a reading, or something else that is counted).
    /// `now` stands in for a reading without any time.
    pub fn take(&mut self, bytes: &[u8], line: Result<Line<'_>, impl std::fmt::Display>, now: DateTime<Utc>) {
        let Ok(line) = line else {
            self.bad += 1;
            return;
        };
        let at = self.days.stamp(&line, now).at;
        if self.until.is_some_and(|u| at > u) {
            return;
        }
        self.readings += 1;
        let w = wanted();
        let sample = Sample {
            import_w: line.number_at(w.import_w),
            export_w: line.number_at(w.export_w),
            import_kwh: line.number_at(w.import_kwh),
            export_kwh: line.number_at(w.export_kwh),
        };
        self.hours.add(at, &sample);
        let peak = line.number_at(w.peak_w);
        if self.quarters.is_none() && self.told.is_none() && (peak.is_some() || line.number_at(w.quarter_w).is_some()) {
            self.quarters = Some(quarter_hours());
        }
        if let Some(q) = &mut self.quarters {
            q.add(at, &sample);
        }
        if let Some(pw) = peak {
            let time = line.quantities.get(w.peak_time).and_then(|v| match v {
                Some(han_common::line::Value::Text(t)) => Some(t.to_string()),
                _ => None,
            });
            self.meter_peak = Some((pw, time, at));
            self.hint = Some(Tariff::Be);
            let hour = self.hours.start_of(at);
            if self.history_hour != Some(hour) && memchr::memmem::find(bytes, b"\"0-0:98.1.0\"").is_some() {
                self.history_line = Some(bytes.to_vec());
                self.history_hour = Some(hour);
            }
        } else if self.hint.is_none() && line.number_at(w.quarter_w).is_some() {
            self.hint = Some(Tariff::Be);
        } else if self.hint.is_none()
            && line.protocol == "han"
            && line.list.as_deref().is_some_and(|l| NORWEGIAN_LISTS.iter().any(|p| l.starts_with(p)))
        {
            self.hint = Some(Tariff::No);
        }
    }

    /// Reads the logs of `dir` for the days `from..=to`.
    pub fn read_logs(&mut self, dir: &Path, from: NaiveDate, to: NaiveDate, now: DateTime<Utc>) -> Result<()> {
        for file in
            logs::day_files(dir, Some(from), Some(to)).with_context(|| format!("cannot list {}", dir.display()))?
        {
            let mut lines = file.lines().with_context(|| format!("cannot open {}", file.path.display()))?;
            while let Some(bytes) = lines.next_line().with_context(|| format!("cannot read {}", file.path.display()))? {
                // han-log checked each line when it stored it; only the head is read.
                self.take(bytes, Line::scan_head(bytes), now);
            }
            self.unfinished += u64::from(lines.unfinished);
        }
        Ok(())
    }

    /// The meter's monthly peaks of past months (0-0:98.1.0), newest
    /// first: (`YYYY-MM`, W). An entry's month is its peak's (its own
    /// time is the period's end, the next month's first instant).
    pub fn meter_history(&self) -> Vec<(String, f64)> {
        let Some(bytes) = &self.history_line else { return Vec::new() };
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes) else { return Vec::new() };
        let entries = v.pointer("/obis/0-0:98.1.0/entries").and_then(serde_json::Value::as_array);
        let month = |e: &serde_json::Value| -> Option<String> {
            let text = |k| e.get(k).and_then(serde_json::Value::as_str);
            if let Some(peak) = text("peak_time") {
                return peak.get(..7).map(str::to_owned);
            }
            let end = DateTime::parse_from_rfc3339(text("time")?).ok()?;
            Some((end - Duration::days(1)).format("%Y-%m").to_string())
        };
        let kw = |e: &serde_json::Value| {
            let value = e.get("value")?.as_f64()?;
            let unit = e.get("unit").and_then(serde_json::Value::as_str).unwrap_or("kW");
            let w = if unit.eq_ignore_ascii_case("kW") { value * 1000.0 } else { value };
            Some((month(e)?, w))
        };
        let mut out: Vec<(String, f64)> = entries.into_iter().flatten().filter_map(kw).collect();
        out.sort_by(|a, b| b.0.cmp(&a.0));
        out
    }
}
