//! What han-report's tests share: day files from han-sim runs (its frames
//! through the real decoder, filed by day as han-log files them), price
//! files as spotprices writes them, running the binary.
#![allow(dead_code)]

use std::io::Write;
use std::path::Path;
use std::process::Command;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Europe::Oslo;
use han::{Config, Decoder, EventRef};
use han_common::days::{Clock, Days};
use han_common::line::Line;
use han_prices::file::{Build, PriceFile};
use han_prices::slots::Slot;
use han_sim::{Meter, Options, Simulator};
pub use han_testkit::Tmp;
use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_han-report");

pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("time").to_utc()
}

/// han-sim (DSMR 4: a telegram every 10 s, registers to the Wh) following
/// `profile` (W per minute) for `hours` from `start`, filed into `dir` by
/// local day; the lines, for the CSV test.
pub fn sim(dir: &Path, start: &str, hours: i64, profile: &[i32]) -> Vec<Vec<u8>> {
    let start = at(start);
    let end = start + Duration::hours(hours);
    let mut o = Options::new(Meter::Dsmr4, start, 3);
    o.profile = Some(profile.to_vec());
    let mut s = Simulator::new(o);
    let mut d = Decoder::new(Config { tz: Some(Oslo), ..Config::default() });
    let mut days = Days::new(Oslo, Clock::Meter);
    let mut all = Vec::new();
    loop {
        let f = s.next_frame();
        if f.time >= end {
            break;
        }
        d.push(&f.bytes);
        while let Some(EventRef::Reading(r)) = d.next_event_ref() {
            let mut l = Vec::new();
            r.write_json_line_received(Some(&f.time), &mut l);
            let line = l.trim_ascii_end().to_vec();
            let date = days.stamp(&Line::parse(&line, false).expect("a line"), f.time).date;
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(han_common::logs::day_path(dir, date, "jsonl"))
                .expect("day file");
            file.write_all(&line).and_then(|()| file.write_all(b"\n")).expect("written");
            all.push(line);
        }
    }
    all
}

pub fn report(dir: &Path, extra: &[&str]) -> Value {
    let out = Command::new(BIN)
        .args(["summary", "--tz", "Europe/Oslo", "--format", "json", "--dir", dir.to_str().expect("path")])
        .args(extra)
        .env_remove("HAN_TOOLS_CONFIG")
        .output()
        .expect("han-report runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON")
}

pub fn prices(dir: &Path, date: &str, minutes: u32, price: impl Fn(usize) -> f64) {
    prices_with(dir, date, minutes, None, price);
}

/// A price file of NO1 (rate 10 NOK/EUR), `price(i)` NOK/kWh spot in slot
/// `i`, with the all-in price of `tariff` when given, as `spotprices fetch`
/// writes it.
pub fn prices_with(
    dir: &Path,
    date: &str,
    minutes: u32,
    tariff: Option<&han_prices::tariff::Tariff>,
    price: impl Fn(usize) -> f64,
) {
    let date: NaiveDate = date.parse().expect("date");
    let (start, end) = han_common::times::day_bounds(Oslo, date);
    let n = ((end - start).num_minutes() / i64::from(minutes)) as usize;
    let slots: Vec<Slot> = (0..n)
        .map(|i| Slot {
            start: start + Duration::minutes(i as i64 * i64::from(minutes)),
            minutes,
            eur_per_mwh: price(i) * 100.0,
        })
        .collect();
    let b = Build {
        zone: "NO1",
        tz: "Europe/Oslo",
        date,
        currency: "NOK",
        rate: Some(han_prices::rates::Rate { value: 10.0, date, source: "ecb".into() }),
        source: "entsoe",
        fetched: start,
        tariff,
        hourly: false,
    };
    std::fs::create_dir_all(dir).expect("prices dir");
    std::fs::write(dir.join(format!("{date}.json")), PriceFile::build(b, &slots).to_json()).expect("price file");
}

/// han-report with `args` (no config file unless `--config` is among
/// them); it must succeed: its stdout and stderr.
pub fn run(args: &[&str]) -> (String, String) {
    let out = Command::new(BIN).args(args).env_remove("HAN_TOOLS_CONFIG").output().expect("han-report runs");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{args:?}: {stderr}");
    (stdout.into_owned(), stderr.into_owned())
}
