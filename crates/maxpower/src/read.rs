//! Readings in, hours summed: from the daily logs of the month, and from
//! the live stream with `--follow`. One [`Scan`] takes both.

use anyhow::{Context, Result, anyhow};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use han_common::days::{Clock, Days, DaysState};
use han_common::line::{Fields, Line, Value};
use han_common::logs;
use han_common::times::StreamTime;
use han_common::tz::Tz;
use han_energy::hours::{Hours, Sample};

use crate::cli::Tariff;

/// Norwegian HAN list identifiers (NEK/NVE lists of Aidon, Kaifa, Kamstrup).
const NORWEGIAN_LISTS: &[&str] = &["AIDON_V", "KFM_", "Kamstrup_V"];

/// What the readings gave.
#[derive(Debug)]
pub struct Scan {
    /// Energy by quarter hour (Belgium's periods; hours are made of them).
    sums: Hours,
    days: Days,
    /// The tariff the meter's data points to.
    pub hint: Option<Tariff>,
    /// The meter's own month peak (Belgium 1-0:1.6.0): W, its time as sent,
    /// and the reading's instant.
    pub meter_peak: Option<(f64, Option<String>, DateTime<Utc>)>,
    /// A recent line with the meter's demand history (0-0:98.1.0), kept once an hour.
    pub history_line: Option<Vec<u8>>,
    extract: Extract,
    /// Readings taken, and lines that were not readings.
    pub readings: u64,
    pub bad: u64,
    /// The day files (names) whose last line had no newline: being
    /// written, or torn ([`torn_files`] tells which).
    pub unfinished: Vec<String>,
    /// Those of them found torn (set by the run, see [`torn_files`]).
    pub torn: Vec<String>,
    /// The tariff as told (a run on another thread is made with it).
    told: Option<Tariff>,
    /// Readings after this are left out (`--now`: the month as it stood then).
    pub until: Option<DateTime<Utc>>,
}

/// What a scan carries on from the files it read (kept between runs).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct Saved {
    sums: Hours,
    days: DaysState,
    hint: Option<Tariff>,
    meter_peak: Option<(f64, Option<String>, DateTime<Utc>)>,
    history_line: Option<String>,
    readings: u64,
    bad: u64,
    unfinished: Vec<String>,
}

/// How many threads read the logs at most by default.
const MAX_THREADS: usize = 4;

/// What one line brings, parsed (on any thread).
#[derive(Debug)]
struct Record {
    received: Option<DateTime<Utc>>,
    meter: Option<StreamTime>,
    sample: Sample,
    /// It has Belgium's running quarter-hour demand.
    quarter: bool,
    /// It is a Norwegian HAN list.
    norwegian: bool,
    /// A Belgian meter's month peak (1-0:1.6.0), W.
    peak_w: Option<f64>,
    /// What changed with it, when something did.
    belgian: Option<Box<Belgian>>,
}

/// The time of a Belgian meter's month peak, when it differs from the
/// line before's; and the whole line when it carries the demand history
/// (0-0:98.1.0), once an hour.
#[derive(Debug)]
struct Belgian {
    time: Option<String>,
    line: Option<Vec<u8>>,
}

/// Turns lines into records, keeping the hour of the last history line copied.
#[derive(Debug)]
struct Extract {
    history_hour: Option<[u8; 13]>,
    /// Whether Belgium's demand values are read (not when another tariff is told).
    demand: bool,
    /// Whether this file's first reading had them: a file without them at
    /// its start is read without looking for them (the scan stops sooner).
    file_demand: Option<bool>,
    /// The last peak and its time handed on.
    last_peak: Option<(f64, Option<String>)>,
}

impl Extract {
    fn record(&mut self, bytes: &[u8], line: &Line<'_>) -> Record {
        let w = wanted();
        let (received, meter) = Days::times(line);
        let sample = Sample {
            import_w: line.number_at(w.import_w),
            export_w: line.number_at(w.export_w),
            import_kwh: line.number_at(w.import_kwh),
            export_kwh: line.number_at(w.export_kwh),
        };
        let peak_w = line.number_at(w.peak_w);
        let belgian = peak_w.and_then(|pw| {
            let time = match line.quantities.get(w.peak_time) {
                Some(Some(Value::Text(t))) => Some(&**t),
                _ => None,
            };
            // The hour by the clock's text (`2025-03-03T19`).
            let clock = line.meter_time.as_deref().or(line.received.as_deref()).unwrap_or_default();
            let hour = clock.as_bytes().get(..13).and_then(|h| <[u8; 13]>::try_from(h).ok());
            let copy = hour.is_none() || hour != self.history_hour;
            let line = (copy && memchr::memmem::find(bytes, b"\"0-0:98.1.0\"").is_some()).then(|| {
                self.history_hour = hour;
                bytes.to_vec()
            });
            let same = self.last_peak.as_ref().is_some_and(|(w, t)| *w == pw && t.as_deref() == time);
            if same && line.is_none() {
                return None;
            }
            let time = time.map(str::to_owned);
            self.last_peak = Some((pw, time.clone()));
            Some(Box::new(Belgian { time, line }))
        });
        Record {
            received,
            meter,
            sample,
            quarter: line.number_at(w.quarter_w).is_some(),
            norwegian: line.protocol == "han"
                && line.list.as_deref().is_some_and(|l| NORWEGIAN_LISTS.iter().any(|p| l.starts_with(p))),
            peak_w,
            belgian,
        }
    }
}

