//! The live page's data in the web folder: `data/current.json` (the latest
//! reading as received, plus `last_registers`: the energy registers of the
//! last reading that had any, with its time, since Norwegian meters send
//! them once an hour), `data/last-full.json` (the latest reading
//! with per-phase values: Norwegian meters send them every 10 s, power
//! alone every 2 s, and a page just opened shows them at once) and
//! `data/today.json` (today's power by minute and the energy so far), each
//! written atomically, at most once a second (the page polls every 2 s),
//! and the page itself when it is missing or is one han-log wrote.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use han_common::atomic::write_atomic;
use han_common::times::day_bounds;
use han_common::tz::Tz;
use serde_json::{Value as Json, json};

use crate::input::Sample;
use han_common::days::Stamp;

/// The page's files: name, content. `index.html` carries [`MARK`].
pub const PAGE: &[(&str, &str)] = &[
    ("index.html", include_str!("../../../www/index.html")),
    ("live.js", include_str!("../../../www/live.js")),
    ("style.css", include_str!("../../../www/style.css")),
];
/// What marks a page file as written by han-log (so it may be replaced):
/// every file of [`PAGE`] carries it, in its own comment syntax.
pub const MARK: &str = "written by han-log";

/// Power that held longer than this is a gap, not integrated.
const GAP: chrono::Duration = chrono::Duration::minutes(5);
/// How often the files are rewritten while readings come.
const EVERY: Duration = Duration::from_secs(1);

/// Writes the page files into `www` where missing or written by han-log
/// (an edited copy without the mark is left alone); returns what it wrote.
pub fn install_page(www: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(www.join("data"))?;
    let mut wrote = Vec::new();
    for (name, content) in PAGE {
        let path = www.join(name);
        let ours = match std::fs::read_to_string(&path) {
            Ok(old) if old == *content => continue,
            Ok(old) => old.contains(MARK),
            Err(_) => true,
        };
        if ours {
            write_atomic(&path, content.as_bytes())?;
            wrote.push(path);
        }
    }
    Ok(wrote)
}

/// One energy register through the day: its first and last value, and
/// what power integrated before the first and since the last.
#[derive(Debug, Default, Clone, Copy)]
struct Energy {
    first: Option<f64>,
    last: Option<f64>,
    before_first_wh: f64,
    since_last_wh: f64,
    integrated: bool,
}

impl Energy {
    fn power(&mut self, wh: f64) {
        self.integrated = true;
        if self.last.is_some() { self.since_last_wh += wh } else { self.before_first_wh += wh }
    }

    fn register(&mut self, kwh: f64) {
        if let (Some(f), Some(l)) = (self.first, self.last) {
            if kwh < l {
                // A register that went back (a new meter, a reset): what it
                // counted so far stays, and it counts on from its new value.
                self.before_first_wh += (l - f) * 1000.0 + self.since_last_wh;
                self.first = Some(kwh);
            }
        }
        self.first.get_or_insert(kwh);
        self.last = Some(kwh);
        self.since_last_wh = 0.0;
    }

