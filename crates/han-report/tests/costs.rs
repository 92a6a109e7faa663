//! Costs when prices are missing (a day without a price file, a day half
//! priced), never a negative zero, and Norway's support ending at a
//! month's cap, against costs computed by hand; the outputs of fully
//! priced days as they were (tests/golden, written before these changes).

mod common;

use std::path::Path;

use chrono_tz::Europe::Oslo;
use common::*;
use han_prices::tariff::{Grid, Support, Tariff};
use serde_json::Value;

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

fn path(p: &Path) -> &str {
    p.to_str().expect("path")
}

/// 1000 W, then 1000 + 100 W more each minute for 20 minutes, 40 minutes of 3000 W: by the hour.
fn profile() -> Vec<i32> {
    [(0..20).map(|m| 1000 + 100 * m).collect::<Vec<_>>(), vec![3000; 40]].concat()
}

/// No number of the output is a negative zero: in the JSON's text (and
/// as read back), in the table's words, in the CSV's fields.
fn no_negative_zero(json: &str, table: &str, csv: &str) {
    let is_zero = |w: &str| w.starts_with('-') && w.parse::<f64>().is_ok_and(|x| x == 0.0);
    let v: Value = serde_json::from_str(json).expect("JSON");
    fn walk(v: &Value, bad: &mut Vec<String>) {
        match v {
            Value::Number(n) if n.as_f64().is_some_and(|x| x == 0.0 && x.is_sign_negative()) => bad.push(n.to_string()),
            Value::Array(a) => a.iter().for_each(|v| walk(v, bad)),
            Value::Object(o) => o.values().for_each(|v| walk(v, bad)),
            _ => {}
        }
    }
    let mut bad = Vec::new();
    walk(&v, &mut bad);
    assert!(bad.is_empty(), "negative zeros in the JSON: {bad:?}");
    for w in json.split(|c: char| c.is_whitespace() || c == ',' || c == ':' || c == '[' || c == ']') {
        assert!(!is_zero(w), "{w} in the JSON");
    }
    for w in table.split(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == ';' || c == '%') {
        assert!(!is_zero(w), "{w} in the table:\n{table}");
    }
    for w in csv.split([',', '\n']) {
        assert!(!is_zero(w), "{w} in the CSV:\n{csv}");
    }
}

/// The three outputs of a summary.
fn outputs(args: &[&str]) -> (String, String, String) {
    let with = |format: &str| run(&[&["summary", "--tz", "Europe/Oslo", "--format", format], args].concat()).0;
    (with("json"), with("table"), with("csv"))
}

#[test]
fn fully_priced_days_are_as_they_were() {
    let tmp = Tmp::with_dirs("han-report", "golden", &["log"]);
    sim(&tmp.join("log"), "2026-01-04T23:00:00Z", 49, &profile());
    prices(&tmp.join("prices"), "2026-01-05", 15, |q| 0.5 + q as f64 / 40.0);
    prices(&tmp.join("prices"), "2026-01-06", 60, |h| 1.0 + (h % 7) as f64 / 3.0);
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let (log, prices) = (tmp.join("log"), tmp.join("prices"));
    let span = ["--dir", path(&log), "--from", "2026-01-05", "--to", "2026-01-06", "--prices", path(&prices)];
    for hours in [false, true] {
        let args = [&span[..], if hours { &["--hours"][..] } else { &[] }].concat();
        let (json, table, csv) = outputs(&args);
        let name = if hours { "priced-hours" } else { "priced" };
        for (got, ext) in [(json, "json"), (table, "txt"), (csv, "csv")] {
            let want = std::fs::read_to_string(golden.join(format!("{name}.{ext}"))).expect("golden");
            assert_eq!(got, want, "{name}.{ext}");
        }
    }
}

