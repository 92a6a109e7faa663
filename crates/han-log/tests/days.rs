//! han-log as a user runs it: readings land in the local day of their time
//! (midnight, summer time both ways, a clock that goes back), files are
//! only ever appended, bad lines are skipped, CSV, compression, the web
//! folder, settings and exit codes.

mod common;

use common::{day_files, lines, reading, run, stderr};
use han_testkit::{Tmp, names};

use serde_json::Value as Json;

fn dir_args(t: &Tmp, tz: &str) -> Vec<String> {
    vec!["--dir".into(), t.join("log").display().to_string(), "--tz".into(), tz.into()]
}

fn as_strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn midnight_and_summer_time_starting() {
    let t = Tmp::new("han-log-it", "spring");
    // Amsterdam, 2025-03-30: 02:00 CET becomes 03:00 CEST, a 23-hour day.
    let times = [
        "2025-03-29T23:59:59+01:00",
        "2025-03-30T00:00:00+01:00",
        "2025-03-30T01:59:59+01:00",
        "2025-03-30T03:00:00+02:00",
        "2025-03-30T23:59:59+02:00",
        "2025-03-31T00:00:00+02:00",
    ];
    let input: String = times.iter().map(|m| reading(Some(m), "2026-12-01T10:00:00.000Z", 500.0) + "\n").collect();
    let out = run(&as_strs(&dir_args(&t, "Europe/Amsterdam")), &input);
    assert!(out.status.success(), "{}", stderr(&out));
    let log = t.join("log");
    assert_eq!(day_files(&log), ["2025-03-29.jsonl", "2025-03-30.jsonl", "2025-03-31.jsonl"]);
    let day = lines(&log.join("2025-03-30.jsonl"));
    assert_eq!(day.len(), 4);
    let mt = |l: &str| serde_json::from_str::<Json>(l).unwrap()["meter_time"].as_str().unwrap().to_owned();
    assert_eq!(mt(&day[0]), times[1]);
    assert_eq!(mt(&day[3]), times[4]);
    let span = chrono::DateTime::parse_from_rfc3339(times[4]).unwrap()
        - chrono::DateTime::parse_from_rfc3339(times[1]).unwrap();
    assert_eq!(span.num_seconds(), 23 * 3600 - 1, "the day has 23 hours");
    // Stored exactly as received.
    let all: Vec<String> = ["2025-03-29", "2025-03-30", "2025-03-31"]
        .iter()
        .flat_map(|d| lines(&log.join(format!("{d}.jsonl"))))
        .collect();
    assert_eq!(all.join("\n") + "\n", input);
}

#[test]
fn summer_time_ending_and_a_clock_that_goes_back() {
    let t = Tmp::new("han-log-it", "autumn");
    // Oslo, 2025-10-26: 03:00 CEST becomes 02:00 CET, a 25-hour day. Meters
    // without a stated offset (Aidon, Kaifa) send local times: 02:30 comes twice.
    let input: String = [
        (Some("2025-10-25T23:59:59+02:00"), 1.0),
        (Some("2025-10-26T00:00:00+02:00"), 2.0),
        (Some("2025-10-26T02:30:00+02:00"), 3.0),
        (Some("2025-10-26T02:30:00+01:00"), 4.0),
        (Some("2025-10-26T02:45:00"), 5.0),
        (Some("2025-10-26T23:59:59+01:00"), 6.0),
        (Some("2025-10-27T00:00:00"), 7.0),
        // The clock is set back across midnight: the reading goes back to its day.
        (Some("2025-10-26T23:59:30+01:00"), 8.0),
        (Some("2025-10-27T00:00:10+01:00"), 9.0),
    ]
    .iter()
    .map(|(m, w)| reading(*m, "2026-12-01T10:00:00.000Z", *w) + "\n")
    .collect();
    let out = run(&as_strs(&dir_args(&t, "Europe/Oslo")), &input);
    assert!(out.status.success(), "{}", stderr(&out));
    let log = t.join("log");
    let watts = |d: &str| -> Vec<f64> {
        lines(&log.join(format!("{d}.jsonl")))
            .iter()
            .map(|l| serde_json::from_str::<Json>(l).unwrap()["power_import_w"].as_f64().unwrap())
            .collect()
    };
    assert_eq!(watts("2025-10-25"), [1.0]);
    assert_eq!(watts("2025-10-26"), [2.0, 3.0, 4.0, 5.0, 6.0, 8.0]);
    assert_eq!(watts("2025-10-27"), [7.0, 9.0]);
}

