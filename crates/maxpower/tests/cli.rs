//! The binary on day files: han-sim runs (a Norwegian Kaifa across a month
//! boundary and the autumn DST day, a Belgian Fluvius), hand-made months
//! (three peaks on one day), the page, --set-limit and --follow.

mod common;

use common::*;
use han_simulator::Meter;
use han_testkit::Tmp;
use std::io::Write;

const OSLO: han::Tz = han::Tz::Europe__Oslo;

#[test]
fn hours_by_the_meter_clock_across_a_month_boundary() {
    let t = Tmp::new("maxpower", "month");
    let logs = t.join("log");
    // Kaifa: power every 2 s, registers at xx:00:10 stamped xx:00:00.
    let (lines, regs) = sim(Meter::KaifaNo, "2025-01-31T20:00:00+01:00", 8 * 3600);
    file_lines(&logs, OSLO, &lines);
    let j = json_at(&logs, &t, "Europe/Oslo", "2025-02-01T03:30:00+01:00", &[]);
    assert_eq!(j["month"], "2025-02");
    assert_eq!(j["tariff"], "no", "a Norwegian list: tariff from the meter's data");
    let hours = today(&j);
    let starts: Vec<&str> = hours.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(
        starts,
        [
            "2025-02-01T00:00:00+01:00",
            "2025-02-01T01:00:00+01:00",
            "2025-02-01T02:00:00+01:00",
            "2025-02-01T03:00:00+01:00"
        ]
    );
    for (i, (start, wh)) in hours.iter().take(3).enumerate() {
        let from = register_at(&regs, &format!("2025-02-01T0{i}:00:00+01:00"));
        let to = register_at(&regs, &format!("2025-02-01T0{}:00:00+01:00", i + 1));
        assert!((wh - (to - from) * 1000.0).abs() < 1e-6, "{start}: {wh} vs registers {from} -> {to}");
        assert_eq!(j["today"][i]["source"], "registers");
    }
    // January's hours are not this month's.
    let month_kwh = j["month_import_kwh"].as_f64().unwrap();
    let by_hand = register_at(&regs, "2025-02-01T03:00:00+01:00") - register_at(&regs, "2025-02-01T00:00:00+01:00");
    let running = hours[3].1 / 1000.0;
    assert!((month_kwh - by_hand - running).abs() < 1e-6, "{month_kwh} vs {by_hand} + {running}");
    let top = j["norway"]["top"].as_array().unwrap();
    assert_eq!(top.len(), 1, "one day of February so far: {top:?}");
    assert_eq!(j["current"]["start"], "2025-02-01T03:00:00+01:00");
    let so_far = j["current"]["so_far_wh"].as_f64().unwrap();
    let projected = j["current"]["projected_wh"].as_f64().unwrap();
    assert!(projected > so_far && so_far > 0.0, "{so_far} {projected}");
    // The text summary says the same.
    let out = maxpower(&run_args(None, &logs, &t.join("st"), "Europe/Oslo", "2025-02-01T03:30:00+01:00", &[]), None);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("This month's top three") && text.contains("step 1 (0-2 kWh/h)")
            || text.contains("step 2 (2-5 kWh/h)"),
        "{text}"
    );
}

#[test]
fn the_autumn_day_has_25_hours_and_the_spring_day_23() {
    for (day, start, end, hours) in [
        ("2025-10-26", "2025-10-26T00:00:00+02:00", "2025-10-26T23:59:00+01:00", 25),
        ("2025-03-30", "2025-03-30T00:00:00+01:00", "2025-03-30T23:59:00+02:00", 23),
    ] {
        let t = Tmp::new("maxpower", &format!("dst-{day}"));
        let logs = t.join("log");
        let (lines, regs) = sim(Meter::KaifaNo, start, hours * 3600 + 60);
        file_lines(&logs, OSLO, &lines);
        let j = json_at(&logs, &t, "Europe/Oslo", end, &[]);
        let got = today(&j);
        assert_eq!(got.len(), hours as usize, "{day}: {got:?}");
        // The day's total equals the registers' growth over the day.
        let first = regs.iter().find(|(t, _)| t.with_timezone(&OSLO).date_naive().to_string() == day).unwrap().1;
        let last = regs.iter().rev().find(|(t, _)| t.with_timezone(&OSLO).date_naive().to_string() == day).unwrap().1;
        let complete: f64 = got.iter().take(hours as usize - 1).map(|(_, wh)| wh).sum();
        assert!((complete - (last - first) * 1000.0).abs() < 1e-6, "{day}: {complete} vs {}", (last - first) * 1000.0);
        assert!(j["today"].as_array().unwrap().iter().take(hours as usize - 1).all(|h| h["complete"] == true), "{day}");
    }
}

