//! What the binary's tests share: temporary folders, day files made from
//! han-sim runs (its frames through the real decoder, as han-read writes
//! them, filed by day as han-log files them) or from hand-made readings,
//! and running the binary.
#![allow(dead_code)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use chrono::{DateTime, Duration, Utc};
use han::{Config, Decoder, EventRef};
use han_common::days::{Clock, Days};
use han_common::line::Line;
use han_sim::{Meter, Options, Simulator};

pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

/// Appends stream lines to the day files of `dir` (the local day of each reading in `tz`).
pub fn file_lines(dir: &Path, tz: han::Tz, lines: &[Vec<u8>]) {
    file_lines_by(dir, tz, lines, Clock::Meter);
}

/// [`file_lines`] by `clock` (`Received`: as `han-log --clock received` files them).
pub fn file_lines_by(dir: &Path, tz: han::Tz, lines: &[Vec<u8>], clock: Clock) {
    std::fs::create_dir_all(dir).unwrap();
    let mut days = Days::new(tz, clock);
    for raw in lines {
        let l = Line::parse(raw, false).unwrap();
        let date = days.stamp(&l, Utc::now()).date;
        let path = han_common::logs::day_path(dir, date, "jsonl");
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap();
        f.write_all(raw).unwrap();
        f.write_all(b"\n").unwrap();
    }
}

/// A han-sim run of `seconds` from `start`, as stream lines (received
/// when sent), with each register reading in it (meter clock, import
/// kWh) for the sums by hand.
/// Register readings: (meter clock, import kWh).
pub type Registers = Vec<(DateTime<Utc>, f64)>;

pub fn sim(meter: Meter, start: &str, seconds: i64) -> (Vec<Vec<u8>>, Registers) {
    sim_lagged(meter, start, seconds, 0)
}

/// [`sim`] with each frame received `lag_ms` after the meter sent it.
pub fn sim_lagged(meter: Meter, start: &str, seconds: i64, lag_ms: i64) -> (Vec<Vec<u8>>, Registers) {
    let start = at(start);
    let end = start + Duration::seconds(seconds);
    let mut s = Simulator::new(Options::new(meter, start, 11));
    let mut d = Decoder::new(Config { tz: Some(meter.tz()), ..Config::default() });
    let (mut lines, mut registers) = (Vec::new(), Vec::new());
    loop {
        let f = s.next_frame();
        if f.time >= end {
            break;
        }
        d.push(&f.bytes);
        while let Some(e) = d.next_event_ref() {
            if let EventRef::Reading(r) = e {
                let mut l = Vec::new();
                r.write_json_line_received(Some(&(f.time + Duration::milliseconds(lag_ms))), &mut l);
                let parsed = Line::parse(l.trim_ascii_end(), true).unwrap();
                if let (Some(t), Some(kwh)) = (parsed.meter_time.as_deref(), parsed.number("energy_import_kwh")) {
                    let t = han_common::times::StreamTime::parse(t).unwrap().instant(meter.tz(), Some(f.time));
                    registers.push((t, kwh));
                }
                lines.push(l.trim_ascii_end().to_vec());
            }
        }
    }
    (lines, registers)
}

/// The register at `t`, from a run's register readings.
pub fn register_at(registers: &[(DateTime<Utc>, f64)], t: &str) -> f64 {
    let t = at(t);
    registers.iter().find(|(x, _)| *x == t).map(|(_, k)| *k).unwrap_or_else(|| panic!("no register at {t}"))
}

/// A hand-made reading: meter clock (local, no offset), import power and register.
pub fn reading(local: &str, w: f64, kwh: f64) -> Vec<u8> {
    format!(
        r#"{{"v":1,"received":"{local}Z","meter_time":"{local}","protocol":"han","list":"KFM_001","power_import_w":{w:.1},"energy_import_kwh":{kwh:.3},"obis":{{}}}}"#
    )
    .into_bytes()
}

pub fn maxpower(args: &[&str], stdin: Option<&[u8]>) -> Output {
    maxpower_env(args, stdin, &[])
}

/// [`maxpower`] with these environment variables set.
pub fn maxpower_env(args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_maxpower"));
    c.args(args).env_remove("HAN_TOOLS_CONFIG").env_remove("MAXPOWER_SMTP_PASSWORD");
    c.envs(env.iter().copied());
    c.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() }).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    if let Some(b) = stdin {
        child.stdin.take().unwrap().write_all(b).unwrap();
    }
    child.wait_with_output().unwrap()
}

/// `--json` output of a run that must succeed.
pub fn json(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = maxpower(&all, None);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The hour energies of a summary's `today`: (local start, Wh).
pub fn today(j: &serde_json::Value) -> Vec<(String, f64)> {
    j["today"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["start"].as_str().unwrap().to_owned(), h["import_wh"].as_f64().unwrap()))
        .collect()
}
