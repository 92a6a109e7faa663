//! `relay watch` on recorded streams: han-sim's meters following a power
//! profile, through the real decoder, with timed expectations read from
//! the event log (the times are the stream's).

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use han_simulator::Meter;

const T0: &str = "2025-06-01T10:00:00Z";

const SURPLUS: &str = "[[rule]]\nrelay = 1\nkind = \"surplus\"\non_export_w = 1500\non_for = \"60s\"\noff_import_w = 300\noff_for = \"30s\"\n";

/// Minutes 0-1 import 100 W, 2-4 export 2000 W, 5-6 export 800 W (under the
/// on threshold), 7-8 import 200 W (under the off threshold), 9-11 import
/// 1000 W; then again.
fn profile() -> Vec<i32> {
    [vec![100; 2], vec![-2000; 3], vec![-800; 2], vec![200; 2], vec![1000; 3]].concat()
}

fn rule_events(tmp: &Tmp) -> Vec<(bool, i64, String)> {
    events(tmp)
        .iter()
        .map(|e| {
            (e["on"].as_bool().unwrap_or_default(), after(at(T0), e), e["by"].as_str().unwrap_or_default().to_string())
        })
        .collect()
}

#[test]
fn surplus_on_and_off_with_hysteresis() {
    let tmp = Tmp::new("relay", "surplus");
    let c = config(&tmp, "");
    let lines = stream(Meter::Dsmr5, T0, 12 * 60, &profile());
    let r = rules(&tmp, SURPLUS);
    let out = relay(&c, &["watch", "--rules", &r], Some(&joined(&lines)));
    assert!(out.status.success(), "{}", text(&out.stderr));
    // On a minute after export passed 1500 W (at 2:00); the 800 W export
    // and the 200 W import between keep it on; off 30 s into the 1000 W import.
    let ev = rule_events(&tmp);
    assert_eq!(ev.len(), 2, "{ev:?}");
    assert!(ev[0].0 && (180..=181).contains(&ev[0].1) && ev[0].2 == "rule", "{ev:?}");
    assert!(!ev[1].0 && (570..=571).contains(&ev[1].1), "{ev:?}");
    assert_eq!(pins(&tmp)["17"], true, "relay 1 (active-low) off: a high pin");
    let said = text(&out.stderr);
    assert!(said.contains("relay 1 (water heater): on by surplus rule: export 2000 W over 1500 W for 1m"), "{said}");
}

#[test]
fn minimum_on_time_holds_the_load() {
    let tmp = Tmp::new("relay", "minon");
    let c = config(&tmp, "");
    let lines = stream(Meter::Dsmr5, T0, 14 * 60, &profile());
    let r = rules(&tmp, &format!("{SURPLUS}min_on = \"10m\"\n"));
    let out = relay(&c, &["watch", "--rules", &r], Some(&joined(&lines)));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let ev = rule_events(&tmp);
    assert_eq!(ev.len(), 2, "{ev:?}");
    // Wanted off at 9:30, held on until 10 minutes after 3:00.
    assert!(!ev[1].0 && (780..=781).contains(&ev[1].1), "{ev:?}");
    assert!(text(&out.stderr).contains("waits: on for its min_on, until 12:13:00"), "{}", text(&out.stderr));
}

#[test]
fn a_gap_in_the_stream_gives_the_fail_safe_state() {
    let tmp = Tmp::new("relay", "gap");
    let c = config(&tmp, "");
    let lines = stream(Meter::Dsmr5, T0, 10 * 60, &[-2000]);
    // Nothing from 4:00 to 8:00.
    let kept: Vec<_> =
        lines.iter().filter(|(t, _)| !((240..480).contains(&(*t - at(T0)).num_seconds()))).cloned().collect();
    let r = rules(&tmp, &format!("{SURPLUS}stale_after = \"2m\"\nfail_safe = \"off\"\n"));
    let out = relay(&c, &["watch", "--rules", &r], Some(&joined(&kept)));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let ev = rule_events(&tmp);
    // On at 1:00; off by fail-safe two minutes after the last line (3:59);
    // on again a minute after the readings came back (8:00).
    assert_eq!(ev.len(), 3, "{ev:?}");
    assert!(ev[0].0 && (60..=61).contains(&ev[0].1), "{ev:?}");
    assert_eq!((ev[1].0, ev[1].1, ev[1].2.as_str()), (false, 359, "fail-safe"), "{ev:?}");
    assert!(ev[2].0 && (540..=541).contains(&ev[2].1) && ev[2].2 == "rule", "{ev:?}");
}

