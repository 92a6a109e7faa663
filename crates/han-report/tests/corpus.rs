//! A summary of real captures: the Aidon 6534 list 3 snapshots of the
//! corpus (16:00 and 17:00 in Oslo, then 19:00: the 18:00 one is missing),
//! as han-read writes them, stored as han-log files them; totals by hand
//! from the manifest.

use std::io::Write;
use std::process::Command;

use han::{Config, Decoder, EventRef};
use han_testkit::{Tmp, corpus};

#[test]
fn aidon_list3_day_from_real_captures() {
    let Some(dir) = corpus::dir() else { return };
    let tmp = Tmp::new("han-report", "corpus");
    let mut day = std::fs::File::create(tmp.join("2025-12-14.jsonl")).expect("day file");
    for f in ["han/aidon-6534-list3-01.bin", "han/aidon-6534-list3-02.bin", "han/aidon-6534-list3-04.bin"] {
        let mut d = Decoder::new(Config { tz: Some(han::Tz::Europe__Oslo), ..Config::default() });
        d.push(&std::fs::read(dir.join(f)).expect("capture"));
        d.finish();
        while let Some(e) = d.next_event_ref() {
            if let EventRef::Reading(r) = e {
                let mut l = Vec::new();
                r.write_json_line_received(None, &mut l);
                day.write_all(&l).expect("written");
            }
        }
    }
    drop(day);
    let out = Command::new(env!("CARGO_BIN_EXE_han-report"))
        .args(["summary", "--format", "json", "--tz", "Europe/Oslo", "--dir", tmp.path().to_str().expect("path")])
        .output()
        .expect("runs");
    drop(tmp);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["readings"], 3);
    // 109554.02 - 109552.25 kWh between 16:00 and 17:00 (the manifest's
    // registers); 17:00 to 19:00 is a gap, not two hours of energy.
    assert_eq!(v["days"][0]["date"], "2025-12-14");
    assert_eq!(v["days"][0]["import_kwh"], 1.77);
    assert_eq!(v["days"][0]["complete"], false);
    let gaps = v["gaps"].as_array().expect("gaps");
    assert!(gaps.iter().any(|g| g[0] == "2025-12-14T16:00:00Z" && g[1] == "2025-12-14T18:00:00Z"), "{gaps:?}");
    // One complete hour: the month's top hour is it, at 16:00 Oslo time.
    assert_eq!(v["months"][0]["norway_top"][0]["kwh"], 1.77);
    assert_eq!(v["months"][0]["norway_top"][0]["start"], "2025-12-14T15:00:00Z");
}