#[test]
fn receive_time_and_carried_meter_clock() {
    let t = Tmp::new("han-log-it", "received");
    // No meter clock: the receive time in Oslo (UTC+1 in winter).
    let a = reading(None, "2025-01-14T22:59:59.999Z", 1.0);
    let b = reading(None, "2025-01-14T23:00:00.000Z", 2.0);
    // A replay: the meter clock says 2024; a reading without one 2 s later
    // stays with it (Aidon sends its clock only in the hourly list).
    let c = reading(Some("2024-06-01T23:59:59"), "2025-01-15T10:00:00.000Z", 3.0);
    let d = reading(None, "2025-01-15T10:00:00.500Z", 4.0);
    let e = reading(None, "2025-01-15T10:00:02.000Z", 5.0);
    let input = [a, b, c, d, e].join("\n") + "\n";
    let out = run(&as_strs(&dir_args(&t, "Europe/Oslo")), &input);
    assert!(out.status.success(), "{}", stderr(&out));
    let log = t.join("log");
    assert_eq!(day_files(&log), ["2024-06-01.jsonl", "2024-06-02.jsonl", "2025-01-14.jsonl", "2025-01-15.jsonl"]);
    assert_eq!(lines(&log.join("2024-06-01.jsonl")).len(), 2, "0.5 s later is still June 1st");
    assert_eq!(lines(&log.join("2024-06-02.jsonl")).len(), 1, "2 s later is past midnight");
    // --clock received: everything by the receive time.
    let t2 = Tmp::new("han-log-it", "received2");
    let mut args = dir_args(&t2, "Europe/Oslo");
    args.extend(["--clock".into(), "received".into()]);
    let out = run(&as_strs(&args), &input);
    assert!(out.status.success());
    assert_eq!(day_files(&t2.join("log")), ["2025-01-14.jsonl", "2025-01-15.jsonl"]);
    assert_eq!(lines(&t2.join("log/2025-01-15.jsonl")).len(), 4);
}

#[test]
fn bad_lines_are_skipped_and_said_files_only_grow() {
    let t = Tmp::new("han-log-it", "bad");
    let log = t.join("log");
    std::fs::create_dir_all(&log).unwrap();
    let old = reading(Some("2025-02-01T08:00:00+01:00"), "2025-02-01T07:00:00.000Z", 1.0) + "\n";
    std::fs::write(log.join("2025-02-01.jsonl"), &old).unwrap();
    let good = reading(Some("2025-02-01T09:00:00+01:00"), "2025-02-01T08:00:00.000Z", 2.0);
    let input =
        format!("hello\n{good}\n\n{{\"v\":1,\"protocol\":\"han\"}}\n[1,2]\n{}\n{good}", &good[..good.len() / 2]);
    let out = run(&as_strs(&dir_args(&t, "Europe/Oslo")), &input);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.matches("skipped a line that is not a reading").count(), 4, "{err}");
    assert!(err.contains("no \"obis\" field"), "{err}");
    assert_eq!(err.matches("it reads the JSON lines han-read writes").count(), 1, "one hint: {err}");
    assert!(err.contains("2 readings, 2 stored"), "{err}");
    assert_eq!(std::fs::read_to_string(log.join("2025-02-01.jsonl")).unwrap(), format!("{old}{good}\n{good}\n"));
}

#[test]
fn a_torn_tail_is_cut_at_start_and_kept() {
    let t = Tmp::new("han-log-it", "torn");
    let log = t.join("log");
    std::fs::create_dir_all(&log).unwrap();
    let whole = reading(Some("2025-02-01T08:00:00+01:00"), "2025-02-01T07:00:00.000Z", 1.0);
    std::fs::write(log.join("2025-02-01.jsonl"), format!("{whole}\n{}", &whole[..50])).unwrap();
    let next = reading(Some("2025-02-01T08:00:02+01:00"), "2025-02-01T07:00:02.000Z", 2.0);
    let out = run(&as_strs(&dir_args(&t, "Europe/Oslo")), &format!("{next}\n"));
    assert!(out.status.success());
    assert!(stderr(&out).contains("cut a torn last line of 50 bytes"), "{}", stderr(&out));
    assert_eq!(lines(&log.join("2025-02-01.jsonl")), [whole.clone(), next]);
    assert_eq!(std::fs::read_to_string(log.join("2025-02-01.jsonl.torn")).unwrap(), format!("{}\n", &whole[..50]));
    // The shared reader sees the whole lines only.
    let mut n = 0;
    han_common::logs::for_each_line(&log, None, None, |_, l| {
        serde_json::from_slice::<Json>(l).unwrap();
        n += 1;
        true
    })
    .unwrap();
    assert_eq!(n, 2);
}

