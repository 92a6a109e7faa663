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