/// A log line's record: han-log checked each line when it stored it, so
/// only the head is read, up to the last quantity used; `None` when it is
/// not a reading.
fn parse_line(bytes: &[u8], ex: &mut Extract) -> Option<Record> {
    let w = wanted();
    let all = ex.demand && ex.file_demand != Some(false);
    let r = Line::scan_fields(bytes, if all { &w.fields } else { &w.energy }).ok().map(|l| ex.record(bytes, &l));
    if ex.file_demand.is_none() {
        if let Some(r) = &r {
            ex.file_demand = Some(r.quarter || r.peak_w.is_some());
        }
    }
    r
}

/// How long a file whose last line has no newline must have been left
/// unchanged before that line counts as torn. han-log writes whole lines
/// in one write (a short write is continued at once), so a line is seen
/// unfinished only in the instant of a write; one that stays so was cut
/// off (han-log killed, a power cut) or waits for a full disk.
pub const TORN_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// Those of `unfinished` (day file names in `dir`) that are torn: not
/// changed for [`TORN_AFTER`] up to `now`. The others may be being written
/// right now (today's file while han-log runs): the next run looks again.
/// Judged when reported, not when read: the closed days' kept sums name
/// their unfinished files, and time goes on.
pub fn torn_files(dir: &std::path::Path, unfinished: &[String], now: std::time::SystemTime) -> Vec<String> {
    unfinished
        .iter()
        .filter(|name| {
            let modified = std::fs::metadata(dir.join(name)).and_then(|m| m.modified());
            // A file gone since (compressed) is read again next time.
            modified.is_ok_and(|m| now.duration_since(m).is_ok_and(|age| age >= TORN_AFTER))
        })
        .cloned()
        .collect()
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
    /// All of them, for the scanner.
    fields: Fields,
    /// Those without Belgium's demand values: the scan stops sooner.
    energy: Fields,
}