#[test]
fn csv_has_the_documented_columns() {
    let t = Tmp::new("han-log-it", "csv");
    let mut args = dir_args(&t, "Europe/Oslo");
    args.push("--csv".into());
    let input = [
        reading(Some("2025-02-01T08:00:00+01:00"), "2025-02-01T07:00:00.000Z", 1234.5),
        reading(None, "2025-02-01T07:00:01.000Z", 99.0),
    ]
    .join("\n")
        + "\n";
    let out = run(&as_strs(&args), &input);
    assert!(out.status.success(), "{}", stderr(&out));
    let rows = lines(&t.join("log/2025-02-01.csv"));
    let head: Vec<&str> = rows[0].split(',').collect();
    assert_eq!(head.len(), 4 + han::Quantities::NAMES.len());
    assert_eq!(&head[..6], ["time", "received", "meter_time", "meter_id", "power_import_w", "power_export_w"]);
    assert_eq!(rows.len(), 3);
    let r: Vec<&str> = rows[1].split(',').collect();
    assert_eq!(
        &r[..6],
        [
            "2025-02-01T08:00:00+01:00",
            "2025-02-01T07:00:00.000Z",
            "2025-02-01T08:00:00+01:00",
            "E0001",
            "1234.5",
            "0.0"
        ]
    );
    assert_eq!(r[head.iter().position(|h| *h == "energy_import_kwh").unwrap()], "", "absent, not 0");
    assert!(rows[2].starts_with("2025-02-01T08:00:01+01:00,2025-02-01T07:00:01.000Z,,E0001,99.0,"), "{}", rows[2]);
    // A second run appends rows, not a second header.
    let out = run(&as_strs(&args), &input);
    assert!(out.status.success());
    assert_eq!(lines(&t.join("log/2025-02-01.csv")).len(), 5);
}

#[test]
fn old_days_are_compressed_and_read_back() {
    let t = Tmp::new("han-log-it", "gzip");
    let log = t.join("log");
    std::fs::create_dir_all(&log).unwrap();
    let today = chrono::Local::now().date_naive();
    let old = today - chrono::Duration::days(3);
    let recent = today - chrono::Duration::days(1);
    let line = |d: chrono::NaiveDate| reading(Some(&format!("{d}T12:00:00+00:00")), "2026-12-01T10:00:00.000Z", 7.0);
    std::fs::write(log.join(format!("{old}.jsonl")), line(old) + "\n").unwrap();
    std::fs::write(log.join(format!("{recent}.jsonl")), line(recent) + "\n").unwrap();
    let tz = iana_or_utc();
    let mut args = dir_args(&t, &tz);
    args.extend(["--compress-after".into(), "1".into()]);
    let out = run(&as_strs(&args), &(line(old) + "\n"));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(day_files(&log), [format!("{old}.jsonl.gz"), format!("{recent}.jsonl")], "{}", stderr(&out));
    let mut got = Vec::new();
    han_common::logs::for_each_line(&log, None, None, |f, l| {
        got.push((f.date, String::from_utf8(l.to_vec()).unwrap()));
        true
    })
    .unwrap();
    assert_eq!(
        got,
        [(old, line(old)), (old, line(old)), (recent, line(recent))],
        "the late reading was compressed too"
    );
}

/// The zone the test machine's local dates are in (han-log's --tz must agree with chrono::Local).
fn iana_or_utc() -> String {
    let off = chrono::Local::now().offset().local_minus_utc();
    if off == 0 { "UTC".into() } else { format!("Etc/GMT{:+}", -off / 3600) }
}