#[test]
fn a_day_without_a_price_file_has_no_cost() {
    let tmp = Tmp::with_dirs("han-report", "unpriced", &["log"]);
    // A flat 1200 W: 28.8 kWh a day, 1.2 an hour, 0.3 a quarter.
    sim(&tmp.join("log"), "2026-01-04T23:00:00Z", 49, &[1200]);
    // 2026-01-05 at 2 NOK/kWh; no file for 2026-01-06.
    prices(&tmp.join("prices"), "2026-01-05", 15, |_| 2.0);
    let (log, prices) = (tmp.join("log"), tmp.join("prices"));
    let args = ["--dir", path(&log), "--from", "2026-01-05", "--to", "2026-01-06", "--prices", path(&prices)];
    let (json, table, csv) = outputs(&args);
    no_negative_zero(&json, &table, &csv);
    let v: Value = serde_json::from_str(&json).expect("JSON");
    let days = v["days"].as_array().expect("days");
    assert!((f(&days[0]["cost"]) - 57.6).abs() < 0.02, "{}", days[0]);
    assert!(days[0].get("unpriced_share").is_none(), "all of it priced: {}", days[0]);
    assert_eq!(days[1].get("cost"), Some(&Value::Null), "{}", days[1]);
    assert!((f(&days[1]["unpriced_kwh"]) - 28.8).abs() < 0.02, "{}", days[1]);
    assert_eq!(f(&days[1]["unpriced_share"]), 1.0);
    // The month and the span: the priced day's cost, and half unpriced.
    for c in [&v["months"][0]["costs"], &v["costs"]] {
        assert!((f(&c["cost"]) - 57.6).abs() < 0.02, "{c}");
        assert!((f(&c["unpriced_kwh"]) - 28.8).abs() < 0.02, "{c}");
        assert!((f(&c["unpriced_share"]) - 0.5).abs() < 0.001, "{c}");
    }
    let row = |day: &str| table.lines().find(|l| l.starts_with(day)).unwrap_or_default().to_string();
    assert!(row("2026-01-05").contains("57.60") && !row("2026-01-05").contains("unpriced"), "{table}");
    assert!(row("2026-01-06").contains("no prices"), "{table}");
    assert!(table.contains("28.800 kWh of import (50.0%) had no price"), "{table}");
    assert!(csv.lines().any(|l| l.starts_with("2026-01-06,28.8") && l.ends_with(",true,")), "{csv}");
    // Only the day without prices: no cost anywhere, said so.
    let one = ["--dir", path(&log), "--from", "2026-01-06", "--to", "2026-01-06", "--prices", path(&prices)];
    let (json, table, csv) = outputs(&[&one[..], &["--hours"]].concat());
    no_negative_zero(&json, &table, &csv);
    let v: Value = serde_json::from_str(&json).expect("JSON");
    for c in [&v["days"][0], &v["months"][0]["costs"], &v["costs"]] {
        assert_eq!(c.get("cost"), Some(&Value::Null), "{c}");
        assert_eq!(f(&c["unpriced_share"]), 1.0, "{c}");
    }
    assert!(v["hours"].as_array().expect("hours").iter().all(|h| h.get("cost") == Some(&Value::Null)));
    assert!(table.contains("costs: no prices: 28.800 kWh of import without a price"), "{table}");
    assert!(!table.contains("cost 0.00"), "{table}");
    assert!(csv.lines().skip(1).all(|l| l.ends_with(",true,")), "{csv}");
}

#[test]
fn what_rounds_to_zero_shows_no_sign() {
    let tmp = Tmp::with_dirs("han-report", "zero", &["log"]);
    sim(&tmp.join("log"), "2026-01-04T23:00:00Z", 25, &[1200]);
    // -0.000001 NOK/kWh is -0.0 in the file (5 decimals); -0.00001 is a
    // cost of a few hundredths of an øre below zero.
    prices(&tmp.join("z"), "2026-01-05", 15, |_| -0.000_001);
    prices(&tmp.join("n"), "2026-01-05", 15, |_| -0.000_01);
    let log = tmp.join("log");
    for dir in ["z", "n"] {
        let p = tmp.join(dir);
        let args = ["--dir", path(&log), "--from", "2026-01-05", "--to", "2026-01-05", "--prices", path(&p)];
        let (json, table, csv) = outputs(&[&args[..], &["--hours"]].concat());
        no_negative_zero(&json, &table, &csv);
        let (_, days, _) = outputs(&args);
        assert!(days.lines().any(|l| l.starts_with("2026-01-05") && l.ends_with(" 0.00")), "{dir}: {days}");
        assert!(days.contains("cost 0.00 NOK"), "{dir}: {days}");
        no_negative_zero(&json, &days, &csv);
    }
}