/// The quantities maxpower reads.
const NAMES: [&str; 7] = [
    "power_import_w",
    "power_export_w",
    "energy_import_kwh",
    "energy_export_kwh",
    "demand_month_peak_w",
    "demand_month_peak_time",
    "demand_quarter_w",
];

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
            fields: Fields::of(&NAMES),
            energy: Fields::of(NAMES.get(..4).unwrap_or_default()),
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
            sums: quarter_hours(),
            days: Days::new(tz, Clock::Meter),
            hint: None,
            meter_peak: None,
            history_line: None,
            extract: Extract {
                history_hour: None,
                demand: matches!(tariff, None | Some(Tariff::Be)),
                file_demand: None,
                last_peak: None,
            },
            readings: 0,
            bad: 0,
            unfinished: Vec::new(),
            torn: Vec::new(),
            until: None,
            told: tariff,
        }
    }

    /// Takes one line (a reading, or something else that is counted).
    /// `now` stands in for a reading without any time.
    pub fn take(&mut self, bytes: &[u8], line: Result<Line<'_>, impl std::fmt::Display>, now: DateTime<Utc>) {
        let record = line.ok().map(|l| self.extract.record(bytes, &l));
        self.apply(record, now);
    }

    /// Takes a line's record (`None`: not a reading), in stream order.
    fn apply(&mut self, record: Option<Record>, now: DateTime<Utc>) {
        let Some(r) = record else {
            self.bad += 1;
            return;
        };
        let at = self.days.stamp_times(r.received, r.meter, now).at;
        if self.until.is_some_and(|u| at > u) {
            return;
        }
        self.readings += 1;
        self.sums.add(at, &r.sample);
        if let Some(pw) = r.peak_w {
            let time = match r.belgian.map(|b| *b) {
                Some(Belgian { time, line }) => {
                    if line.is_some() {
                        self.history_line = line;
                    }
                    time
                }
                None => self.meter_peak.take().and_then(|(_, t, _)| t),
            };
            self.meter_peak = Some((pw, time, at));
            self.hint = Some(Tariff::Be);
        } else if self.hint.is_none() && r.quarter {
            self.hint = Some(Tariff::Be);
        } else if self.hint.is_none() && r.norwegian {
            self.hint = Some(Tariff::No);
        }
    }

    /// Reads these day files (in day order). With more than
    /// one core the files are split into runs of days, each summed on a
    /// thread of its own and then joined in order ([`Hours::append`]):
    /// the same sums as one pass.
    pub fn read_files(&mut self, files: &[logs::DayFile], now: DateTime<Utc>, threads: Option<usize>) -> Result<()> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()).min(MAX_THREADS);
        let threads = threads.unwrap_or(cores).min(files.len());
        if threads <= 1 {
            for file in files {
                self.read_file(file, now, false)?;
            }
            return Ok(());
        }
        // Runs of about the same size.
        let sizes: Vec<u64> = files.iter().map(|f| std::fs::metadata(&f.path).map_or(0, |m| m.len())).collect();
        let total = sizes.iter().sum::<u64>().max(1);
        let mut starts = vec![0usize];
        let mut sum = 0;
        for (i, size) in sizes.iter().enumerate() {
            // A run starts at the file whose middle is past its share.
            if i > 0 && starts.len() < threads && (sum + size / 2) * threads as u64 >= total * starts.len() as u64 {
                starts.push(i);
            }
            sum += size;
        }
        starts.push(files.len());
        let parts: Vec<Result<Scan>> = std::thread::scope(|scope| {
            let handles: Vec<_> = starts
                .windows(2)
                .map(|w| {
                    let (start, end) = (w.first().copied().unwrap_or(0), w.get(1).copied().unwrap_or(0));
                    let mut part = self.empty_like();
                    scope.spawn(move || -> Result<Scan> {
                        // The day before sets the clock carried into this run's first readings.
                        if let Some(before) = start.checked_sub(1).and_then(|i| files.get(i)) {
                            part.read_file(before, now, true)?;
                        }
                        for file in files.get(start..end).unwrap_or_default() {
                            part.read_file(file, now, false)?;
                        }
                        Ok(part)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err(anyhow!("a reader thread failed")))).collect()
        });
        for part in parts {
            self.absorb(part?);
        }
        Ok(())
    }

    /// Reads one day file; `clock_only`: only to set the clock carried on.
    fn read_file(&mut self, file: &logs::DayFile, now: DateTime<Utc>, clock_only: bool) -> Result<()> {
        let mut lines = file.lines().with_context(|| format!("cannot open {}", file.path.display()))?;
        self.extract.file_demand = None;
        while let Some(bytes) = lines.next_line().with_context(|| format!("cannot read {}", file.path.display()))? {
            let record = parse_line(bytes, &mut self.extract);
            if clock_only {
                if let Some(r) = record {
                    self.days.stamp_times(r.received, r.meter, now);
                }
            } else {
                self.apply(record, now);
            }
        }
        if !clock_only && lines.unfinished {
            self.unfinished.push(file.path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned()));
        }
        Ok(())
    }

    /// What it carries on, to keep (see `cache`).
    pub fn save(&self) -> Saved {
        Saved {
            sums: self.sums.clone(),
            days: self.days.state(),
            hint: self.hint,
            meter_peak: self.meter_peak.clone(),
            history_line: self.history_line.as_ref().map(|l| String::from_utf8_lossy(l).into_owned()),
            readings: self.readings,
            bad: self.bad,
            unfinished: self.unfinished.clone(),
        }
    }

    /// A scan that goes on from a saved one.
    pub fn resume(saved: Saved, tz: Tz, tariff: Option<Tariff>) -> Scan {
        let mut s = Scan::new(tz, tariff);
        s.sums = saved.sums;
        s.days = Days::resume(tz, Clock::Meter, saved.days);
        s.hint = saved.hint;
        s.meter_peak = saved.meter_peak;
        s.history_line = saved.history_line.map(String::into_bytes);
        s.readings = saved.readings;
        s.bad = saved.bad;
        s.unfinished = saved.unfinished;
        s
    }

    /// The energy by quarter hour.
    pub fn quarters(&self) -> &Hours {
        &self.sums
    }

    /// The energy by clock hour.
    pub fn hours(&self) -> Hours {
        self.sums.regroup(Duration::hours(1))
    }

    /// Drops the sums before `t` (a long `--follow`).
    pub fn forget_before(&mut self, t: DateTime<Utc>) {
        self.sums.forget_before(t);
    }

    /// A scan with the same settings and nothing read.
    fn empty_like(&self) -> Scan {
        let mut s = Scan::new(self.days.tz(), self.told);
        s.until = self.until;
        s
    }

    /// Takes the sums of `later`, a scan of the readings after this one's.
    fn absorb(&mut self, later: Scan) {
        self.sums.append(later.sums);
        self.days = later.days;
        self.hint = if later.hint == Some(Tariff::Be) { later.hint } else { self.hint.or(later.hint) };
        self.meter_peak = later.meter_peak.or(self.meter_peak.take());
        self.history_line = later.history_line.or(self.history_line.take());
        self.readings += later.readings;
        self.bad += later.bad;
        self.unfinished.extend(later.unfinished);
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
