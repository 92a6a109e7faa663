//! The meter reading on the live page: Norwegian meters send their energy
//! registers once an hour (list 3), so `data/current.json` carries the
//! registers of the last reading that had them (`last_registers`, with that
//! reading's times) while the lines after it replace the rest; a restart
//! finds them in today's log, or yesterday's; another meter's reading drops
//! them. The lines are a simulated Kaifa's (han-sim | han-read).

mod common;

use std::path::Path;

use chrono::{DateTime, DurationRound, NaiveTime, TimeDelta, TimeZone, Utc};
use common::{kaifa_lines, run, stderr};
use han_common::tz::Tz;
use han_testkit::Tmp;
use serde_json::{Map, Value};

const OSLO: Tz = Tz::Europe__Oslo;

/// `hh:00:10` of the current hour: a list 3 of today (Oslo is a whole
/// number of hours from UTC, so the UTC hour starts with the local one).
fn this_hour() -> String {
    let hour = Utc::now().duration_trunc(TimeDelta::hours(1)).unwrap();
    (hour + TimeDelta::seconds(10)).to_rfc3339()
}

fn json(line: &str) -> Map<String, Value> {
    match serde_json::from_str(line) {
        Ok(Value::Object(o)) => o,
        other => panic!("not a JSON object: {other:?}: {line}"),
    }
}

fn is_register(name: &str) -> bool {
    name.starts_with("energy_") || name.starts_with("reactive_energy_")
}

/// What `last_registers` must be for a stream line: its registers, meter id and times.
fn registers_of(line: &str) -> Map<String, Value> {
    json(line)
        .into_iter()
        .filter(|(k, _)| is_register(k) || ["meter_id", "meter_time", "received"].contains(&k.as_str()))
        .collect()
}

/// Runs han-log on `input` lines into `t`'s log and www folders.
fn log(t: &Tmp, input: &[&String]) {
    let input: String = input.iter().map(|l| format!("{l}\n")).collect();
    let (dir, www) = (t.join("log"), t.join("www"));
    let args = ["--dir", dir.to_str().unwrap(), "--www", www.to_str().unwrap(), "--tz", "Europe/Oslo"];
    let out = run(&args, &input);
    assert!(out.status.success(), "{}", stderr(&out));
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// current.json is `line` exactly, with `last_registers` as its last
/// member; returns them.
fn current_is(www: &Path, line: &str) -> Option<Map<String, Value>> {
    let text = read(&www.join("data/current.json"));
    let mut got = json(&text);
    let kept = got.remove("last_registers");
    assert_eq!(got, json(line), "current.json is the latest reading");
    match &kept {
        Some(_) => {
            let head = line.trim_end().strip_suffix('}').unwrap();
            assert!(text.starts_with(&format!("{head},\"last_registers\":{{")), "the line as received: {text}");
        }
        None => assert_eq!(text, format!("{line}\n"), "exactly as received"),
    }
    kept.map(|v| v.as_object().cloned().expect("last_registers is an object"))
}

#[test]
fn the_hourly_registers_stay_in_current_json_with_their_time() {
    let t = Tmp::new("han-log-it", "registers");
    let lines = kaifa_lines(&this_hour(), 6);
    let (list3, list1, list2) = (&lines[0], &lines[1], &lines[5]);
    let regs = registers_of(list3);
    assert!(regs.contains_key("energy_import_kwh") && regs.contains_key("energy_export_kwh"), "list 3: {list3}");
    let time = regs["meter_time"].as_str().unwrap();
    assert!(time.contains(":00:00+0"), "list 3's clock is its hour: {time}");
    assert!(json(list2).contains_key("voltage_l1_v") && !json(list2).keys().any(|k| is_register(k)), "{list2}");

    // List 3, then list 2: the registers and their time stay.
    log(&t, &[list3, list2]);
    let www = t.join("www");
    assert_eq!(current_is(&www, list2).as_ref(), Some(&regs), "list 3's registers, meter id and times");
    assert_eq!(read(&www.join("data/last-full.json")), format!("{list2}\n"), "last-full.json as received");

    // A restart: today's log holds them.
    log(&t, &[list1]);
    assert_eq!(current_is(&www, list1).as_ref(), Some(&regs), "after a restart");

    // Another meter's reading: they were not its registers.
    let id = json(list2)["meter_id"].as_str().unwrap().to_owned();
    let other = list2.replace(&id, "6970631400000009");
    log(&t, &[&other]);
    assert_eq!(current_is(&www, &other), None, "another meter's reading carries none");
}

#[test]
fn after_midnight_a_restart_finds_them_in_yesterdays_log() {
    let t = Tmp::new("han-log-it", "registers-yesterday");
    let today = Utc::now().with_timezone(&OSLO).date_naive();
    let noon = NaiveTime::from_hms_opt(12, 0, 10).unwrap();
    let yesterday: DateTime<Utc> =
        OSLO.from_local_datetime(&today.pred_opt().unwrap().and_time(noon)).single().unwrap().to_utc();
    let old = kaifa_lines(&yesterday.to_rfc3339(), 1);
    let now = kaifa_lines(&this_hour(), 2);
    log(&t, &[&old[0]]);
    let file = t.join(&format!("log/{}.jsonl", today.pred_opt().unwrap()));
    assert_eq!(read(&file), format!("{}\n", old[0]), "yesterday's list 3 in yesterday's log");

    // Today's log has no registers yet (a list 1 alone): yesterday's are the last.
    log(&t, &[&now[1]]);
    let regs = current_is(&t.join("www"), &now[1]).expect("yesterday's registers");
    assert_eq!(regs, registers_of(&old[0]));
    assert!(regs["meter_time"].as_str().unwrap().starts_with(&today.pred_opt().unwrap().to_string()), "{regs:?}");
}