    fn kwh(&self) -> Option<f64> {
        match (self.first, self.last) {
            (Some(f), Some(l)) => Some((l - f) + (self.before_first_wh + self.since_last_wh) / 1000.0),
            _ => self.integrated.then_some(self.before_first_wh / 1000.0),
        }
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Minute {
    import: (f64, u32),
    export: (f64, u32),
}

/// Today so far.
#[derive(Debug)]
struct Today {
    date: NaiveDate,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    minutes: BTreeMap<i64, Minute>,
    import: Energy,
    export: Energy,
    last_power: Option<(DateTime<Utc>, Option<f64>, Option<f64>)>,
    meter_id: Option<String>,
}

impl Today {
    fn new(tz: Tz, date: NaiveDate) -> Today {
        let (start, end) = day_bounds(tz, date);
        Today {
            date,
            start,
            end,
            minutes: BTreeMap::new(),
            import: Energy::default(),
            export: Energy::default(),
            last_power: None,
            meter_id: None,
        }
    }

    fn add(&mut self, sample: &Sample, at: DateTime<Utc>) {
        let (imp, exp) = (sample.import_w, sample.export_w);
        if let Some((then, last_imp, last_exp)) = self.last_power {
            let dt = at - then;
            if dt > chrono::Duration::zero() && dt <= GAP {
                let hours = dt.num_milliseconds() as f64 / 3_600_000.0;
                if let Some(w) = last_imp {
                    self.import.power(w * hours);
                }
                if let Some(w) = last_exp {
                    self.export.power(w * hours);
                }
            }
        }
        if let Some(kwh) = sample.energy_import_kwh {
            self.import.register(kwh);
        }
        if let Some(kwh) = sample.energy_export_kwh {
            self.export.register(kwh);
        }
        if imp.is_some() || exp.is_some() {
            self.last_power = Some((at, imp, exp));
            let m = self.minutes.entry((at - self.start).num_minutes()).or_default();
            if let Some(w) = imp {
                m.import = (m.import.0 + w, m.import.1 + 1);
            }
            if let Some(w) = exp {
                m.export = (m.export.0 + w, m.export.1 + 1);
            }
        }
        if let Some(id) = &sample.meter_id {
            if self.meter_id.as_ref() != Some(id) {
                self.meter_id = Some(id.clone());
            }
        }
    }

    fn json(&self, tz: Tz, now: DateTime<Utc>) -> Json {
        let local = |t: DateTime<Utc>| t.with_timezone(&tz).format("%Y-%m-%dT%H:%M:%S%:z").to_string();
        let avg = |(sum, n): (f64, u32)| (n > 0).then(|| (sum / f64::from(n) * 10.0).round() / 10.0);
        let minutes: Vec<Json> = self
            .minutes
            .iter()
            .map(|(i, m)| {
                let mut o = json!({ "t": local(self.start + chrono::Duration::minutes(*i)) });
                if let Some(w) = avg(m.import) {
                    o["import_w"] = json!(w);
                }
                if let Some(w) = avg(m.export) {
                    o["export_w"] = json!(w);
                }
                o
            })
            .collect();
        let mut o = json!({
            "v": 1,
            "date": self.date.to_string(),
            "tz": tz.name(),
            "start": local(self.start),
            "end": local(self.end),
            "updated": now.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        });
        if let Some(id) = &self.meter_id {
            o["meter_id"] = json!(id);
        }
        let round = |kwh: f64| (kwh * 1000.0).round() / 1000.0;
        if let Some(kwh) = self.import.kwh() {
            o["energy_import_kwh"] = json!(round(kwh));
        }
        if let Some(kwh) = self.export.kwh() {
            o["energy_export_kwh"] = json!(round(kwh));
        }
        o["minutes"] = Json::Array(minutes);
        o
    }
}

/// The energy registers of the last reading that had any (a JSON object:
/// its registers, meter id and times) and the meter it came from.
#[derive(Debug)]
struct Registers {
    json: String,
    meter_id: Option<String>,
}

/// The live page's data, kept up to date.
#[derive(Debug)]
pub struct Live {
    data: PathBuf,
    tz: Tz,
    current: Vec<u8>,
    full: Vec<u8>,
    full_dirty: bool,
    registers: Option<Registers>,
    today: Option<Today>,
    dirty: bool,
    written: Option<Instant>,
    /// The error of the last failed write, reported once.
    pub failing: Option<String>,
}

impl Live {
    /// The data of the web folder `www`.
    pub fn new(www: &Path, tz: Tz) -> Live {
        Live {
            data: www.join("data"),
            tz,
            current: Vec::new(),
            full: Vec::new(),
            full_dirty: false,
            registers: None,
            today: None,
            dirty: false,
            written: None,
            failing: None,
        }
    }

    /// Takes a reading: the latest becomes current; today follows the
    /// newest day (a late reading of an earlier day is only logged).
    pub fn add(&mut self, raw: &[u8], sample: &Sample, stamp: Stamp) {
        // Kept as written to the file: the line and its newline.
        self.current.clear();
        self.current.extend_from_slice(raw);
        self.current.push(b'\n');
        self.dirty = true;
        if sample.phases {
            self.full.clone_from(&self.current);
            self.full_dirty = true;
        }
        self.replay(sample, stamp);
    }

    /// Adds a reading to today only: also how today is rebuilt from the
    /// readings already logged at start (so a restart keeps the chart and
    /// the last registers).
    pub fn replay(&mut self, sample: &Sample, stamp: Stamp) {
        self.keep_registers(sample);
        if self.today.as_ref().is_none_or(|t| stamp.date > t.date) {
            self.today = Some(Today::new(self.tz, stamp.date));
        }
        if let Some(t) = self.today.as_mut().filter(|t| t.date == stamp.date) {
            t.add(sample, stamp.at);
        }
    }

    /// Keeps the registers of a reading that has them; forgets them when
    /// another meter speaks (they were not its registers).
    pub fn keep_registers(&mut self, sample: &Sample) {
        if let Some(json) = &sample.registers {
            self.registers = Some(Registers { json: json.clone(), meter_id: sample.meter_id.clone() });
        } else if let (Some(r), Some(id)) = (&self.registers, &sample.meter_id) {
            if r.meter_id.as_ref().is_some_and(|m| m != id) {
                self.registers = None;
            }
        }
    }

    /// Whether the registers of some reading are known.
    pub fn has_registers(&self) -> bool {
        self.registers.is_some()
    }

    /// `current.json`: the latest line with `last_registers` added as its
    /// last member (before its closing brace).
    fn current_json(&self) -> std::borrow::Cow<'_, [u8]> {
        let close = self.current.iter().rposition(|b| *b == b'}');
        match (&self.registers, close) {
            (Some(r), Some(i)) => {
                let mut out = Vec::with_capacity(self.current.len() + r.json.len() + 20);
                out.extend_from_slice(self.current.get(..i).unwrap_or_default());
                out.extend_from_slice(b",\"last_registers\":");
                out.extend_from_slice(r.json.as_bytes());
                out.extend_from_slice(self.current.get(i..).unwrap_or_default());
                out.into()
            }
            _ => self.current.as_slice().into(),
        }
    }

    /// Writes the files when something changed and the last write is a
    /// second old (or `force`). Returns an error only when it is new.
    pub fn write(&mut self, force: bool) -> Option<String> {
        if !self.dirty || (!force && self.written.is_some_and(|w| w.elapsed() < EVERY)) {
            return None;
        }
        self.written = Some(Instant::now());
        let result = (|| -> std::io::Result<()> {
            std::fs::create_dir_all(&self.data)?;
            if !self.current.is_empty() {
                write_atomic(&self.data.join("current.json"), &self.current_json())?;
            }
            if self.full_dirty {
                write_atomic(&self.data.join("last-full.json"), &self.full)?;
                self.full_dirty = false;
            }
            if let Some(t) = &self.today {
                let mut text = serde_json::to_vec(&t.json(self.tz, Utc::now())).map_err(std::io::Error::other)?;
                text.push(b'\n');
                write_atomic(&self.data.join("today.json"), &text)?;
            }
            Ok(())
        })();
        match result {
            Ok(()) => {
                self.dirty = false;
                self.failing.take().map(|_| format!("writing {} again", self.data.display()))
            }
            Err(e) => {
                let msg = format!("cannot write {}: {e}", self.data.display());
                (self.failing.replace(msg.clone()).as_ref() != Some(&msg)).then_some(msg)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn feed(t: &mut Today, json: &str, when: &str) {
        t.add(&Sample::of(&han_common::line::Line::parse(json.as_bytes(), true).unwrap()), at(when));
    }

    #[test]
    fn energy_from_registers_and_power_between() {
        let date = NaiveDate::from_ymd_opt(2025, 12, 1).unwrap();
        let mut t = Today::new(Tz::Europe__Oslo, date);
        let p = |w: f64| format!(r#"{{"v":1,"protocol":"han","power_import_w":{w:.1},"obis":{{}}}}"#);
        let r = |w: f64, kwh: f64| {
            format!(r#"{{"v":1,"protocol":"han","power_import_w":{w:.1},"energy_import_kwh":{kwh:.1},"obis":{{}}}}"#)
        };
        // Before the first register: 1000 W for 4 min, 2000 W for 1 min: 100 Wh.
        feed(&mut t, &p(1000.0), "2025-11-30T23:00:00Z");
        feed(&mut t, &p(2000.0), "2025-11-30T23:04:00Z");
        feed(&mut t, &r(2000.0, 100.0), "2025-11-30T23:05:00Z");
        // Between registers the registers count (1.5 kWh), not the power.
        feed(&mut t, &r(3000.0, 101.5), "2025-11-30T23:07:00Z");
        // Since the last register: 3000 W for 4 min, 200 Wh.
        feed(&mut t, &p(0.0), "2025-11-30T23:11:00Z");
        let kwh = t.import.kwh().unwrap();
        assert!((kwh - 1.8).abs() < 1e-9, "{kwh}");
        assert_eq!(t.export.kwh(), None, "never sent, never 0");
        // A gap of more than 5 minutes is not integrated.
        feed(&mut t, &p(5000.0), "2025-11-30T23:12:00Z");
        feed(&mut t, &p(5000.0), "2025-11-30T23:32:00Z");
        assert!((t.import.kwh().unwrap() - 1.8).abs() < 1e-9);
        let j = t.json(Tz::Europe__Oslo, at("2025-12-01T00:00:00Z"));
        assert_eq!(j["start"], "2025-12-01T00:00:00+01:00");
        assert_eq!(j["end"], "2025-12-02T00:00:00+01:00");
        let m = j["minutes"].as_array().unwrap();
        assert_eq!(m[0], json!({"t": "2025-12-01T00:00:00+01:00", "import_w": 1000.0}));
        assert_eq!(m.len(), 7);
    }

    #[test]
    fn a_register_that_goes_back_is_not_a_negative_day() {
        let mut e = Energy::default();
        e.register(100.0);
        e.register(102.0);
        e.power(500.0);
        e.register(5.0);
        e.register(6.5);
        // 2 kWh by the old register, 0.5 kWh of power until the reset, 1.5 kWh since.
        let kwh = e.kwh().unwrap();
        assert!((kwh - 4.0).abs() < 1e-9, "{kwh}");
    }

    #[test]
    fn minutes_of_a_25_hour_day_average() {
        let date = NaiveDate::from_ymd_opt(2025, 10, 26).unwrap();
        let mut t = Today::new(Tz::Europe__Oslo, date);
        // 02:30 twice: two different minutes.
        feed(&mut t, r#"{"v":1,"protocol":"p1","power_import_w":100.0,"obis":{}}"#, "2025-10-26T00:30:10Z");
        feed(&mut t, r#"{"v":1,"protocol":"p1","power_import_w":300.0,"obis":{}}"#, "2025-10-26T00:30:50Z");
        feed(&mut t, r#"{"v":1,"protocol":"p1","power_import_w":500.0,"obis":{}}"#, "2025-10-26T01:30:10Z");
        let j = t.json(Tz::Europe__Oslo, at("2025-10-26T02:00:00Z"));
        let m = j["minutes"].as_array().unwrap();
        assert_eq!(m[0], json!({"t": "2025-10-26T02:30:00+02:00", "import_w": 200.0}));
        assert_eq!(m[1], json!({"t": "2025-10-26T02:30:00+01:00", "import_w": 500.0}));
    }
}
