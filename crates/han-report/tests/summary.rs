//! Summaries of logs from han-sim runs against totals computed by hand;
//! costs with hourly and 15-minute price files; .jsonl.gz and .csv logs
//! giving the same as .jsonl.

mod common;

use std::io::Write;
use std::process::Command;

use chrono::Utc;
use chrono_tz::Europe::Oslo;
use common::*;
use han_common::days::{Clock, Days};
use han_common::line::Line;
use serde_json::Value;

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

/// 1000 W, then 1000 + 100 W more each minute for 20 minutes, 40 minutes of 3000 W: by the hour.
fn profile() -> Vec<i32> {
    [(0..20).map(|m| 1000 + 100 * m).collect::<Vec<_>>(), vec![3000; 40]].concat()
}

#[test]
fn energy_peaks_and_profile_by_hand() {
    let tmp = Tmp::with_dirs("han-report", "hand", &["log"]);
    // Two whole Oslo days, 2026-01-05 and 06 (from 23:00 UTC), and an hour
    // more so the last hour is whole.
    sim(&tmp.join("log"), "2026-01-04T23:00:00Z", 49, &profile());
    let v = report(&tmp.join("log"), &["--from", "2026-01-05", "--to", "2026-01-06"]);
    // Each hour: 20 minutes rising 1000..2900 W (mean 1950), 40 at 3000.
    let hour_kwh = (1950.0 * 20.0 + 3000.0 * 40.0) / 60.0 / 1000.0;
    let days = v["days"].as_array().expect("days");
    assert_eq!(days.len(), 2);
    for d in days {
        assert!((f(&d["import_kwh"]) - 24.0 * hour_kwh).abs() < 0.01, "{d}");
        assert_eq!(d["complete"], true, "{d}");
    }
    let m = &v["months"][0];
    assert_eq!(m["month"], "2026-01");
    assert!((f(&m["norway_average_kwh"]) - hour_kwh).abs() < 0.002, "{m}");
    assert_eq!(m["norway_step"], 1, "2.65 kWh/h is in the second step (2-5)");
    assert_eq!(m["norway_top"].as_array().map(Vec::len), Some(2), "two days so far");
    // The highest quarter: 45 minutes of 3000 W.
    assert!((f(&m["belgium_peak_w"]) - 3000.0).abs() < 5.0, "{m}");
    for h in v["profile_kwh"].as_array().expect("profile") {
        assert!((f(h) - hour_kwh).abs() < 0.002, "{h}");
    }
    assert_eq!(f(&v["power"]["max_w"]), 3000.0);
    assert_eq!(f(&v["power"]["min_w"]), 1000.0);
    assert!(v["gaps"].as_array().is_some_and(Vec::is_empty), "{}", v["gaps"]);
}

