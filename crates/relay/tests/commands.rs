//! The commands on the sim backend: on, off, toggle, holds, status,
//! restore, persistence across runs, the page, and the errors.

mod common;

use common::*;
use han_testkit::names;
use serde_json::Value;

#[test]
fn on_off_toggle_and_status_persist_across_runs() {
    let tmp = Tmp::new("relay", "commands");
    let c = config(&tmp, "");
    let now = ["--now", "2026-01-10T12:00:00+01:00"];
    let out = relay(&c, &[&now[..], &["1", "on"]].concat(), None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "relay 1 (water heater): on by command: by hand, held until 2026-01-10 14:00\n");
    // Relay 1 is active-low: on is a low pin.
    assert_eq!(pins(&tmp)["17"], false);
    let out = relay(&c, &["--now", "2026-01-10T12:05:00+01:00", "2", "off", "--for", "30m"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(pins(&tmp)["27"], false);
    let out = relay(&c, &["--now", "2026-01-10T12:10:00+01:00", "1", "toggle", "--for", "0"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(pins(&tmp)["17"], true, "toggled off: a high pin");

    // A new run reads what the others left.
    let out = relay(&c, &["--now", "2026-01-10T12:20:00+01:00", "status", "--json"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let r = v["relays"].as_array().expect("relays");
    assert_eq!(r.len(), 2);
    assert_eq!(
        (r[0]["relay"].as_u64(), r[0]["on"].as_bool(), r[0]["pin_on"].as_bool()),
        (Some(1), Some(false), Some(false))
    );
    assert_eq!(r[0]["since"], "2026-01-10T11:10:00Z");
    assert_eq!(r[0]["held_until"], Value::Null, "--for 0 holds nothing");
    assert_eq!(r[1]["held_until"], "2026-01-10T11:35:00Z");
    assert_eq!(r[1]["by"], "command");
    let table = text(&relay(&c, &["--now", "2026-01-10T12:20:00+01:00", "status"], None).stdout);
    assert!(table.contains("1 water heater     off since 2026-01-10 12:10 (command: by hand)"), "{table}");
    assert!(
        table.contains("2 ev charger       off since 2026-01-10 12:05 (command: by hand, held until 2026-01-10 12:35)"),
        "{table}"
    );

    // Every change is in the event log, in order, with what was before.
    let ev = events(&tmp);
    assert_eq!(ev.len(), 3);
    assert_eq!((ev[0]["relay"].as_u64(), ev[0]["on"].as_bool(), ev[0]["was"].as_bool()), (Some(1), Some(true), None));
    assert_eq!(
        (ev[2]["relay"].as_u64(), ev[2]["on"].as_bool(), ev[2]["was"].as_bool()),
        (Some(1), Some(false), Some(true))
    );
    assert!(ev.iter().all(|e| e["by"] == "command"));
    // Nothing but the state, the log, the pins and the lock in the folder.
    assert_eq!(names(&tmp.join("state")), ["relay-events.jsonl", "relay-sim.json", "relay.json", "relay.lock"]);
}

#[test]
fn restore_puts_back_the_last_command_else_the_safe_state() {
    let tmp = Tmp::new("relay", "restore");
    let c = config(&tmp, "");
    let out = relay(&c, &["--now", "2026-01-10T12:00:00+01:00", "1", "on"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // A reboot: the pins are lost.
    std::fs::remove_file(tmp.join("state/relay-sim.json")).expect("pins gone");
    let out = relay(&c, &["--now", "2026-01-10T13:00:00+01:00", "restore"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.contains("relay 1 (water heater): on by restore: at start, as last commanded (command 2026-01-10 12:00)"),
        "{said}"
    );
    assert!(
        said.contains("relay 2 (ev charger): on by restore: at start, no command on record: the safe state"),
        "{said}"
    );
    assert_eq!((pins(&tmp)["17"].as_bool(), pins(&tmp)["27"].as_bool()), (Some(false), Some(true)));
    // The hold of the command survives the restart.
    let v: Value =
        serde_json::from_slice(&relay(&c, &["--now", "2026-01-10T13:00:00+01:00", "status", "--json"], None).stdout)
            .expect("JSON");
    assert_eq!(v["relays"][0]["held_until"], "2026-01-10T13:00:00Z");
    let ev = events(&tmp);
    assert_eq!(ev.iter().filter(|e| e["by"] == "restore").count(), 2);
}

#[test]
fn the_page_after_each_change() {
    let tmp = Tmp::new("relay", "page");
    let www = tmp.join("www");
    let c = config(&tmp, &format!("www = \"{}\"", www.display()));
    let out = relay(&c, &["--now", "2026-01-10T12:00:00+01:00", "2", "off", "--for", "1h"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let html = std::fs::read_to_string(www.join("relays.html")).expect("relays.html");
    assert!(html.contains(r#"<tr class="off" id="relay-2"><td>2 ev charger</td><td class="state">off</td>"#), "{html}");
    assert!(html.contains("held by hand until 2026-01-10 13:00"), "{html}");
    assert!(html.contains(r#"<tr class="unknown" id="relay-1">"#), "relay 1 has no command yet: {html}");
    let data: Value =
        serde_json::from_str(&std::fs::read_to_string(www.join("data/relays.json")).expect("data")).expect("JSON");
    assert_eq!(data["relays"][1]["on"], false);
}

#[test]
fn errors_are_clear() {
    let tmp = Tmp::new("relay", "errors");
    let c = config(&tmp, "");
    let out = relay(&c, &["3", "on"], None);
    assert_eq!(out.status.code(), Some(2));
    // Which relays there are, in which file, and where the example is.
    let said = text(&out.stderr);
    let want = format!("relay 3 is not configured: config file {} has [relay.1] and [relay.2] only\n", c.display());
    assert!(said.contains(&want) && said.contains(EXAMPLE), "{said}");
    let out = relay(&c, &["1", "dance"], None);
    assert_eq!(out.status.code(), Some(2));
    let out = relay(&c, &["1", "on", "--for", "soon"], None);
    assert_eq!(out.status.code(), Some(2));
    // A pin used twice.
    let twice = tmp.join("twice.toml");
    std::fs::write(&twice, "[relay]\nbackend = \"sim\"\n[relay.1]\npin = 17\n[relay.2]\npin = 17\n").expect("written");
    let out = relay(&twice, &["status"], None);
    assert_eq!(out.status.code(), Some(2));
    let said = text(&out.stderr);
    let want = format!("config file {}: pin 17 is used twice: by relay 1 and relay 2\n", twice.display());
    assert!(said.contains(&want) && said.contains(EXAMPLE), "{said}");
    // Every error of the config names the file and points to the example.
    for (bad, what) in [
        ("[relay.1]\npin = 99\n", "relay 1: pin 99 is not a BCM GPIO of the header (0-27)"),
        ("[relay.1]\nname = \"x\"\n", "[relay.1]: pin = the relay's BCM GPIO number (0-27)"),
        ("[relay.one]\npin = 3\n", "[relay.one]: relays are numbered"),
        ("[relay.1]\npin = 3\nsafe = \"maybe\"\n", "[relay.1] safe = \"maybe\": on or off"),
        ("[relay]\nbackend = \"wiringpi\"\n[relay.1]\npin = 3\n", "[relay] backend = \"wiringpi\": rppal or sim"),
        ("[relay]\nmanual_for = \"ages\"\n[relay.1]\npin = 3\n", "[relay] manual_for: "),
        ("[relay.1]\npin = 3\nmin_on = \"soon\"\n", "[relay.1] min_on: "),
        ("[han-log]\ntz = \"Mars/Olympus\"\n[relay.1]\npin = 3\n", "[han-log] tz: "),
        ("[relay.1]\npin = \"17\"\n", "[relay.1] pin must be a whole number"),
        ("[relay.1\npin = 3\n", "is not valid TOML"),
    ] {
        let f = tmp.join("bad.toml");
        std::fs::write(&f, bad).expect("written");
        let out = relay(&f, &["status"], None);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let said = text(&out.stderr);
        assert!(said.contains(&format!("config file {}", f.display())) && said.contains(what), "{bad}: {said}");
        assert!(said.contains(EXAMPLE), "{bad}: {said}");
    }
    // No relays configured: restore at boot has nothing to do; a command says why.
    let none = tmp.join("none.toml");
    std::fs::write(&none, "[relay]\nbackend = \"sim\"\n").expect("written");
    let out = relay(&none, &["restore"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("nothing to restore"), "{}", text(&out.stderr));
    let out = relay(&none, &["1", "on"], None);
    assert_eq!(out.status.code(), Some(2));
    let said = text(&out.stderr);
    assert!(said.contains(&format!("no relays configured in {}\n", none.display())), "{said}");
    assert!(said.contains(EXAMPLE), "{said}");
    // The Pi's GPIO where there is none.
    let out = relay(&c, &["--backend", "rppal", "1", "on"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no Raspberry Pi GPIO here"), "{}", text(&out.stderr));
    assert!(events(&tmp).is_empty(), "nothing was switched, nothing recorded");
}