/// A month by hand: a minute reading, the power of each minute given by `w(day, hour)`.
fn month_by_hand(dir: &std::path::Path, days: u32, w: impl Fn(u32, u32) -> f64) {
    let mut lines = Vec::new();
    let mut kwh = 1000.0;
    for day in 1..=days {
        for hour in 0..24 {
            for min in 0..60 {
                let p = w(day, hour);
                lines.push(reading(&format!("2025-01-{day:02}T{hour:02}:{min:02}:00"), p, kwh));
                kwh += p / 60.0 / 1000.0;
            }
        }
    }
    file_lines(dir, OSLO, &lines);
}

#[test]
fn three_peaks_on_one_day_count_once_and_the_step_and_headroom() {
    let t = Tmp::new("maxpower", "peaks");
    let logs = t.join("log");
    // The 6th: 9, 8.5 and 8 kWh at 16, 17, 18; the 7th: 4 kWh at 17; the 8th: 5 kWh at 17; else 1 kWh.
    month_by_hand(&logs, 9, |day, hour| match (day, hour) {
        (6, 16) => 9000.0,
        (6, 17) => 8500.0,
        (6, 18) => 8000.0,
        (7, 17) => 4000.0,
        (8, 17) => 5000.0,
        _ => 1000.0,
    });
    let j = json_at(&logs, &t, "Europe/Oslo", "2025-01-09T12:30:00+01:00", &[]);
    let n = &j["norway"];
    let top: Vec<(String, f64)> = n["top"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["hour"].as_str().unwrap().to_owned(), p["kwh"].as_f64().unwrap()))
        .collect();
    let kwh: Vec<f64> = top.iter().map(|(_, k)| (k * 1000.0).round() / 1000.0).collect();
    assert_eq!(kwh, [9.0, 5.0, 4.0], "{top:?}");
    assert_eq!(top[0].0, "2025-01-06T16:00:00+01:00");
    assert!((n["average_kwh"].as_f64().unwrap() - 6.0).abs() < 1e-6);
    assert_eq!(
        (n["step"].as_u64(), n["step_from_kwh"].as_f64(), n["step_to_kwh"].as_f64()),
        (Some(3), Some(5.0), Some(10.0))
    );
    // The 9th's 12:00 hour has 0.5 kWh so far: it may reach 3 * 10 - 9 - 5 = 16 kWh, so 15.5 kWh more.
    let room = n["headroom_wh"].as_f64().unwrap();
    assert!((room - 15_500.0).abs() < 1.0, "{room}");
    assert!(j["gaps"].as_array().unwrap().is_empty());
}