#[test]
fn a_live_stream_that_stops_gives_the_fail_safe_state() {
    let tmp = Tmp::new("relay", "live");
    let c = config(&tmp, "");
    let lines = stream(Meter::Dsmr5, T0, 90, &[-2000]);
    let r = rules(&tmp, &format!("{SURPLUS}stale_after = \"2s\"\n"));
    let mut child = Command::new(BIN)
        .args(["--config", c.to_str().expect("path"), "watch", "--rules", &r])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("relay watch runs");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(&joined(&lines)).expect("lines written");
    stdin.flush().expect("flushed");
    // The pipe stays open and silent: the wall clock runs the rule out.
    let until = Instant::now() + Duration::from_secs(30);
    while !events(&tmp).iter().any(|e| e["by"] == "fail-safe") {
        assert!(Instant::now() < until, "no fail-safe: {:?}", events(&tmp));
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(stdin);
    let out = child.wait_with_output().expect("ends");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let ev = rule_events(&tmp);
    assert!(ev[0].0, "{ev:?}");
    // Relay 1's safe state is off (the rule names none).
    assert_eq!((ev[1].0, ev[1].2.as_str()), (false, "fail-safe"), "{ev:?}");
}

#[test]
fn a_command_by_hand_beats_the_rules_until_its_hold_ends() {
    let tmp = Tmp::new("relay", "hold");
    let c = config(&tmp, "");
    let out = relay(&c, &["--now", T0, "1", "off", "--for", "5m"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines = stream(Meter::Dsmr5, T0, 8 * 60, &[-2000]);
    let r = rules(&tmp, SURPLUS);
    let out = relay(&c, &["watch", "--rules", &r], Some(&joined(&lines)));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let ev = rule_events(&tmp);
    assert_eq!(ev.len(), 2, "{ev:?}");
    assert_eq!((ev[0].0, ev[0].2.as_str()), (false, "command"));
    assert!(ev[1].0 && (300..=301).contains(&ev[1].1) && ev[1].2 == "rule", "on once the hold ended: {ev:?}");
    let said = text(&out.stderr);
    assert_eq!(said.matches("waits: held by a command until 12:05:00").count(), 1, "said once: {said}");
}

#[test]
fn capacity_sheds_the_charger_while_the_hour_heads_over() {
    let tmp = Tmp::new("relay", "capacity");
    let c = config(&tmp, "");
    // 3 kW for 20 minutes, then 500 W.
    let lines = stream(Meter::Dsmr5, T0, 25 * 60, &[vec![3000; 20], vec![500; 40]].concat());
    let r = rules(&tmp, "[[rule]]\nrelay = 2\nkind = \"capacity\"\nlimit_wh = 2000\nresume_wh = 1500\n");
    let out = relay(&c, &["watch", "--rules", &r], Some(&joined(&lines)));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let ev = rule_events(&tmp);
    // 3 kW for an hour heads for 3000 Wh: off at once. At 20:00, 1000 Wh used
    // and 500 W for 40 minutes: 1333 Wh, under 1500: on again.
    assert_eq!(ev.len(), 2, "{ev:?}");
    assert!(!ev[0].0 && ev[0].1 <= 1, "{ev:?}");
    assert!(ev[1].0 && (1200..=1202).contains(&ev[1].1), "{ev:?}");
    assert_eq!(pins(&tmp)["27"], true);
}

#[test]
fn an_import_only_list_breaks_no_export_condition() {
    let tmp = Tmp::new("relay", "kaifa");
    let c = config(&tmp, "");
    // Kaifa's list 1 (every 2 s) has import only; list 2 (every 10 s) export.
    let lines = stream(Meter::KaifaNo, T0, 3 * 60, &[-2000]);
    let r = rules(&tmp, SURPLUS);
    let out = relay(&c, &["watch", "--rules", &r], Some(&joined(&lines)));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let ev = rule_events(&tmp);
    assert!(!ev.is_empty() && ev[0].0 && (60..=72).contains(&ev[0].1), "{ev:?}");
}

#[test]
fn a_bad_rules_file_is_refused_at_start_with_its_line() {
    let tmp = Tmp::new("relay", "badrules");
    let c = config(&tmp, "");
    let r = rules(&tmp, &SURPLUS.replace("relay = 1", "relay = 7"));
    let out = relay(&c, &["watch", "--rules", &r], Some(b""));
    assert_eq!(out.status.code(), Some(2));
    let said = text(&out.stderr);
    let want = format!(
        "rules.toml: line 2, column 9: relay 7 is not configured: config file {} has [relay.1] and [relay.2] only\n  relays are [relay.N] sections",
        c.display()
    );
    assert!(said.contains(&want), "{said}");
    let out = relay(&c, &["watch"], Some(b""));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("which rules?"), "{}", text(&out.stderr));
}

#[test]
fn a_bad_value_in_the_rules_file_is_named_by_its_line_and_column() {
    let tmp = Tmp::new("relay", "badvalue");
    let c = config(&tmp, "");
    // A capacity rule first, so the surplus rule starts on line 6.
    let capacity = "[[rule]]\nrelay = 2\nkind = \"capacity\"\nlimit_wh = 5000\n\n";
    for (from, to, said) in [
        ("on_for = \"60s\"", "on_for = \"soon\"", "line 10, column 10: on_for = \"soon\": "),
        (
            "off_for = \"30s\"",
            "off_for = \"30s\"\nfail_safe = \"maybe\"",
            "line 13, column 13: fail_safe = \"maybe\": on or off",
        ),
        (
            "on_export_w = 1500",
            "on_export_w = -1500",
            "line 9, column 15: on_export_w = -1500: a number of W or Wh, 0 or more",
        ),
        ("relay = 1", "relay =   9", "line 7, column 11: relay 9 is not configured: config file "),
    ] {
        let r = rules(&tmp, &format!("{capacity}{}", SURPLUS.replace(from, to)));
        let out = relay(&c, &["watch", "--rules", &r], Some(b""));
        assert_eq!(out.status.code(), Some(2), "{to}");
        let err = text(&out.stderr);
        assert!(err.starts_with(&format!("relay: {r}: {said}")), "{to}: {err}");
        assert!(events(&tmp).is_empty(), "nothing switched");
    }
}
