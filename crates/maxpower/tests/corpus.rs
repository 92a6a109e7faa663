//! Hourly energy from real captures: the Norwegian list 3 sequence of an
//! Aidon 6534 in the corpus (16:00, 17:00, then 19:00: the 18:00 snapshot
//! is missing), as han-read writes it and han-log stores it, read back
//! through the shared line reader; totals by hand from the manifest.

use chrono::{DateTime, Utc};
use han::{Config, Decoder, EventRef};
use han_common::line::Line;
use han_common::times::StreamTime;
use han_energy::hours::{Hours, Sample};
use han_testkit::corpus;

/// The stream lines of a capture, as han-read writes them (zone Oslo).
fn lines(file: &str) -> Vec<Vec<u8>> {
    let dir = corpus::dir().expect("corpus");
    let bytes = std::fs::read(dir.join(file)).unwrap();
    let mut d = Decoder::new(Config { tz: Some(han::Tz::Europe__Oslo), ..Config::default() });
    d.push(&bytes);
    d.finish();
    let mut out = Vec::new();
    while let Some(e) = d.next_event_ref() {
        if let EventRef::Reading(r) = e {
            let mut l = Vec::new();
            r.write_json_line_received(None, &mut l);
            out.push(l.trim_ascii_end().to_vec());
        }
    }
    out
}

fn feed(h: &mut Hours, raw: &[u8]) -> DateTime<Utc> {
    let l = Line::scan(raw, true).unwrap();
    let at = StreamTime::parse(l.meter_time.as_deref().unwrap()).unwrap().instant(han::Tz::Europe__Oslo, None);
    let s = Sample {
        import_w: l.number("power_import_w"),
        export_w: l.number("power_export_w"),
        import_kwh: l.number("energy_import_kwh"),
        export_kwh: l.number("energy_export_kwh"),
    };
    h.add(at, &s);
    at
}

#[test]
fn aidon_list3_hours_gap_and_repeat() {
    if corpus::dir().is_none() {
        return;
    }
    let mut h = Hours::default();
    let mut times = Vec::new();
    for f in ["han/aidon-6534-list3-01.bin", "han/aidon-6534-list3-02.bin"] {
        for l in lines(f) {
            times.push(feed(&mut h, &l));
        }
    }
    // Aidon repeats the previous hour's snapshot: counted once.
    for l in lines("han/aidon-6534-list3-02.bin") {
        feed(&mut h, &l);
    }
    for l in lines("han/aidon-6534-list3-04.bin") {
        times.push(feed(&mut h, &l));
    }
    assert_eq!(times.len(), 3);
    assert_eq!(times[0].to_rfc3339(), "2025-12-14T15:00:00+00:00", "16:00 in Oslo");
    let hours = h.hours();
    let reg: Vec<_> = hours.iter().filter(|x| x.from_registers).collect();
    assert_eq!(reg.len(), 1, "{hours:?}");
    // 109554.02 - 109552.25 kWh, from the manifest.
    assert_eq!(reg[0].start, times[0]);
    assert!((reg[0].import_wh - 1770.0).abs() < 1e-6, "{:?}", reg[0]);
    assert!(reg[0].complete);
    assert_eq!(h.repeated, 1, "the repeated snapshot");
    assert!(h.gaps.contains(&(times[1], times[2])), "17:00 to 19:00 is a gap, not two hours of 4 kWh: {:?}", h.gaps);
    // The lone power readings an hour apart are gaps too, never energy.
    assert!(hours.iter().filter(|x| !x.from_registers).all(|x| x.import_wh == 0.0), "{hours:?}");
}
