//! What the binary's tests share: temporary folders, day files made from
//! han-sim runs (its frames through the real decoder, as han-read writes
//! them, filed by day as han-log files them) or from hand-made readings,
//! and running the binary.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::Path;
use std::process::Output;

use chrono::{DateTime, Duration, Utc};
use han_common::days::Clock;
use han_common::line::Line;
use han_simulator::{Meter, Options};
use han_testkit::Run;
pub use han_testkit::at;
use han_testkit_sim::DayFiles;

/// Appends stream lines to the day files of `dir` (the local day of each reading in `tz`).
pub fn file_lines(dir: &Path, tz: han::Tz, lines: &[Vec<u8>]) {
    file_lines_by(dir, tz, lines, Clock::Meter);
}

/// [`file_lines`] by `clock` (`Received`: as `han-log --clock received` files them).
pub fn file_lines_by(dir: &Path, tz: han::Tz, lines: &[Vec<u8>], clock: Clock) {
    let mut days = DayFiles::new(dir, tz, clock);
    for raw in lines {
        days.add(raw);
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
    let run = han_testkit_sim::lines(Options::new(meter, start, 11), meter.tz(), end, Duration::milliseconds(lag_ms));
    let (mut lines, mut registers) = (Vec::new(), Vec::new());
    for (sent, l) in run {
        let parsed = Line::parse(&l, true).unwrap();
        if let (Some(t), Some(kwh)) = (parsed.meter_time.as_deref(), parsed.number("energy_import_kwh")) {
            let t = han_common::times::StreamTime::parse(t).unwrap().instant(meter.tz(), Some(sent));
            registers.push((t, kwh));
        }
        lines.push(l);
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

pub fn maxpower<S: AsRef<OsStr>>(args: &[S], stdin: Option<&[u8]>) -> Output {
    maxpower_env(args, stdin, &[])
}

/// [`maxpower`] with these environment variables set.
pub fn maxpower_env<S: AsRef<OsStr>>(args: &[S], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Output {
    Run::new(env!("CARGO_BIN_EXE_maxpower"))
        .args(args)
        .env_remove("MAXPOWER_SMTP_PASSWORD")
        .envs(env)
        .stdin(stdin)
        .output()
}

/// `--json` output of a run that must succeed.
pub fn json<S: AsRef<str> + std::fmt::Debug>(args: &[S]) -> serde_json::Value {
    let mut all = vec!["--json"];
    all.extend(args.iter().map(AsRef::as_ref));
    let out = maxpower(&all, None);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The arguments of a run with the config `config` (or none), the day
/// files in `logs` and the state in `st`, in `tz` at `now`; `extra` after.
pub fn run_args(config: Option<&Path>, logs: &Path, st: &Path, tz: &str, now: &str, extra: &[&str]) -> Vec<String> {
    let path = |p: &Path| p.to_str().unwrap().to_owned();
    let mut args = Vec::new();
    if let Some(c) = config {
        args.extend(["--config".to_owned(), path(c)]);
    }
    args.extend(["--dir".to_owned(), path(logs), "--state".to_owned(), path(st)]);
    args.extend(["--tz", tz, "--now", now].map(str::to_owned));
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    args
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

/// [`json`] of the day files in `logs`, the state in `t`'s `st`, in `tz`
/// at `now`, with `extra` after.
pub fn json_at(logs: &Path, t: &han_testkit::Tmp, tz: &str, now: &str, extra: &[&str]) -> serde_json::Value {
    json(&run_args(None, logs, &t.join("st"), tz, now, extra))
}
