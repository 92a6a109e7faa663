//! What han-report's tests share: day files from han-sim runs (its frames
//! through the real decoder, filed by day as han-log files them), price
//! files as spotprices writes them, running the binary.
#![allow(dead_code)]

use std::path::Path;

use chrono::{Duration, NaiveDate};
use chrono_tz::Europe::Oslo;
use han_common::days::Clock;
use han_prices::file::{Build, PriceFile};
use han_prices::slots::Slot;
use han_simulator::{Meter, Options};
use han_testkit::Run;
pub use han_testkit::{Tmp, at};
use han_testkit_sim::DayFiles;
use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_han-report");

/// han-sim (DSMR 4: a telegram every 10 s, registers to the Wh) following
/// `profile` (W per minute) for `hours` from `start`, filed into `dir` by
/// local day; the lines, for the CSV test.
pub fn sim(dir: &Path, start: &str, hours: i64, profile: &[i32]) -> Vec<Vec<u8>> {
    let start = at(start);
    let end = start + Duration::hours(hours);
    let mut o = Options::new(Meter::Dsmr4, start, 3);
    o.profile = Some(profile.to_vec());
    let mut days = DayFiles::new(dir, Oslo, Clock::Meter);
    let mut all = Vec::new();
    for (_, line) in han_testkit_sim::lines(o, Oslo, end, Duration::zero()) {
        days.add(&line);
        all.push(line);
    }
    all
}

pub fn report(dir: &Path, extra: &[&str]) -> Value {
    let out = Run::new(BIN)
        .args(["summary", "--tz", "Europe/Oslo", "--format", "json", "--dir", dir.to_str().expect("path")])
        .args(extra)
        .output();
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
    let out = Run::new(BIN).args(args).output();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{args:?}: {stderr}");
    (stdout.into_owned(), stderr.into_owned())
}
