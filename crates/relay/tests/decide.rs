//! Who decides a relay wanted by several sources (docs/relay.md, "Who
//! decides"): the schedule from real price files, the rules on han-sim
//! streams through the decoder into `relay watch`, commands by hand, all on
//! the sim backend and one state folder, and `relay status` naming who
//! decided.

mod common;

use common::*;
use han_simulator::Meter;
use serde_json::Value;

const PLAN: &str = "cheapest 4h 22:00-07:00";

/// The water heater (relay 1) on the cheapest 4 h of the night, with its
/// price files (cheap 02:00-04:00 and 05:00-07:00).
fn heater(name: &str) -> (Tmp, std::path::PathBuf, String) {
    let tmp = Tmp::new("relay", name);
    let prices = tmp.join("prices");
    day(&prices, "2026-01-10", 15, night);
    day(&prices, "2026-01-11", 15, night);
    day(&prices, "2026-01-12", 15, night);
    let c = config(&tmp, "");
    let p = prices.display().to_string();
    (tmp, c, p)
}

fn schedule(c: &std::path::Path, prices: &str, now: &str) -> std::process::Output {
    let out = relay(
        c,
        &["--now", now, "schedule", "1", "--cheapest", "4h", "--window", "22:00-07:00", "--prices", prices],
        None,
    );
    assert!(out.status.success(), "{now}: {}", text(&out.stderr));
    out
}