#[test]
fn a_day_half_priced_says_its_unpriced_share() {
    let tmp = Tmp::with_dirs("han-report", "half", &["log"]);
    // Pago Pago's day (UTC-11) 2026-01-05 runs from 11:00 UTC that day;
    // Oslo's price file of 2026-01-05 ends at 23:00 UTC: half of it.
    sim(&tmp.join("log"), "2026-01-05T10:00:00Z", 26, &[1200]);
    // Quarter i of the Oslo day costs i / 40 NOK/kWh.
    prices(&tmp.join("prices"), "2026-01-05", 15, |i| i as f64 / 40.0);
    let log = tmp.join("log");
    let prices = tmp.join("prices");
    let args = ["--tz", "Pacific/Pago_Pago", "--dir", path(&log), "--from", "2026-01-05", "--to", "2026-01-05"];
    let args = [&args[..], &["--prices", path(&prices), "--hours"]].concat();
    let out = |format: &str| run(&[&["summary", "--format", format], &args[..]].concat()).0;
    let (json, table, csv) = (out("json"), out("table"), out("csv"));
    no_negative_zero(&json, &table, &csv);
    let v: Value = serde_json::from_str(&json).expect("JSON");
    // The priced half: quarters 48..95 of the Oslo day, 0.3 kWh each.
    let want: f64 = (48..96).map(|i| 0.3 * i as f64 / 40.0).sum();
    assert!((want - 25.74).abs() < 1e-9);
    let d = &v["days"][0];
    assert!((f(&d["cost"]) - want).abs() < 0.02, "{d}");
    assert!((f(&d["unpriced_kwh"]) - 14.4).abs() < 0.02, "{d}");
    assert!((f(&d["unpriced_share"]) - 0.5).abs() < 0.001, "{d}");
    let c = &v["months"][0]["costs"];
    assert!((f(&c["priced_kwh"]) - 14.4).abs() < 0.02 && (f(&c["unpriced_share"]) - 0.5).abs() < 0.001, "{c}");
    // Each hour: priced or not; the priced ones at their quarters' prices.
    let hours = v["hours"].as_array().expect("hours");
    assert_eq!(hours.len(), 24);
    for (h, row) in hours.iter().enumerate() {
        if h < 12 {
            let want: f64 = (0..4).map(|q| 0.3 * (48 + 4 * h + q) as f64 / 40.0).sum();
            assert!((f(&row["cost"]) - want).abs() < 0.005, "hour {h}: {row}");
            assert!(row.get("unpriced_share").is_none(), "{row}");
        } else {
            assert_eq!(row.get("cost"), Some(&Value::Null), "hour {h}: {row}");
            assert_eq!(f(&row["unpriced_share"]), 1.0, "hour {h}: {row}");
        }
    }
    let row = table.lines().find(|l| l.starts_with("2026-01-05 ")).expect("the day's row");
    assert!(row.contains("25.74") && row.contains("(50.0% unpriced)"), "{table}");
    assert!(table.contains("14.400 kWh of import (50.0%) had no price: the cost is that of the rest"), "{table}");
    assert!(table.contains("no prices"), "the unpriced hours: {table}");
}

/// The tariff of the config below: what `spotprices fetch` folded into
/// the all-in prices.
fn tariff() -> Tariff {
    Tariff {
        markup: 0.05,
        grid: Grid::flat(0.3),
        tax: 0.1,
        vat: 25.0,
        support: Support::Share { share: 0.9, threshold: 0.75 },
        tz: Oslo,
    }
}

const CONFIG: &str =
    "[spotprices]\nzone = \"NO1\"\nmarkup = 0.05\ngrid_fee = 0.3\ntax = 0.1\nsupport = \"stromstotte\"\n";