#[test]
fn costs_with_hourly_and_quarter_prices() {
    let tmp = Tmp::with_dirs("han-report", "costs", &["log"]);
    // A flat 1200 W: 1.2 kWh an hour, 0.3 a quarter.
    sim(&tmp.join("log"), "2026-01-04T23:00:00Z", 25, &[1200]);
    // Hourly: hour h costs h NOK/kWh (EUR/MWh x 10 / 1000 = NOK/kWh).
    prices(&tmp.join("hourly"), "2026-01-05", 60, |h| h as f64);
    let v = report(
        &tmp.join("log"),
        &[
            "--from",
            "2026-01-05",
            "--to",
            "2026-01-05",
            "--hours",
            "--prices",
            tmp.join("hourly").to_str().expect("path"),
        ],
    );
    for (h, row) in v["hours"].as_array().expect("hours").iter().enumerate() {
        assert!((f(&row["cost"]) - 1.2 * h as f64).abs() < 0.005, "hour {h}: {row}");
    }
    let want: f64 = (0..24).map(|h| 1.2 * h as f64).sum();
    assert!((f(&v["days"][0]["cost"]) - want).abs() < 0.02, "{} vs {want}", v["days"][0]);
    let c = &v["costs"];
    assert!((f(&c["average_paid"]) - 11.5).abs() < 0.01, "{c}");
    assert!((f(&c["average_price"]) - 11.5).abs() < 0.01, "{c}");
    assert!(f(&c["flexible_saving"]) < 0.05, "a flat load has nothing to move: {c}");
    // Quarters: quarter q costs q / 4 NOK/kWh.
    prices(&tmp.join("quarters"), "2026-01-05", 15, |q| q as f64 / 4.0);
    let v = report(
        &tmp.join("log"),
        &["--from", "2026-01-05", "--to", "2026-01-05", "--prices", tmp.join("quarters").to_str().expect("path")],
    );
    let want: f64 = (0..96).map(|q| 0.3 * q as f64 / 4.0).sum();
    assert!((f(&v["days"][0]["cost"]) - want).abs() < 0.02, "{} vs {want}", v["days"][0]);
    assert!((f(&v["months"][0]["costs"]["cost"]) - want).abs() < 0.02);
    // Each hour's cost (--hours): hour h has quarters 4h..4h+3, 0.3 kWh
    // each at q / 4: 0.3 x (16h + 6) / 4; the same in the CSV.
    let quarters = tmp.join("quarters");
    let span = ["--from", "2026-01-05", "--to", "2026-01-05", "--hours", "--prices", quarters.to_str().expect("path")];
    let v = report(&tmp.join("log"), &span);
    let hours = v["hours"].as_array().expect("hours");
    assert_eq!(hours.len(), 24);
    for (h, row) in hours.iter().enumerate() {
        assert_eq!(row["start"], format!("2026-01-05T{h:02}:00:00+01:00"));
        assert!((f(&row["import_kwh"]) - 1.2).abs() < 0.002, "{row}");
        let want = 0.3 * (16.0 * h as f64 + 6.0) / 4.0;
        assert!((f(&row["cost"]) - want).abs() < 0.005, "hour {h}: {row} vs {want}");
    }
    let csv = Command::new(BIN)
        .args(["summary", "--tz", "Europe/Oslo", "--format", "csv", "--dir", tmp.join("log").to_str().expect("path")])
        .args(span)
        .env_remove("HAN_TOOLS_CONFIG")
        .output()
        .expect("han-report runs");
    let text = String::from_utf8_lossy(&csv.stdout);
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows.first(), Some(&"start,import_kwh,export_kwh,complete,cost"));
    assert_eq!(rows.len(), 25, "{text}");
    assert!(rows.get(3).is_some_and(|r| r.starts_with("2026-01-05T02:00:00+01:00,1.2,")), "{text}");
    // Without a price file for a day, its energy is unpriced, not free.
    let v = report(
        &tmp.join("log"),
        &["--from", "2026-01-05", "--to", "2026-01-05", "--prices", tmp.join("log").to_str().expect("path")],
    );
    assert!((f(&v["costs"]["unpriced_kwh"]) - 28.8).abs() < 0.02, "{}", v["costs"]);
}

