//! `relay schedule` against price files as spotprices writes them: 96, 24,
//! 92 and 100 slots, a window across midnight, plans kept, the fallback,
//! and the safe state without prices.

mod common;

use chrono::Timelike;
use common::*;
use serde_json::Value;

fn schedule(c: &std::path::Path, now: &str, extra: &[&str]) -> std::process::Output {
    let args = [&["--now", now, "schedule", "1", "--cheapest", "4h", "--window", "22:00-07:00"][..], extra].concat();
    relay(c, &args, None)
}

fn relay_on(tmp: &Tmp) -> Option<bool> {
    let t = std::fs::read_to_string(tmp.join("state/relay.json")).ok()?;
    serde_json::from_str::<Value>(&t).ok()?["relays"]["1"]["on"].as_bool()
}

fn plan(tmp: &Tmp) -> Value {
    let t = std::fs::read_to_string(tmp.join("state/relay.json")).expect("state");
    serde_json::from_str::<Value>(&t).expect("JSON")["plans"]["1"].clone()
}

#[test]
fn the_cheapest_quarters_across_midnight_and_the_plan_is_kept() {
    let tmp = Tmp::new("relay", "quarters");
    let prices = tmp.join("prices");
    let c = config(&tmp, "");
    assert_eq!(day(&prices, "2026-01-10", 15, night), 96);
    assert_eq!(day(&prices, "2026-01-11", 15, night), 96);
    let p = ["--prices", prices.to_str().expect("path")];
    for (now, on) in [
        ("2026-01-10T22:05:00+01:00", false),
        ("2026-01-11T02:10:00+01:00", true),
        ("2026-01-11T04:10:00+01:00", false),
        ("2026-01-11T05:30:00+01:00", true),
        ("2026-01-11T06:59:00+01:00", true),
    ] {
        let out = schedule(&c, now, &p);
        assert!(out.status.success(), "{now}: {}", text(&out.stderr));
        assert_eq!(relay_on(&tmp), Some(on), "{now}: {}", text(&out.stdout));
        if now.contains("T22:05") {
            // Prices change after the plan was made: the plan stands.
            day(&prices, "2026-01-11", 15, |t| if t.hour() == 23 { 1.0 } else { 100.0 });
        }
    }
    let pl = plan(&tmp);
    assert_eq!(pl["from"], "prices");
    assert_eq!(pl["window_start"], "2026-01-10T21:00:00Z");
    assert_eq!(pl["window_end"], "2026-01-11T06:00:00Z");
    assert_eq!(pl["on"].as_array().map(Vec::len), Some(16), "4 h of quarters");
    // Each switch once, by the schedule.
    let ev = events(&tmp);
    let seq: Vec<(bool, String)> = ev
        .iter()
        .map(|e| (e["on"].as_bool().unwrap_or_default(), e["by"].as_str().unwrap_or_default().into()))
        .collect();
    assert_eq!(
        seq,
        [(false, "schedule".into()), (true, "schedule".into()), (false, "schedule".into()), (true, "schedule".into())]
    );
}

