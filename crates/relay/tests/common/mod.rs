//! What relay's tests share: temporary folders, a config with the sim
//! backend, running the binary, and streams from han-sim's meters through
//! the real decoder (as han-read writes them).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

use chrono::{DateTime, Duration, NaiveDate, Timelike, Utc};
use chrono_tz::Europe::Oslo;
use han_prices::file::{Build, PriceFile};
use han_prices::rates::Rate;
use han_prices::slots::Slot;
use han_simulator::{Meter, Options};
use han_testkit::Run;
use serde_json::Value;

pub use han_testkit::{Tmp, at, text};

pub const BIN: &str = env!("CARGO_BIN_EXE_relay");

/// What every config error says on its second line: where the example is.
pub const EXAMPLE: &str = "\n  relays are [relay.N] sections with a pin: the example is etc/config.example.toml \
     (scripts/install.sh installs it as /etc/han-tools/config.toml); see docs/relay.md";

/// Two relays on the sim backend (relay 1 active-low on GPIO 17, relay 2
/// on 27, safe on), state in `tmp/state`, plus `extra`.
pub fn config(tmp: &Tmp, extra: &str) -> PathBuf {
    let p = tmp.join("config.toml");
    let text = format!(
        "[relay]\nbackend = \"sim\"\ntz = \"Europe/Oslo\"\nstate = \"{}\"\n{extra}\n[relay.1]\nname = \"water heater\"\npin = 17\nactive_low = true\n\n[relay.2]\nname = \"ev charger\"\npin = 27\nsafe = \"on\"\n",
        tmp.join("state").display()
    );
    std::fs::write(&p, text).expect("config written");
    p
}

/// Runs `relay --config CONFIG ARGS`, with `stdin`.
pub fn relay(config: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    Run::new(BIN).arg("--config").arg(config).args(args).stdin(stdin).output()
}

/// The event log.
pub fn events(tmp: &Tmp) -> Vec<Value> {
    std::fs::read_to_string(tmp.join("state/relay-events.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("an event line"))
        .collect()
}

/// The simulated pin levels.
pub fn pins(tmp: &Tmp) -> Value {
    let t = std::fs::read_to_string(tmp.join("state/relay-sim.json")).expect("sim pins");
    serde_json::from_str::<Value>(&t).expect("JSON")["pins"].clone()
}

/// A han-sim meter following `profile` (watts per minute; negative is
/// export) for `seconds` from `start`, as stream lines received when sent.
pub fn stream(meter: Meter, start: &str, seconds: i64, profile: &[i32]) -> Vec<(DateTime<Utc>, Vec<u8>)> {
    let start = at(start);
    let end = start + Duration::seconds(seconds);
    let mut o = Options::new(meter, start, 7);
    o.profile = Some(profile.to_vec());
    han_testkit_sim::lines(o, meter.tz(), end, Duration::zero())
}

/// Lines joined for stdin.
pub fn joined<'a>(lines: impl IntoIterator<Item = &'a (DateTime<Utc>, Vec<u8>)>) -> Vec<u8> {
    let mut out = Vec::new();
    for (_, l) in lines {
        out.extend_from_slice(l);
        out.push(b'\n');
    }
    out
}

/// The time of an event.
pub fn time(e: &Value) -> DateTime<Utc> {
    at(e["time"].as_str().expect("a time"))
}

/// Seconds from `t0` to an event.
pub fn after(t0: DateTime<Utc>, e: &Value) -> i64 {
    (time(e) - t0).num_seconds()
}

/// Writes the price file of a local day (Europe/Oslo) as spotprices does:
/// slots of `minutes`, priced by their local start time. The number of slots.
pub fn day(dir: &Path, date: &str, minutes: u32, price: impl Fn(chrono::NaiveTime) -> f64) -> usize {
    let date: NaiveDate = date.parse().expect("date");
    let (start, end) = han_common::times::day_bounds(Oslo, date);
    let mut slots = Vec::new();
    let mut t = start;
    while t < end {
        slots.push(Slot { start: t, minutes, eur_per_mwh: price(t.with_timezone(&Oslo).time()) });
        t += Duration::minutes(i64::from(minutes));
    }
    let b = Build {
        zone: "NO1",
        tz: "Europe/Oslo",
        date,
        currency: "NOK",
        rate: Some(Rate { value: 11.0, date, source: "norges-bank".into() }),
        source: "entsoe",
        fetched: start,
        tariff: None,
        hourly: false,
    };
    let f = PriceFile::build(b, &slots);
    std::fs::create_dir_all(dir).expect("prices dir");
    std::fs::write(dir.join(format!("{date}.json")), f.to_json()).expect("price file");
    slots.len()
}

/// Cheap at 02:00-04:00 and 05:00-07:00 local, dear otherwise.
pub fn night(t: chrono::NaiveTime) -> f64 {
    if (2..4).contains(&t.hour()) || (5..7).contains(&t.hour()) { 10.0 + f64::from(t.minute()) / 100.0 } else { 100.0 }
}

/// The state file.
pub fn state(tmp: &Tmp) -> Value {
    let t = std::fs::read_to_string(tmp.join("state/relay.json")).expect("state");
    serde_json::from_str(&t).expect("JSON")
}

/// A rules file in `tmp`; its path.
pub fn rules(tmp: &Tmp, text: &str) -> String {
    let p = tmp.join("rules.toml");
    std::fs::write(&p, text).expect("rules written");
    p.display().to_string()
}