#[test]
fn a_gap_is_reported_and_never_counted() {
    let t = Tmp::new("maxpower", "gap");
    let logs = t.join("log");
    let mut lines = Vec::new();
    for min in 0..60 {
        // Nothing from 10:20 to 10:50 (power 1.2 kW, no register growth shown).
        if !(20..50).contains(&min) {
            lines.push(format!(r#"{{"v":1,"meter_time":"2025-01-06T10:{min:02}:00","protocol":"han","power_import_w":1200.0,"obis":{{}}}}"#).into_bytes());
        }
    }
    file_lines(&logs, OSLO, &lines);
    let j = json_at(&logs, &t, "Europe/Oslo", "2025-01-06T10:59:30+01:00", &["--tariff", "none"]);
    let h = &j["today"][0];
    // 19 + 9 minutes at 1.2 kW (10:00-10:19, 10:50-10:59): 560 Wh, and the hour is not complete.
    assert!((h["import_wh"].as_f64().unwrap() - 1200.0 * 28.0 / 60.0).abs() < 1e-6, "{h}");
    assert_eq!((h["complete"].as_bool(), h["source"].as_str()), (Some(false), Some("power")));
    assert_eq!(j["gaps"][0]["from"], "2025-01-06T10:19:00+01:00");
    assert_eq!(j["gaps"][0]["minutes"], 31);
    assert!(j["norway"].is_null(), "--tariff none");
}

#[test]
fn belgium_the_quarter_hour_peak_the_floor_and_the_12_month_mean() {
    let t = Tmp::new("maxpower", "be");
    let logs = t.join("log");
    let (lines, _) = sim(Meter::Fluvius, "2025-03-03T00:00:00+01:00", 20 * 3600);
    file_lines(&logs, han::Tz::Europe__Brussels, &lines);
    let j = json_at(&logs, &t, "Europe/Brussels", "2025-03-03T19:20:00+01:00", &[]);
    assert_eq!(j["tariff"], "be", "Belgian demand values: tariff from the meter's data");
    let b = &j["belgium"];
    assert_eq!(b["peak_from_meter"], true);
    let meter = b["month_peak_w"].as_f64().unwrap();
    let computed = b["computed_peak_w"].as_f64().unwrap();
    // The meter's 1-0:1.6.0 and the peak computed from the readings agree to a few W.
    assert!((meter - computed).abs() < 0.01 * meter, "meter {meter} computed {computed}");
    assert_eq!(b["billed_w"].as_f64().unwrap(), meter.max(2500.0));
    let months = b["months"].as_array().unwrap();
    assert_eq!(months[0]["month"], "2025-03");
    assert!(months.len() > 1, "the meter's history of past months: {months:?}");
    let by_hand = months.iter().map(|m| m["peak_w"].as_f64().unwrap().max(2500.0)).sum::<f64>() / months.len() as f64;
    assert!((b["mean_12_w"].as_f64().unwrap() - by_hand).abs() < 1e-6);
    let q = &b["quarter"];
    assert_eq!(q["start"], "2025-03-03T19:15:00+01:00");
    let room = b["quarter_headroom_wh"].as_f64().unwrap();
    assert!((room - (meter.max(2500.0) / 4.0 - q["so_far_wh"].as_f64().unwrap())).abs() < 1e-6);
    // The month's peak is kept in the state for next year's mean.
    let state: serde_json::Value = serde_json::from_slice(&std::fs::read(t.join("st/maxpower.json")).unwrap()).unwrap();
    assert_eq!(state["months"]["2025-03"]["peak_w"].as_f64(), Some(meter));
}

#[test]
fn the_page_the_stored_limit_and_follow() {
    let t = Tmp::new("maxpower", "page");
    let logs = t.join("log");
    let (lines, _) = sim(Meter::KaifaNo, "2025-01-06T00:00:00+01:00", 18 * 3600);
    file_lines(&logs, OSLO, &lines);
    let (dir, st, www) = (logs.to_str().unwrap(), t.join("st"), t.join("www"));
    let st = st.to_str().unwrap();
    let out = maxpower(&["--state", st, "--set-limit", "2500"], None);
    assert!(out.status.success() && String::from_utf8_lossy(&out.stdout).contains("limit set to 2500 Wh"));
    let base = ["--dir", dir, "--state", st, "--tz", "Europe/Oslo", "--now", "2025-01-06T17:30:00+01:00"];
    let j = json(&base);
    assert_eq!(j["limit_wh"], 2500.0, "the stored limit");
    let mut with_flag = base.to_vec();
    with_flag.extend(["--limit-wh", "4000"]);
    assert_eq!(json(&with_flag)["limit_wh"], 4000.0, "the flag wins for its run");
    let over: Vec<&str> = j["over_limit"].as_array().unwrap().iter().map(|h| h["start"].as_str().unwrap()).collect();
    let by_today: Vec<String> = today(&j)
        .into_iter()
        .filter(|(s, wh)| *wh > 2500.0 && s != "2025-01-06T17:00:00+01:00")
        .map(|(s, _)| s)
        .collect();
    assert_eq!(over, by_today);
    assert!(!over.is_empty(), "the simulated evening goes over 2.5 kWh");

    let mut page = base.to_vec();
    page.extend(["--www", www.to_str().unwrap()]);
    let out = maxpower(&page, None);
    assert!(out.status.success());
    let html = std::fs::read_to_string(www.join("peaks.html")).unwrap();
    let bars = html.matches(r#"<rect class="bar"#).count();
    assert_eq!(bars, 18, "a bar for each hour today");
    assert_eq!(html.matches(r#"class="bar over""#).count(), over.len());
    assert!(html.contains(r#"<line id="limit""#) && html.contains("limit 2.500 kWh"));
    let step = j["norway"]["step"].as_u64().unwrap();
    let current_row = html.split(r#"<tr class="current"><td>"#).nth(1).unwrap();
    assert!(current_row.starts_with(&format!("{step} (this month)")), "{current_row}");
    let top = j["norway"]["top"].as_array().unwrap().len();
    assert_eq!(top, 1, "one day so far");
    assert_eq!(html.matches("<tr><td>").count() + 1, top + 8, "the top rows, eight step rows");
    let data: serde_json::Value = serde_json::from_slice(&std::fs::read(www.join("data/peaks.json")).unwrap()).unwrap();
    assert_eq!(data, j, "data/peaks.json is the summary");

    // --follow: the same month from the stream on stdin.
    let empty = t.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let mut stream = Vec::new();
    for l in &lines {
        stream.extend_from_slice(l);
        stream.push(b'\n');
    }
    let out = maxpower(
        &[
            "--dir",
            empty.to_str().unwrap(),
            "--state",
            st,
            "--tz",
            "Europe/Oslo",
            "--follow",
            "--json",
            "--now",
            "2025-01-06T00:00:00+01:00",
        ],
        Some(&stream),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let last: serde_json::Value =
        serde_json::from_slice(String::from_utf8(out.stdout).unwrap().lines().last().unwrap().as_bytes()).unwrap();
    let from_logs = json(&["--dir", dir, "--state", st, "--tz", "Europe/Oslo", "--now", last["now"].as_str().unwrap()]);
    assert_eq!(today(&last), today(&from_logs), "the stream sums as the logs do");
}

#[test]
fn several_threads_sum_as_one() {
    // Aidon over the autumn change (list 1 has no clock: readings without one at each file's start),
    // Fluvius (registers every second, quarter hours): one thread and four give the same summary.
    for (meter, tz, start, hours, now, zone) in [
        (Meter::AidonNo, OSLO, "2025-10-25T20:00:00+02:00", 36, "2025-10-27T20:00:00+01:00", "Europe/Oslo"),
        (
            Meter::Fluvius,
            han::Tz::Europe__Brussels,
            "2025-03-01T22:00:00+01:00",
            4,
            "2025-03-03T20:00:00+01:00",
            "Europe/Brussels",
        ),
    ] {
        let t = Tmp::new("maxpower", &format!("threads-{zone}").replace('/', "-"));
        let logs = t.join("log");
        // Across midnight: the files of two or three days.
        // Received 1.5 s after sent: a reading without a clock at a file's start must
        // take the clock carried from the day before, not its receive time.
        let (lines, _) = sim_lagged(meter, start, hours * 3600, 1500);
        // Filed by the time received, so a day's file starts with Aidon's clockless readings.
        file_lines_by(&logs, tz, &lines, han_common::days::Clock::Received);
        let run = |threads: &str| json_at(&logs, &t, zone, now, &["--threads", threads]);
        let one = run("1");
        assert!(one["readings"].as_u64().unwrap() > 10_000, "{zone}");
        assert_eq!(one, run("4"), "{zone}");
        assert_eq!(one, run("2"), "{zone}");
    }
}

#[test]
fn a_run_of_days_starts_with_the_clock_carried_from_the_day_before() {
    // One clock at 23:50:00, then 3.6 kW readings without one every 10 s, received
    // 5 s after the meter's time; filed by the time received, so the 16th's file
    // starts with clockless readings. Carried, 00:00-00:30 holds 1800 Wh exactly.
    let t = Tmp::new("maxpower", "carry");
    let logs = t.join("log");
    let mut lines = Vec::new();
    let r0 = at("2025-01-15T22:50:05Z");
    for k in 0..=240 {
        let received = (r0 + chrono::Duration::seconds(10 * k)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let clock = if k == 0 { r#""meter_time":"2025-01-15T23:50:00","#.to_owned() } else { String::new() };
        lines.push(
            format!(r#"{{"v":1,"received":"{received}",{clock}"protocol":"han","power_import_w":3600.0,"obis":{{}}}}"#)
                .into_bytes(),
        );
    }
    file_lines_by(&logs, OSLO, &lines, han_common::days::Clock::Received);
    assert_eq!(std::fs::read_dir(&logs).unwrap().count(), 2);
    for threads in ["1", "2"] {
        let j = json_at(&logs, &t, "Europe/Oslo", "2025-01-16T00:30:00+01:00", &["--threads", threads]);
        let so_far = j["current"]["so_far_wh"].as_f64().unwrap();
        assert!((so_far - 1800.0).abs() < 1e-6, "--threads {threads}: {so_far}");
    }
}

#[test]
fn the_closed_days_sums_are_kept_and_read_again_when_a_day_changes() {
    let t = Tmp::new("maxpower", "cache");
    let logs = t.join("log");
    let (lines, _) = sim(Meter::KaifaNo, "2025-01-05T22:00:00+01:00", 3 * 86400);
    // The last day's file grows later: keep its last lines back.
    let (now_part, later) = lines.split_at(lines.len() - 500);
    file_lines(&logs, OSLO, now_part);
    let st = t.join("st");
    let run = |extra: &[&str]| json(&run_args(None, &logs, &st, "Europe/Oslo", "2025-01-08T23:59:00+01:00", extra));
    let first = run(&[]);
    let kept = st.join("maxpower-days-2024-12-31.json");
    assert!(kept.exists(), "the closed days' sums are kept");
    assert_eq!(run(&[]), first, "taken up again: the same summary");
    assert_eq!(run(&["--no-cache"]), first);
    // Today's file grows: read anew, as always.
    file_lines(&logs, OSLO, later);
    let grown = run(&[]);
    assert_ne!(grown["readings"], first["readings"]);
    assert_eq!(grown, run(&["--no-cache"]));
    // A late reading lands in a closed day: that day's file changed, the month is read again.
    let late = reading("2025-01-06T12:30:30", 9000.0, 1.0);
    file_lines(&logs, OSLO, &[late]);
    let changed = run(&[]);
    assert_eq!(changed, run(&["--no-cache"]));
    assert_eq!(changed["readings"].as_u64(), grown["readings"].as_u64().map(|n| n + 1));
    // A cache that is not one is said and ignored.
    std::fs::write(&kept, "{").unwrap();
    let out = maxpower(&run_args(None, &logs, &st, "Europe/Oslo", "2025-01-08T23:59:00+01:00", &["--json"]), None);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not readable"));
    let again: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(again, changed);
}

/// Sets a file's modification time `secs` seconds back.
fn age(path: &std::path::Path, secs: u64) {
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(secs)).unwrap();
}

#[test]
fn a_torn_last_line_is_reported_and_today_s_only_once_it_stays() {
    let t = Tmp::new("maxpower", "torn");
    let (clean, torn) = (t.join("clean"), t.join("torn"));
    let (lines, _) = sim(Meter::KaifaNo, "2025-01-05T22:00:00+01:00", 3 * 86400);
    file_lines(&clean, OSLO, &lines);
    file_lines(&torn, OSLO, &lines);
    // han-log killed in the middle of a write: half a reading, no newline, at the end
    // of a closed day (the 6th) and of today's file (the 8th).
    let half = &lines[lines.len() / 2][..lines[lines.len() / 2].len() / 2];
    let (closed, today) = (torn.join("2025-01-06.jsonl"), torn.join("2025-01-08.jsonl"));
    for day in [&closed, &today] {
        std::fs::OpenOptions::new().append(true).open(day).unwrap().write_all(half).unwrap();
    }
    age(&closed, 120);
    let run = |dir: &std::path::Path, state: &str, extra: &[&str]| {
        let state = t.join(state);
        let args =
            run_args(None, dir, &state, "Europe/Oslo", "2025-01-08T23:59:00+01:00", &[&["--json"], extra].concat());
        let out = maxpower(&args, None);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (j, String::from_utf8(out.stderr).unwrap())
    };
    let (want, quiet) = run(&clean, "st-clean", &[]);
    assert_eq!(want["torn_last_lines"], serde_json::json!([]));
    assert!(!quiet.contains("torn"), "{quiet}");
    // The closed day's torn line is said; today's, written a moment ago, may be a write
    // going on right now: not yet.
    let (got, stderr) = run(&torn, "st", &[]);
    assert_eq!(got["torn_last_lines"], serde_json::json!(["2025-01-06.jsonl"]), "{stderr}");
    assert!(
        stderr.contains(
            "maxpower: 1 torn last line skipped (no newline at the end, the file unchanged for 60 s: a write cut short): 2025-01-06.jsonl\n"
        ),
        "{stderr}"
    );
    // Skipped and nothing else: the same readings, hours and not-readings as without it.
    let mut same = got.clone();
    same["torn_last_lines"] = serde_json::json!([]);
    assert_eq!(same, want);
    // The closed days' kept sums still name it.
    assert!(t.join("st/maxpower-days-2024-12-31.json").exists());
    assert_eq!(run(&torn, "st", &[]).0, got);
    // Today's file left unfinished for two minutes: torn too.
    age(&today, 120);
    let both = serde_json::json!(["2025-01-06.jsonl", "2025-01-08.jsonl"]);
    for extra in [&[][..], &["--no-cache", "--threads", "3"]] {
        let (got, stderr) = run(&torn, "st", extra);
        assert_eq!(got["torn_last_lines"], both, "{extra:?}: {stderr}");
        assert!(
            stderr.contains("2 torn last lines skipped") && stderr.contains(": 2025-01-06.jsonl, 2025-01-08.jsonl\n"),
            "{stderr}"
        );
        let mut same = got.clone();
        same["torn_last_lines"] = serde_json::json!([]);
        assert_eq!(same, want, "{extra:?}");
    }
}

#[test]
fn steps_and_tariff_from_the_config_file() {
    let t = Tmp::new("maxpower", "steps");
    let logs = t.join("log");
    // A minute reading at 1 kW; 4 kWh at 17:00 on the 6th; the 7th at 12:30 now.
    month_by_hand(&logs, 7, |day, hour| if (day, hour) == (6, 17) { 4000.0 } else { 1000.0 });
    let config = t.join("config.toml");
    std::fs::write(&config, "[maxpower]\ntariff = \"no\"\nsteps = [1.5, 3, 6]\n").unwrap();
    let st = t.join("st");
    let args = run_args(Some(&config), &logs, &st, "Europe/Oslo", "2025-01-07T12:30:00+01:00", &[]);
    let j = json(&args);
    let n = &j["norway"];
    assert_eq!(j["tariff_from"], "flag or config");
    // Top three: 4 (the 6th), then 1 and 1: average 2 kWh/h, in the second step (1.5-3).
    assert!((n["average_kwh"].as_f64().unwrap() - 2.0).abs() < 1e-6, "{n}");
    assert_eq!(
        (n["step"].as_u64(), n["step_from_kwh"].as_f64(), n["step_to_kwh"].as_f64()),
        (Some(2), Some(1.5), Some(3.0))
    );
    // The 7th's 12:00 hour (0.5 kWh so far) may reach 3 * 3 - 4 - 1 = 4 kWh: 3.5 kWh more.
    assert!((n["headroom_wh"].as_f64().unwrap() - 3500.0).abs() < 1.0, "{n}");
    // Steps that do not rise are a usage error.
    std::fs::write(&config, "[maxpower]\nsteps = [2, 2, 5]\n").unwrap();
    let out = maxpower(&args, None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("rising"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn belgium_without_the_meter_peak_computes_it_and_counts_at_least_2_5_kw() {
    let t = Tmp::new("maxpower", "be-computed");
    let logs = t.join("log");
    // A Belgian meter that sends its running quarter (1-0:1.4.0) but no month peak:
    // 1.2 kW all along, 2 kW from 10:15 to 10:30, on the 3rd of March.
    let mut lines = Vec::new();
    let mut kwh = 100.0;
    for min in 0..(14 * 60) {
        let (h, m) = (min / 60, min % 60);
        let w = if h == 10 && (15..30).contains(&m) { 2000.0 } else { 1200.0 };
        lines.push(format!(r#"{{"v":1,"meter_time":"2025-03-03T{h:02}:{m:02}:00+01:00","protocol":"p1","power_import_w":{w:.1},"energy_import_kwh":{kwh:.4},"demand_quarter_w":{w:.1},"obis":{{}}}}"#).into_bytes());
        kwh += w / 60_000.0;
    }
    file_lines(&logs, han::Tz::Europe__Brussels, &lines);
    let j = json_at(&logs, &t, "Europe/Brussels", "2025-03-03T13:59:30+01:00", &[]);
    assert_eq!(j["tariff"], "be", "the running quarter's demand says Belgium");
    let b = &j["belgium"];
    assert_eq!(b["peak_from_meter"], false);
    assert!((b["month_peak_w"].as_f64().unwrap() - 2000.0).abs() < 1.0, "{b}");
    assert_eq!(b["month_peak_time"], "2025-03-03T10:15:00+01:00");
    assert_eq!(b["billed_w"], 2500.0, "a 2 kW peak is billed at 2.5 kW");
    assert_eq!(b["mean_12_w"], 2500.0);
}

#[test]
fn follow_says_what_is_not_a_reading_and_goes_on() {
    let t = Tmp::new("maxpower", "follow-bad");
    let empty = t.join("log");
    std::fs::create_dir_all(&empty).unwrap();
    let (lines, _) = sim(Meter::KaifaNo, "2025-01-06T10:00:00+01:00", 1800);
    let (mut clean, mut dirty) = (Vec::new(), Vec::new());
    for (i, l) in lines.iter().enumerate() {
        for s in [&mut clean, &mut dirty] {
            s.extend_from_slice(l);
            s.push(b'\n');
        }
        if i % 100 == 50 {
            dirty.extend_from_slice(b"{\"v\":1,\"protocol\":\"han\",\"obis\n");
            dirty.extend_from_slice(b"garbage from a wrong pipe\n");
        }
    }
    let st = t.join("st");
    let args = run_args(None, &empty, &st, "Europe/Oslo", "2025-01-06T10:00:00+01:00", &["--follow", "--json"]);
    let last = |out: &std::process::Output| -> serde_json::Value {
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().last().unwrap()).unwrap()
    };
    let good = maxpower(&args, Some(&clean));
    let bad = maxpower(&args, Some(&dirty));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("stdin: not a reading, skipped"), "{stderr}");
    assert!(stderr.matches("not a reading, skipped").count() <= 5, "at most 5 a minute: {stderr}");
    let (g, b) = (last(&good), last(&bad));
    assert_eq!(today(&g), today(&b), "every good reading counted");
    assert_eq!(
        b["not_readings"].as_u64().unwrap(),
        g["not_readings"].as_u64().unwrap() + 2 * (0..lines.len()).filter(|i| i % 100 == 50).count() as u64
    );
}