#[test]
fn support_ends_at_the_months_cap() {
    let tmp = Tmp::with_dirs("han-report", "cap", &["log"]);
    // A flat 1200 W over two Oslo days: 28.8 kWh a day, 0.3 a quarter.
    sim(&tmp.join("log"), "2026-01-04T23:00:00Z", 49, &[1200]);
    // Hour h's spot: 0.5 + 0.1 h NOK/kWh, both days, with the tariff.
    let spot = |h: usize| 0.5 + 0.1 * h as f64;
    for day in ["2026-01-05", "2026-01-06"] {
        prices_with(&tmp.join("prices"), day, 60, Some(&tariff()), spot);
    }
    let config = tmp.join("config.toml");
    std::fs::write(&config, CONFIG).expect("config");
    // By hand: the support is 0.9 of spot above 0.75, with 25 % VAT; the
    // all-in price is (spot + 0.05 + 0.3 + 0.1) x 1.25 less it.
    let support = |h: usize| 0.9 * (spot(h) - 0.75).max(0.0) * 1.25;
    let all_in = |h: usize| (spot(h) + 0.05 + 0.3 + 0.1) * 1.25 - support(h);
    let day1: f64 = (0..24).map(|h| 1.2 * all_in(h)).sum();
    // A cap of 30.6 kWh: 28.8 on the 5th, 1.2 in the 6th's first hour and
    // 0.6 in its second; the rest of the 6th (27 kWh) pays the support back.
    let day2: f64 = 1.2 * all_in(0)
        + 0.6 * all_in(1)
        + 0.6 * (all_in(1) + support(1))
        + (2..24).map(|h| 1.2 * (all_in(h) + support(h))).sum::<f64>();
    let lost: f64 = 0.6 * support(1) + (2..24).map(|h| 1.2 * support(h)).sum::<f64>();
    assert!((day1 - 45.8325).abs() < 1e-9 && (day2 - 75.6).abs() < 1e-9 && (lost - 29.7675).abs() < 1e-9);
    let (log, prices) = (tmp.join("log"), tmp.join("prices"));
    let summary = |from: &str, extra: &[&str]| {
        let args = ["--config", path(&config), "--dir", path(&log), "--from", from, "--to", "2026-01-06"];
        let args = [&args[..], &["--prices", path(&prices)], extra].concat();
        let (json, stderr) = run(&[&["summary", "--tz", "Europe/Oslo", "--format", "json"], &args[..]].concat());
        (serde_json::from_str::<Value>(&json).expect("JSON"), stderr)
    };
    let (v, stderr) = summary("2026-01-05", &["--support-cap", "30.6"]);
    assert!(!stderr.contains("warning"), "{stderr}");
    assert!((f(&v["days"][0]["cost"]) - day1).abs() < 0.02, "{}", v["days"][0]);
    assert!((f(&v["days"][1]["cost"]) - day2).abs() < 0.02, "{}", v["days"][1]);
    let c = &v["months"][0]["costs"];
    assert!((f(&c["cost"]) - (day1 + day2)).abs() < 0.03, "{c}");
    assert_eq!(f(&c["support_cap"]["cap_kwh"]), 30.6);
    assert!((f(&c["support_cap"]["over_kwh"]) - 27.0).abs() < 0.02, "{c}");
    assert!((f(&c["support_cap"]["support_lost"]) - lost).abs() < 0.03, "{c}");
    assert_eq!(f(&c["support_cap"]["unknown_kwh"]), 0.0);
    assert_eq!(v["costs"]["support_cap"], c["support_cap"], "one month: the span's is the month's");
    // From the 6th only: the 5th still counts toward the month's cap.
    let (v, _) = summary("2026-01-06", &["--support-cap", "30.6"]);
    assert!((f(&v["days"][0]["cost"]) - day2).abs() < 0.02, "{}", v["days"][0]);
    // The cap from [han-report] in the config file, as the flag.
    let with_key = format!("{CONFIG}\n[han-report]\nsupport_cap_kwh = 30.6\n");
    std::fs::write(&config, &with_key).expect("config");
    let (v, _) = summary("2026-01-05", &[]);
    assert!((f(&v["costs"]["cost"]) - (day1 + day2)).abs() < 0.03, "{}", v["costs"]);
    // Without the cap (none), and Norway's 5,000 kWh by default: the
    // all-in prices as they are.
    let uncapped: f64 = 2.0 * day1;
    let (v, _) = summary("2026-01-05", &["--support-cap", "none"]);
    assert!((f(&v["costs"]["cost"]) - uncapped).abs() < 0.03, "{}", v["costs"]);
    assert!(v["costs"].get("support_cap").is_none(), "{}", v["costs"]);
    std::fs::write(&config, CONFIG).expect("config");
    let (v, _) = summary("2026-01-05", &[]);
    assert!((f(&v["costs"]["cost"]) - uncapped).abs() < 0.03, "{}", v["costs"]);
    assert_eq!(f(&v["costs"]["support_cap"]["cap_kwh"]), 5000.0);
    assert_eq!(f(&v["costs"]["support_cap"]["over_kwh"]), 0.0);
    // The table says what the cap took.
    let (table, _) = run(&[
        "summary",
        "--tz",
        "Europe/Oslo",
        "--config",
        path(&config),
        "--dir",
        path(&log),
        "--prices",
        path(&prices),
        "--from",
        "2026-01-05",
        "--to",
        "2026-01-06",
        "--support-cap",
        "30.6",
    ]);
    assert!(table.contains("support cap 30.6 kWh: 27.000 kWh past it paid 29.77 NOK of support back"), "{table}");
    // Another tariff in the config than the one that made the files: their
    // support is not known, and that is said, not guessed.
    std::fs::write(&config, CONFIG.replace("markup = 0.05", "markup = 0.06")).expect("config");
    let (v, stderr) = summary("2026-01-05", &["--support-cap", "30.6"]);
    assert!((f(&v["costs"]["support_cap"]["unknown_kwh"]) - 27.0).abs() < 0.02, "{}", v["costs"]);
    assert_eq!(f(&v["costs"]["support_cap"]["support_lost"]), 0.0);
    assert!((f(&v["costs"]["cost"]) - uncapped).abs() < 0.03, "{}", v["costs"]);
    assert!(stderr.contains("27.000 kWh past the support cap are in price files that the tariff"), "{stderr}");
}