#[test]
fn the_web_folder_gets_the_page_and_its_data() {
    let t = Tmp::new("han-log-it", "www");
    let www = t.join("www");
    let mut args = dir_args(&t, "Europe/Oslo");
    args.extend(["--www".into(), www.display().to_string()]);
    let input: String = (0..180)
        .map(|i| {
            let s = 8 * 3600 + i * 2;
            let m = format!("2025-02-01T{:02}:{:02}:{:02}+01:00", s / 3600, s / 60 % 60, s % 60);
            let line = reading(Some(&m), "2025-02-01T07:00:00.000Z", 1000.0 + f64::from(i));
            // Every tenth reading has the phases, as Norwegian list 2.
            let line = if i % 10 == 5 {
                line.replace("\"power_export_w\":0.0,", "\"power_export_w\":0.0,\"voltage_l1_v\":231.5,")
            } else {
                line
            };
            line + "\n"
        })
        .collect();
    let out = run(&as_strs(&args), &input);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(std::fs::read_to_string(www.join("index.html")).unwrap().contains("written by han-log"));
    let current = std::fs::read_to_string(www.join("data/current.json")).unwrap();
    assert_eq!(current, input.lines().last().unwrap().to_owned() + "\n");
    let full = std::fs::read_to_string(www.join("data/last-full.json")).unwrap();
    assert_eq!(full, input.lines().nth(175).unwrap().to_owned() + "\n", "the last reading with phases");
    let today: Json = serde_json::from_str(&std::fs::read_to_string(www.join("data/today.json")).unwrap()).unwrap();
    assert_eq!(today["date"], "2025-02-01");
    assert_eq!(today["start"], "2025-02-01T00:00:00+01:00");
    let minutes = today["minutes"].as_array().unwrap();
    assert_eq!(minutes.len(), 6, "six minutes of readings");
    assert_eq!(minutes[0]["t"], "2025-02-01T08:00:00+01:00");
    assert_eq!(minutes[0]["import_w"], 1014.5, "the average of 1000..1029");
    // No register: power integrated, each reading's power held for its 2 s.
    let want: f64 = (0..179).map(|i| (1000.0 + f64::from(i)) * 2.0 / 3600.0 / 1000.0).sum();
    let kwh = today["energy_import_kwh"].as_f64().unwrap();
    assert!((kwh - want).abs() < 0.0005, "{kwh} vs {want}");
    // An edited page (without the mark) is left alone.
    std::fs::write(www.join("index.html"), "<p>mine</p>").unwrap();
    let out = run(&as_strs(&args), "");
    assert!(out.status.success());
    assert_eq!(std::fs::read_to_string(www.join("index.html")).unwrap(), "<p>mine</p>");
    // Nothing else in data/ (no temp files).
    assert_eq!(names(&www.join("data")), ["current.json", "last-full.json", "today.json"]);
}

#[test]
fn settings_from_the_config_file_and_usage_errors() {
    let t = Tmp::new("han-log-it", "config");
    let cfg = t.join("config.toml");
    std::fs::write(
        &cfg,
        format!("[han-log]\ndir = \"{}\"\ntz = \"America/New_York\"\ncsv = true\n", t.join("cfglog").display()),
    )
    .unwrap();
    let input = reading(None, "2025-02-01T03:00:00.000Z", 1.0) + "\n";
    let out = run(&["--config", cfg.to_str().unwrap()], &input);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        day_files(&t.join("cfglog")),
        ["2025-01-31.csv", "2025-01-31.jsonl"],
        "22:00 the day before in New York"
    );
    // clock = "received" from the file: the meter clock is not used.
    let cfg2 = t.join("config2.toml");
    let text = format!(
        "[han-log]\ndir = \"{}\"\ntz = \"UTC\"\nclock = \"received\"\nsync_every = \"1s\"\n",
        t.join("log2").display()
    );
    std::fs::write(&cfg2, text).unwrap();
    let input = reading(Some("2024-06-01T12:00:00+00:00"), "2025-02-01T03:00:00.000Z", 1.0) + "\n";
    let out = run(&["--config", cfg2.to_str().unwrap()], &input);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(day_files(&t.join("log2")), ["2025-02-01.jsonl"]);
    std::fs::write(&cfg2, "[han-log]\nsync-every = \"1s\"\n").unwrap();
    let out = run(&["--config", cfg2.to_str().unwrap(), "--dir", t.join("log3").to_str().unwrap()], "");
    assert!(out.status.success());
    assert!(stderr(&out).contains("[han-log] sync-every: no such setting"), "a typo is said: {}", stderr(&out));
    for (bad, want) in [
        ("clock = \"wall\"", "meter or received"),
        ("csv = 1", "must be true or false"),
        ("compress_after = -1", "0 or more"),
        ("max_buffer = 0", "1 or more MiB"),
    ] {
        std::fs::write(&cfg2, format!("[han-log]\n{bad}\n")).unwrap();
        let out = run(&["--config", cfg2.to_str().unwrap()], "");
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", stderr(&out));
        assert!(stderr(&out).contains(want), "{bad}: {}", stderr(&out));
    }
    for (args, want) in [
        (vec!["--tz", "Mars/Olympus"], "not a time zone"),
        (vec!["--sync-every", "soon"], "not a duration"),
        (vec!["--config", "/nonexistent/han.toml"], "cannot read config file"),
        (vec!["--clock", "wall"], "invalid value"),
        (vec!["--max-buffer", "0"], "invalid value"),
    ] {
        let out = run(&args, "");
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(want), "{args:?}: {}", stderr(&out));
    }
    let help = std::process::Command::new(common::BIN).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("Examples:") && help.contains("Exit status"), "{help}");
}