fn status(c: &std::path::Path, now: &str) -> Value {
    let out = relay(c, &["--now", now, "status", "--json"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice::<Value>(&out.stdout).expect("JSON")["relays"][0].clone()
}

/// Each event as (on, by, rule).
fn seq(tmp: &Tmp) -> Vec<(bool, String, String)> {
    events(tmp)
        .iter()
        .map(|e| {
            (
                e["on"].as_bool().unwrap_or_default(),
                e["by"].as_str().unwrap_or_default().to_string(),
                e["rule"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn ev(on: bool, by: &str, rule: &str) -> (bool, String, String) {
    (on, by.to_string(), rule.to_string())
}

fn sources(v: &Value) -> Vec<(String, bool)> {
    v["wishes"]
        .as_array()
        .expect("wishes")
        .iter()
        .map(|w| (w["source"].as_str().unwrap_or_default().to_string(), w["on"].as_bool().unwrap_or_default()))
        .collect()
}

const CAPACITY: &str = "[[rule]]\nrelay = 1\nkind = \"capacity\"\nlimit_wh = 2000\nresume_wh = 1500\n";

#[test]
fn the_capacity_rule_beats_the_plan_and_gives_it_back() {
    let (tmp, c, prices) = heater("capacity-plan");
    // 02:00 local: in the plan's first slot.
    schedule(&c, &prices, "2026-01-11T02:00:00+01:00");
    assert_eq!(seq(&tmp), [ev(true, "schedule", "")]);
    // 3 kW from 02:00 heads for 3000 Wh in the hour, over 2000: off at
    // once. At 02:20, 1000 Wh used and 500 W for 40 minutes is 1333 Wh,
    // under 1500: the rule gives the relay back, and the plan has it on.
    let lines = stream(Meter::Dsmr5, "2026-01-11T01:00:00Z", 25 * 60, &[vec![3000; 20], vec![500; 10]].concat());
    let cut = lines.iter().position(|(t, _)| *t >= at("2026-01-11T01:05:00Z")).expect("5 minutes");
    let r = rules(&tmp, CAPACITY);
    let out = relay(&c, &["watch", "--rules", &r], Some(&joined(&lines[..cut])));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(seq(&tmp), [ev(true, "schedule", ""), ev(false, "rule", "capacity")]);
    assert!(after(at("2026-01-11T01:00:00Z"), &events(&tmp)[1]) <= 1, "{:?}", events(&tmp));
    assert_eq!(pins(&tmp)["17"], true, "active-low relay 1 off: a high pin");
    assert!(
        text(&out.stderr).contains("relay 1 (water heater): off by capacity rule: this hour heads for "),
        "{}",
        text(&out.stderr)
    );

    // The schedule runs meanwhile: the plan wants on, the capacity rule
    // decides, whichever ran last.
    let out = schedule(&c, &prices, "2026-01-11T02:05:30+01:00");
    assert!(
        text(&out.stdout).contains("relay 1: the schedule wants it on; off by capacity rule"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(seq(&tmp).len(), 2, "nothing switched");
    let st = status(&c, "2026-01-11T02:05:30+01:00");
    assert_eq!(st["decided"], "off by capacity rule");
    assert_eq!(st["by"], "rule");
    assert_eq!(st["rule"], "capacity");
    assert_eq!(sources(&st), [("capacity".to_string(), false), ("schedule".to_string(), true)]);
    let table = text(&relay(&c, &["--now", "2026-01-11T02:05:30+01:00", "status"], None).stdout);
    assert!(
        table.contains("off by capacity rule; wishes: capacity rule off, schedule (cheapest 4h 22:00-07:00) on"),
        "{table}"
    );

    // The rest of the stream: given back at 02:20, the plan decides.
    let out = relay(&c, &["watch", "--rules", &r], Some(&joined(&lines[cut..])));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let e = events(&tmp);
    assert_eq!(seq(&tmp), [ev(true, "schedule", ""), ev(false, "rule", "capacity"), ev(true, "schedule", "")]);
    assert!((1200..=1202).contains(&after(at("2026-01-11T01:00:00Z"), &e[2])), "{e:?}");
    let st = status(&c, "2026-01-11T02:25:00+01:00");
    assert_eq!(st["decided"], format!("on by schedule ({PLAN})"));
    assert_eq!(sources(&st), [("schedule".to_string(), true), ("capacity".to_string(), true)]);
}

const SURPLUS: &str = "[[rule]]\nrelay = 1\nkind = \"surplus\"\non_export_w = 1500\non_for = \"60s\"\noff_import_w = 300\noff_for = \"30s\"\n";

#[test]
fn a_hold_by_hand_beats_the_plan_and_the_rules() {
    let (tmp, c, prices) = heater("hand");
    schedule(&c, &prices, "2026-01-11T02:00:00+01:00");
    let out = relay(&c, &["--now", "2026-01-11T02:01:00+01:00", "1", "off", "--for", "1h"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Export for 5 minutes from 02:01, over 3 kW import: both rules want
    // something else, and wait.
    let lines = stream(Meter::Dsmr5, "2026-01-11T01:01:00Z", 5 * 60, &[-2000]);
    let r = rules(&tmp, &format!("{SURPLUS}\n{CAPACITY}"));
    let out = relay(&c, &["watch", "--rules", &r], Some(&joined(&lines)));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stderr);
    assert_eq!(said.matches("the surplus rule wants it on").count(), 1, "said once: {said}");
    assert!(said.contains("waits: held by a command until 03:01:00"), "{said}");
    let out = schedule(&c, &prices, "2026-01-11T02:30:00+01:00");
    assert!(
        text(&out.stdout).contains("the schedule wants it on; held by a command until 03:01"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(seq(&tmp), [ev(true, "schedule", ""), ev(false, "command", "")]);
    let st = status(&c, "2026-01-11T02:05:00+01:00");
    assert_eq!(st["decided"], "off by hand until 03:01");
    assert_eq!(st["wishes"][0]["source"], "manual");
    assert_eq!(st["wishes"][0]["until"], "2026-01-11T02:01:00Z");
    assert_eq!(st["wishes"][1]["source"], "schedule");
    assert_eq!(st["wishes"][2]["source"], "surplus", "the watch's lease still runs at 02:05");
    let table = text(&relay(&c, &["--now", "2026-01-11T02:05:00+01:00", "status"], None).stdout);
    assert!(table.contains("off by hand until 03:01; wishes: hand until 03:01 off, schedule"), "{table}");
    // The hold is over: the plan decides (the watch stopped long ago).
    schedule(&c, &prices, "2026-01-11T03:05:00+01:00");
    assert_eq!(seq(&tmp).last(), Some(&ev(true, "schedule", "")));
    assert_eq!(status(&c, "2026-01-11T03:05:00+01:00")["decided"], format!("on by schedule ({PLAN})"));
}

#[test]
fn surplus_decides_where_the_plan_says_off_and_never_cuts_its_hours() {
    let (tmp, c, prices) = heater("surplus");
    // Noon: outside the plan's slots, it wants off.
    let out = schedule(&c, &prices, "2026-01-11T12:00:00+01:00");
    assert!(text(&out.stdout).contains("off by schedule"), "{}", text(&out.stdout));
    // Export from 12:00: the surplus rule switches the heater on at 12:01.
    let lines = stream(Meter::Dsmr5, "2026-01-11T11:00:00Z", 3 * 60, &[-2000]);
    let r = rules(&tmp, &format!("{SURPLUS}\n{CAPACITY}"));
    let out = relay(&c, &["watch", "--rules", &r], Some(&joined(&lines)));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let e = events(&tmp);
    assert_eq!(seq(&tmp), [ev(false, "schedule", ""), ev(true, "rule", "surplus")]);
    assert!((60..=61).contains(&after(at("2026-01-11T11:00:00Z"), &e[1])), "{e:?}");
    // The schedule runs at 12:02: the surplus rule's on beats the plan's off.
    let out = schedule(&c, &prices, "2026-01-11T12:02:00+01:00");
    assert!(text(&out.stdout).contains("the schedule wants it off; on by surplus rule"), "{}", text(&out.stdout));
    let st = status(&c, "2026-01-11T12:02:00+01:00");
    assert_eq!(st["decided"], "on by surplus rule");
    assert_eq!(sources(&st), [("surplus".to_string(), true), ("schedule".to_string(), false)]);

    // At night in the plan's slot the surplus rule's off (1 kW import) does
    // not cut the plan's hours short.
    let (tmp, c, prices) = heater("surplus-night");
    schedule(&c, &prices, "2026-01-11T02:00:00+01:00");
    let lines = stream(Meter::Dsmr5, "2026-01-11T01:00:00Z", 3 * 60, &[1000]);
    let out = relay(&c, &["watch", "--rules", &rules(&tmp, SURPLUS)], Some(&joined(&lines)));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(seq(&tmp), [ev(true, "schedule", "")]);
    let said = text(&out.stderr);
    assert_eq!(
        said.matches(&format!(
            "the surplus rule wants it off (import 1000 W over 300 W for 30s); on by schedule ({PLAN})"
        ))
        .count(),
        1,
        "{said}"
    );
    // The slot ends at 04:00 and the import goes on: the surplus rule
    // decides before the plan's off; the state says so at once.
    let lines = stream(Meter::Dsmr5, "2026-01-11T02:58:00Z", 3 * 60, &[1000]);
    let out = relay(&c, &["watch", "--rules", &rules(&tmp, SURPLUS)], Some(&joined(&lines)));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let e = events(&tmp);
    assert_eq!(seq(&tmp), [ev(true, "schedule", ""), ev(false, "rule", "surplus")]);
    assert!((120..=121).contains(&after(at("2026-01-11T02:58:00Z"), &e[1])), "off at 04:00: {e:?}");
}

#[test]
fn a_source_that_takes_over_is_named_without_a_switch() {
    let (tmp, c, prices) = heater("takeover");
    // On by surplus at 01:51; the plan's slot begins at 02:00 with the
    // heater already on: the schedule decides from then, no event.
    let lines = stream(Meter::Dsmr5, "2026-01-11T00:50:00Z", 12 * 60, &[-2000]);
    let r = rules(&tmp, SURPLUS);
    schedule(&c, &prices, "2026-01-11T01:50:00+01:00");
    let out = relay(&c, &["watch", "--rules", &r], Some(&joined(&lines)));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(seq(&tmp), [ev(false, "schedule", ""), ev(true, "rule", "surplus")]);
    let st = state(&tmp);
    assert_eq!(st["relays"]["1"]["by"], "schedule");
    assert_eq!(st["relays"]["1"]["decided"], format!("schedule ({PLAN})"));
    let since = at(st["relays"]["1"]["since"].as_str().expect("since"));
    assert!(
        (60..=61).contains(&(since - at("2026-01-11T00:50:00Z")).num_seconds()),
        "on since the surplus rule switched it: {st}"
    );
    assert!(st["wishes"]["1"]["surplus"]["until"].is_string(), "the rule's wish and its lease: {st}");
}
