//! `spotprices show`: a day as a table or JSON, and the page.

use std::fmt::Write;

use anyhow::Result;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use han_prices::file::{PriceFile, SlotPrice};
use han_prices::summary::{self, Summary};
use serde_json::json;

use crate::cli::Show;
use crate::fetch::{NOT_YET, paths, read};
use crate::settings::Settings;

/// What `show` prints of one day.
pub struct Day {
    pub file: PriceFile,
    pub rows: Vec<SlotPrice>,
    pub summary: Option<Summary>,
}

impl Day {
    pub fn new(file: PriceFile, hourly: bool, now: DateTime<Utc>) -> Day {
        let rows = if hourly { summary::hours(&file) } else { file.slots.clone() };
        let summary = summary::summary(&rows, now);
        Day { file, rows, summary }
    }

    pub fn tz(&self) -> Tz {
        self.file.tz.parse().unwrap_or(chrono_tz::UTC)
    }

    /// `HH:MM`, with the offset on a day the clocks change (its repeated or
    /// missing hour would otherwise be ambiguous).
    pub fn time(&self, t: DateTime<Utc>) -> String {
        let local = t.with_timezone(&self.tz());
        let minutes: i64 = self.rows.iter().map(|r| (r.end - r.start).num_minutes()).sum();
        if minutes == 1440 { local.format("%H:%M").to_string() } else { local.format("%H:%M%:::z").to_string() }
    }

    pub fn unit(&self) -> String {
        format!("{}/kWh", self.file.currency)
    }

    pub fn rate_text(&self) -> String {
        match &self.file.rate {
            Some(r) => format!("1 EUR = {} {} ({} rate of {})", r.value, self.file.currency, r.source, r.date),
            None => "prices in EUR".into(),
        }
    }
}

/// A price per kWh, four decimals (a hundredth of an øre or cent), never "-0.0000".
pub fn price(x: f64) -> String {
    let s = format!("{x:.4}");
    if s == "-0.0000" { "0.0000".into() } else { s }
}

pub fn run(s: &Settings, f: &Show) -> Result<u8> {
    if let Some(www) = &s.www {
        crate::page::write(www, s)?;
    }
    let Some(file) = read(&s.dir, s.date)? else {
        eprintln!(
            "spotprices: no prices for {} yet ({} is not there; `spotprices fetch --date {}` gets them)",
            s.date,
            paths(&s.dir, s.date).0.display(),
            s.date
        );
        return Ok(NOT_YET);
    };
    let day = Day::new(file, s.hourly, s.now);
    let out = if f.json { json(&day) } else { table(&day) };
    han_common::stdout::print(&out)?;
    Ok(0)
}

fn json(d: &Day) -> String {
    let f = &d.file;
    let v = json!({
        "zone": f.zone,
        "date": f.date,
        "tz": f.tz,
        "currency": f.currency,
        "unit": d.unit(),
        "rate": f.rate,
        "source": f.source,
        "resolution": (d.rows.first().map_or(60, |r| (r.end - r.start).num_minutes())),
        "of": d.summary.as_ref().map(|s| s.of),
        "min": d.summary.as_ref().map(|s| s.min),
        "avg": d.summary.as_ref().map(|s| s.avg),
        "max": d.summary.as_ref().map(|s| s.max),
        "current": d.summary.as_ref().and_then(|s| s.current.clone()),
        "cheapest": d.summary.as_ref().map(|s| s.cheapest.clone()),
        "dearest": d.summary.as_ref().map(|s| s.dearest.clone()),
        "slots": d.rows,
    });
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}

fn table(d: &Day) -> String {
    let f = &d.file;
    let mut o = String::new();
    let _ = writeln!(o, "{} {} ({}), {}; {}", f.zone, f.date, f.tz, d.unit(), d.rate_text());
    let total = d.rows.first().is_some_and(|r| r.total_per_kwh.is_some());
    let _ = writeln!(o, "{:<17} {:>9} {:>9}{}", "time", "EUR/MWh", "spot", if total { "     total" } else { "" });
    let sum = d.summary.as_ref();
    for r in &d.rows {
        let mut marks = Vec::new();
        if sum.and_then(|s| s.current.as_ref()).is_some_and(|c| c.start == r.start) {
            marks.push("<- now");
        }
        if sum.is_some_and(|s| s.cheapest.start == r.start) {
            marks.push("cheapest");
        }
        if sum.is_some_and(|s| s.dearest.start == r.start) {
            marks.push("dearest");
        }
        let span = format!("{}-{}", d.time(r.start), d.time(r.end));
        let _ = write!(o, "{span:<17} {:>9.2} {:>9}", r.eur_per_mwh, price(r.spot_per_kwh));
        if let Some(t) = r.total_per_kwh {
            let _ = write!(o, " {:>9}", price(t));
        }
        if !marks.is_empty() {
            let _ = write!(o, "  {}", marks.join(", "));
        }
        o.push('\n');
    }
    if let Some(s) = sum {
        let _ = writeln!(o, "{}: min {}  avg {}  max {} {}", s.of, price(s.min), price(s.avg), price(s.max), d.unit());
    }
    o
}