#[test]
fn hourly_files_and_both_dst_days() {
    // 24 hourly slots: the four cheapest hours.
    let tmp = Tmp::new("relay", "hours");
    let prices = tmp.join("prices");
    let c = config(&tmp, "");
    assert_eq!(day(&prices, "2026-01-10", 60, night), 24);
    assert_eq!(day(&prices, "2026-01-11", 60, night), 24);
    let p = ["--prices", prices.to_str().expect("path")];
    let out = schedule(&c, "2026-01-10T23:00:00+01:00", &p);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let on: Vec<Value> = plan(&tmp)["on"].as_array().cloned().unwrap_or_default();
    assert_eq!(on.len(), 4);
    // Spring: 92 quarters; the window 22:00-07:00 is 8 hours that night.
    let tmp = Tmp::new("relay", "spring");
    let prices = tmp.join("prices");
    let c = config(&tmp, "");
    assert_eq!(day(&prices, "2026-03-28", 15, night), 96);
    assert_eq!(day(&prices, "2026-03-29", 15, night), 92);
    let out = schedule(&c, "2026-03-28T22:30:00+01:00", &["--prices", prices.to_str().expect("path")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let pl = plan(&tmp);
    assert_eq!(pl["window_end"], "2026-03-29T05:00:00Z", "07:00 summer time");
    assert_eq!(pl["on"].as_array().map(Vec::len), Some(16));
    // Autumn: 100 quarters; the repeated 02:00 hour counts twice.
    let tmp = Tmp::new("relay", "autumn");
    let prices = tmp.join("prices");
    let c = config(&tmp, "");
    assert_eq!(day(&prices, "2026-10-24", 15, night), 96);
    assert_eq!(day(&prices, "2026-10-25", 15, |t| if t.hour() == 2 { 5.0 } else { 100.0 }), 100);
    let out = schedule(&c, "2026-10-25T02:30:00+02:00", &["--prices", prices.to_str().expect("path")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let starts: Vec<String> = plan(&tmp)["on"]
        .as_array()
        .expect("on")
        .iter()
        .map(|s| s[0].as_str().unwrap_or_default().to_string())
        .collect();
    // Both 02:00 hours (00:00Z and 01:00Z), then the cheapest others.
    assert!(
        starts.contains(&"2026-10-25T00:00:00Z".to_string()) && starts.contains(&"2026-10-25T01:45:00Z".to_string()),
        "{starts:?}"
    );
    assert_eq!(relay_on(&tmp), Some(true), "02:30 summer time is in the first 02:00 hour");
    let out = schedule(&c, "2026-10-25T02:30:00+01:00", &["--prices", prices.to_str().expect("path")]);
    assert!(out.status.success());
    assert_eq!(relay_on(&tmp), Some(true), "and 02:30 winter time in the second");
}

#[test]
fn the_fallback_before_the_prices_and_the_safe_state_without_either() {
    let tmp = Tmp::new("relay", "fallback");
    let prices = tmp.join("prices");
    let c = config(&tmp, "");
    day(&prices, "2026-01-10", 15, night);
    let p = ["--prices", prices.to_str().expect("path")];
    let fb = [&p[..], &["--fallback", "01:00-05:00"]].concat();
    // Noon: tonight's window needs tomorrow's prices, not out yet.
    let out = schedule(&c, "2026-01-10T12:00:00+01:00", &fb);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(plan(&tmp)["from"], "fallback");
    assert_eq!(relay_on(&tmp), Some(false));
    // The prices come before the window begins: a plan from them replaces it.
    day(&prices, "2026-01-11", 15, night);
    let out = schedule(&c, "2026-01-10T21:00:00+01:00", &fb);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(plan(&tmp)["from"], "prices");
    // Once a fallback window has begun it is kept, prices or not.
    let tmp2 = Tmp::new("relay", "fallback-kept");
    let prices2 = tmp2.join("prices");
    let c2 = config(&tmp2, "");
    day(&prices2, "2026-01-10", 15, night);
    let p2 = ["--prices", prices2.to_str().expect("path"), "--fallback", "01:00-05:00"];
    assert!(schedule(&c2, "2026-01-10T22:30:00+01:00", &p2).status.success());
    day(&prices2, "2026-01-11", 15, night);
    assert!(schedule(&c2, "2026-01-11T01:30:00+01:00", &p2).status.success());
    assert_eq!(plan(&tmp2)["from"], "fallback");
    assert_eq!(relay_on(&tmp2), Some(true), "01:30 is in the fallback hours");
    // No prices and no fallback: relay 2 goes to its safe state (on), exit 3.
    let tmp3 = Tmp::new("relay", "safe");
    let c3 = config(&tmp3, "");
    let out = relay(
        &c3,
        &[
            "--now",
            "2026-01-10T23:00:00+01:00",
            "schedule",
            "2",
            "--cheapest",
            "2h",
            "--window",
            "22:00-07:00",
            "--prices",
            tmp3.join("none").to_str().expect("path"),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("no prices for the window 22:00-07:00 yet and no --fallback: the safe state"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(pins(&tmp3)["27"], true);
}

#[test]
fn a_hold_by_hand_beats_the_schedule() {
    let tmp = Tmp::new("relay", "schedhold");
    let prices = tmp.join("prices");
    let c = config(&tmp, "");
    day(&prices, "2026-01-10", 15, night);
    day(&prices, "2026-01-11", 15, night);
    assert!(relay(&c, &["--now", "2026-01-10T22:00:00+01:00", "1", "on", "--for", "2h"], None).status.success());
    let p = ["--prices", prices.to_str().expect("path")];
    let out = schedule(&c, "2026-01-10T22:15:00+01:00", &p);
    assert!(out.status.success());
    assert!(
        text(&out.stdout).contains("the schedule wants it off; held by a command until 00:00"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(relay_on(&tmp), Some(true));
    let out = schedule(&c, "2026-01-11T00:15:00+01:00", &p);
    assert!(out.status.success());
    assert_eq!(relay_on(&tmp), Some(false), "the hold is over");
}

/// The starts of the plan's slots, local "HH:MM".
fn plan_starts(tmp: &Tmp) -> Vec<String> {
    plan(tmp)["on"]
        .as_array()
        .expect("on")
        .iter()
        .map(|s| {
            at(s[0].as_str().unwrap_or_default()).with_timezone(&chrono_tz::Europe::Oslo).format("%H:%M").to_string()
        })
        .collect()
}

/// Quarters from `from` (local) for `hours`.
fn quarters(from: u32, hours: u32) -> Vec<String> {
    (0..hours * 4).map(|q| format!("{:02}:{:02}", (from + q / 4) % 24, (q % 4) * 15)).collect()
}

/// The night by the hour: the cheapest single hours (00, 06, 03) are apart;
/// the cheapest three hours in a row are 02:00-05:00 (30 + 20 + 25 = 75,
/// against 22-01: 100, 23-02: 110, 00-03: 100, 01-04: 110, 03-06: 115,
/// 04-07: 110; a block starting on a quarter between costs more, as
/// 01:45-04:45: 15 + 30 + 20 + 18.75 = 83.75).
fn by_hour(t: chrono::NaiveTime) -> f64 {
    match t.hour() {
        22 => 50.0,
        23 => 40.0,
        0 => 10.0,
        1 => 60.0,
        2 => 30.0,
        3 => 20.0,
        4 => 25.0,
        5 => 70.0,
        6 => 15.0,
        _ => 100.0,
    }
}

#[test]
fn contiguous_picks_the_cheapest_block_in_a_row() {
    let tmp = Tmp::new("relay", "contiguous");
    let prices = tmp.join("prices");
    let c = config(&tmp, "");
    day(&prices, "2026-01-10", 15, by_hour);
    day(&prices, "2026-01-11", 15, by_hour);
    let p = prices.to_str().expect("path");
    let run = |now: &str, extra: &[&str]| {
        let args =
            [&["--now", now, "schedule", "1", "--cheapest", "3h", "--window", "22:00-07:00", "--prices", p][..], extra]
                .concat();
        let out = relay(&c, &args, None);
        assert!(out.status.success(), "{now}: {}", text(&out.stderr));
        out
    };
    // Without --contiguous: the three cheapest hours, apart.
    run("2026-01-10T22:05:00+01:00", &[]);
    assert_eq!(plan_starts(&tmp), [quarters(0, 1), quarters(3, 1), quarters(6, 1)].concat());
    // With it, in another state folder: one block, 02:00-05:00.
    let tmp = Tmp::new("relay", "contiguous-block");
    let c = config(&tmp, "");
    let run = |now: &str| {
        let out = relay(
            &c,
            &[
                "--now",
                now,
                "schedule",
                "1",
                "--cheapest",
                "3h",
                "--contiguous",
                "--window",
                "22:00-07:00",
                "--prices",
                p,
            ],
            None,
        );
        assert!(out.status.success(), "{now}: {}", text(&out.stderr));
    };
    run("2026-01-10T22:05:00+01:00");
    assert_eq!(plan_starts(&tmp), quarters(2, 3));
    assert_eq!(plan(&tmp)["label"], "cheapest 3h in one block 22:00-07:00");
    for (now, on) in [
        ("2026-01-11T00:10:00+01:00", false),
        ("2026-01-11T02:00:00+01:00", true),
        ("2026-01-11T04:50:00+01:00", true),
        ("2026-01-11T05:00:00+01:00", false),
    ] {
        run(now);
        assert_eq!(relay_on(&tmp), Some(on), "{now}");
    }
    let out = relay(&c, &["--now", "2026-01-11T02:00:00+01:00", "status", "--json"], None);
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["relays"][0]["decided"], "off by schedule (cheapest 3h in one block 22:00-07:00)");
}

/// Cheap single quarters at 23:00, 00:30, 02:00 and 03:30 (5 each), the
/// hour 05:00-06:00 at 8, the rest at 50.
fn scattered(t: chrono::NaiveTime) -> f64 {
    match (t.hour(), t.minute()) {
        (23, 0) | (0, 30) | (2, 0) | (3, 30) => 5.0,
        (5, _) => 8.0,
        _ => 50.0,
    }
}

#[test]
fn the_relays_minimum_times_shape_the_plan_and_hold_its_switches() {
    let tmp = Tmp::new("relay", "minimums");
    let prices = tmp.join("prices");
    let c = config(&tmp, "");
    let text_of = std::fs::read_to_string(&c).expect("config");
    std::fs::write(
        &c,
        text_of.replacen("active_low = true\n", "active_low = true\nmin_on = \"1h\"\nmin_off = \"1h\"\n", 1),
    )
    .expect("config");
    day(&prices, "2026-01-10", 15, scattered);
    day(&prices, "2026-01-11", 15, scattered);
    let p = prices.to_str().expect("path");
    let schedule = |now: &str| {
        let args = ["--now", now, "schedule", "1", "--cheapest", "1h", "--window", "22:00-07:00", "--prices", p];
        let out = relay(&c, &args, None);
        assert!(out.status.success(), "{now}: {}", text(&out.stderr));
        text(&out.stdout)
    };
    let hand = |now: &str, what: &str| {
        let out = relay(&c, &["--now", now, "1", what, "--for", "0"], None);
        assert!(out.status.success(), "{}", text(&out.stderr));
    };
    // On by hand at 21:50, no hold. The plan: the four cheap quarters
    // (4 x 5) would be four 15-minute runs; each block must last an hour, and
    // any hour around a cheap quarter costs 5 + 3 x 50 = 155, an hour around
    // two of them cannot be had (they are 1h30 apart), so 05:00-06:00
    // (4 x 8 = 32) it is.
    hand("2026-01-10T21:50:00+01:00", "on");
    let said = schedule("2026-01-10T22:00:00+01:00");
    assert_eq!(plan_starts(&tmp), quarters(5, 1));
    // The plan wants off, but the heater has been on 10 minutes of its hour.
    assert!(said.contains("the schedule wants it off; waits: on for its min_on, until 22:50"), "{said}");
    assert_eq!(relay_on(&tmp), Some(true));
    schedule("2026-01-10T22:50:00+01:00");
    assert_eq!(relay_on(&tmp), Some(false));
    // Off by hand (after on by hand) at 04:50: the plan's 05:00 waits for
    // min_off, then runs to 06:00 and holds on for min_on.
    hand("2026-01-11T04:40:00+01:00", "on");
    hand("2026-01-11T04:50:00+01:00", "off");
    let said = schedule("2026-01-11T05:00:00+01:00");
    assert!(said.contains("the schedule wants it on; waits: off for its min_off, until 05:50"), "{said}");
    assert_eq!(relay_on(&tmp), Some(false));
    schedule("2026-01-11T05:50:00+01:00");
    assert_eq!(relay_on(&tmp), Some(true));
    let said = schedule("2026-01-11T06:00:00+01:00");
    assert!(said.contains("waits: on for its min_on, until 06:50"), "{said}");
    assert_eq!(relay_on(&tmp), Some(true));
    schedule("2026-01-11T06:50:00+01:00");
    assert_eq!(relay_on(&tmp), Some(false));
    // Every switch by the schedule came at least an hour after the change
    // before it.
    let ev = events(&tmp);
    let sched: Vec<usize> = (1..ev.len()).filter(|i| ev[*i]["by"] == "schedule").collect();
    assert_eq!(sched.len(), 3, "{ev:?}");
    for i in sched {
        assert!(time(&ev[i]) - time(&ev[i - 1]) >= chrono::Duration::hours(1), "{ev:?}");
    }
}