#[test]
fn gzipped_and_csv_logs_give_the_same_summary() {
    let tmp = Tmp::with_dirs("han-report", "forms", &["log"]);
    let lines = sim(&tmp.join("log"), "2026-01-04T23:00:00Z", 30, &profile());
    let plain = report(&tmp.join("log"), &[]);
    // Read on one thread or several: the same summary.
    for t in ["1", "2", "3"] {
        assert_eq!(report(&tmp.join("log"), &["--threads", t]), plain, "--threads {t}");
    }
    // Gzipped, as han-log's compressor leaves them.
    let gz = tmp.join("gz");
    std::fs::create_dir_all(&gz).expect("gz dir");
    for e in std::fs::read_dir(tmp.join("log")).expect("log") {
        let p = e.expect("entry").path();
        let name = p.file_name().and_then(|n| n.to_str()).expect("name").to_string();
        let file = std::fs::File::create(gz.join(format!("{name}.gz"))).expect("gz file");
        let mut enc = flate2::write::GzEncoder::new(file, flate2::Compression::default());
        enc.write_all(&std::fs::read(&p).expect("day")).expect("gz");
        enc.finish().expect("gz written");
    }
    assert_eq!(report(&gz, &[]), plain);
    // CSV, in han-log's columns (docs/han-log.md): time (local), received,
    // meter_time, meter_id, then the quantities.
    let csv = tmp.join("csv");
    std::fs::create_dir_all(&csv).expect("csv dir");
    let mut days = Days::new(Oslo, Clock::Meter);
    for l in &lines {
        let line = Line::parse(l, true).expect("line");
        let st = days.stamp(&line, Utc::now());
        let path = han_common::logs::day_path(&csv, st.date, "csv");
        let new = !path.exists();
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&path).expect("csv");
        if new {
            writeln!(
                file,
                "time,received,meter_time,meter_id,power_import_w,power_export_w,energy_import_kwh,energy_export_kwh"
            )
            .expect("header");
        }
        let n = |q: &str| line.number(q).map(|x| x.to_string()).unwrap_or_default();
        writeln!(
            file,
            "{},{},{},\"{}\",{},{},{},{}",
            st.at.with_timezone(&Oslo).to_rfc3339(),
            line.received.as_deref().unwrap_or_default(),
            line.meter_time.as_deref().unwrap_or_default(),
            line.meter_id.as_deref().unwrap_or_default(),
            n("power_import_w"),
            n("power_export_w"),
            n("energy_import_kwh"),
            n("energy_export_kwh")
        )
        .expect("row");
    }
    assert_eq!(report(&csv, &[]), plain);
}

/// A line that is not a reading (a torn write, an edit) is skipped, counted
/// and said with its place; every good reading around it still counts.
#[test]
fn lines_that_are_not_readings_are_counted_and_said() {
    let tmp = Tmp::with_dirs("han-report", "skipped", &["log"]);
    let log = tmp.join("log");
    sim(&log, "2026-01-04T23:00:00Z", 6, &profile());
    let good = report(&log, &[]);
    assert_eq!(good["skipped_lines"], 0);
    // Two bad lines into the day's log, between good ones.
    let day = log.join("2026-01-05.jsonl");
    let text = std::fs::read_to_string(&day).expect("day");
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(10, "{\"v\":1,\"protocol\":\"p1\",\"meter_ti");
    lines.insert(20, "not json at all");
    std::fs::write(&day, lines.join("\n") + "\n").expect("edited");
    let out = Command::new(BIN)
        .args(["summary", "--tz", "Europe/Oslo", "--format", "json", "--dir", log.to_str().expect("path")])
        .env_remove("HAN_TOOLS_CONFIG")
        .output()
        .expect("han-report runs");
    assert!(out.status.success());
    let got: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(got["skipped_lines"], 2);
    assert_eq!(got["readings"], good["readings"]);
    assert_eq!(got["import_kwh"], good["import_kwh"]);
    assert_eq!(got["days"], good["days"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("2 lines of the logs skipped") && err.contains("2026-01-05.jsonl line 11"), "{err}");
    // The table says it too.
    let table = Command::new(BIN)
        .args(["summary", "--tz", "Europe/Oslo", "--dir", log.to_str().expect("path")])
        .env_remove("HAN_TOOLS_CONFIG")
        .output()
        .expect("han-report runs");
    assert!(String::from_utf8_lossy(&table.stdout).contains("2 lines of the logs skipped"));
    // A CSV row without a time.
    let csv = tmp.join("csv");
    std::fs::create_dir_all(&csv).expect("csv dir");
    std::fs::write(
        csv.join("2026-01-05.csv"),
        "time,power_import_w,energy_import_kwh\n2026-01-05T00:00:00+01:00,500,1.0\nbroken,500,1.1\n2026-01-05T01:00:00+01:00,500,1.5\n",
    )
    .expect("csv");
    let out = Command::new(BIN)
        .args(["summary", "--tz", "Europe/Oslo", "--format", "json", "--dir", csv.to_str().expect("path")])
        .env_remove("HAN_TOOLS_CONFIG")
        .output()
        .expect("han-report runs");
    let got: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!((got["readings"].as_u64(), got["skipped_lines"].as_u64()), (Some(2), Some(1)));
    assert!(String::from_utf8_lossy(&out.stderr).contains("2026-01-05.csv line 3: no RFC 3339 time"));
}
