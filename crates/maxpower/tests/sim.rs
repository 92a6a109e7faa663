//! Hourly energy from han-sim runs (the simulated meter as a library, its
//! frames through the real decoder and the shared line reader): a Dutch
//! DSMR 5 sending its registers every second, and a Norwegian Kaifa sending
//! power every 2 s and its registers once an hour. The hours are checked
//! against the register values at the hour boundaries, picked by hand from
//! the same stream.

use chrono::{DateTime, Utc};
use han::{Config, Decoder, EventRef};
use han_common::line::Line;
use han_common::times::StreamTime;
use han_energy::hours::{Hours, Sample};
use han_simulator::{Meter, Options, Simulator};

/// (meter clock, import register kWh) of every reading, after feeding them.
fn run(meter: Meter, start: &str, frames: u64, registers: bool, h: &mut Hours) -> Vec<(DateTime<Utc>, Option<f64>)> {
    let start = DateTime::parse_from_rfc3339(start).unwrap().to_utc();
    let mut sim = Simulator::new(Options::new(meter, start, 7));
    let mut d = Decoder::new(Config { tz: Some(meter.tz()), ..Config::default() });
    let mut seen = Vec::new();
    let mut last = None;
    for _ in 0..frames {
        d.push(&sim.next_frame().bytes);
        while let Some(e) = d.next_event_ref() {
            let EventRef::Reading(r) = e else { continue };
            let mut raw = Vec::new();
            r.write_json_line_received(None, &mut raw);
            let l = Line::parse(raw.trim_ascii_end(), true).unwrap();
            let at = match l.meter_time.as_deref().and_then(StreamTime::parse) {
                Some(t) => t.instant(meter.tz(), last),
                // Kaifa's list 1 has no clock here: the frame's own time.
                None => continue,
            };
            last = Some(at);
            let s = Sample {
                import_w: l.number("power_import_w"),
                export_w: l.number("power_export_w"),
                import_kwh: l.number("energy_import_kwh").filter(|_| registers),
                export_kwh: l.number("energy_export_kwh").filter(|_| registers),
            };
            h.add(at, &s);
            seen.push((at, l.number("energy_import_kwh")));
        }
    }
    seen
}

/// The register at an instant, from the stream.
fn register_at(seen: &[(DateTime<Utc>, Option<f64>)], at: &str) -> f64 {
    let at = DateTime::parse_from_rfc3339(at).unwrap().to_utc();
    seen.iter()
        .find(|(t, r)| *t == at && r.is_some())
        .and_then(|(_, r)| *r)
        .unwrap_or_else(|| panic!("no register at {at}"))
}

#[test]
fn dsmr_registers_every_second() {
    let mut h = Hours::default();
    // 3 hours and a bit of 1-second telegrams from 10:00:00 Amsterdam.
    let seen = run(Meter::Dsmr5, "2025-01-15T10:00:00+01:00", 3 * 3600 + 30, true, &mut h);
    let hours = h.hours();
    for (i, (from, to)) in [
        ("2025-01-15T10:00:00+01:00", "2025-01-15T11:00:00+01:00"),
        ("2025-01-15T11:00:00+01:00", "2025-01-15T12:00:00+01:00"),
        ("2025-01-15T12:00:00+01:00", "2025-01-15T13:00:00+01:00"),
    ]
    .into_iter()
    .enumerate()
    {
        let want = (register_at(&seen, to) - register_at(&seen, from)) * 1000.0;
        assert!(want > 0.0);
        assert!(hours[i].from_registers && hours[i].complete, "{:?}", hours[i]);
        assert!((hours[i].import_wh - want).abs() < 1e-6, "hour {i}: {} Wh, by hand {want} Wh", hours[i].import_wh);
    }
    assert!(!hours[3].complete, "the current hour is not complete");
    assert!(h.gaps.is_empty(), "{:?}", h.gaps);
}

#[test]
fn kaifa_hourly_registers_and_power_between() {
    let mut h = Hours::default();
    // From 10:05 Oslo to about 12:35: list 3 (the registers) at 11:00 and 12:00.
    let seen = run(Meter::KaifaNo, "2025-01-15T10:05:00+01:00", 4550, true, &mut h);
    let hours = h.hours();
    let by_hand =
        (register_at(&seen, "2025-01-15T12:00:00+01:00") - register_at(&seen, "2025-01-15T11:00:00+01:00")) * 1000.0;
    let hour = |hs: &[han_energy::hours::Hour], utc: &str| *hs.iter().find(|x| x.start.to_rfc3339() == utc).unwrap();
    let h11 = hour(&hours, "2025-01-15T10:00:00+00:00");
    assert!(h11.from_registers && h11.complete);
    assert!((h11.import_wh - by_hand).abs() < 1e-6, "{} vs {by_hand}", h11.import_wh);
    // The hour before the first register and the one after the last: power.
    let h10 = hour(&hours, "2025-01-15T09:00:00+00:00");
    assert!(!h10.from_registers && !h10.complete && h10.import_wh > 0.0, "{h10:?}");
    let last = hours.last().unwrap();
    assert!(!last.from_registers && !last.complete && last.import_wh > 0.0, "{last:?}");
    // Power alone, integrated over the same whole hour, agrees with the registers.
    let mut p = Hours::default();
    run(Meter::KaifaNo, "2025-01-15T10:05:00+01:00", 4550, false, &mut p);
    let p11 = hour(&p.hours(), "2025-01-15T10:00:00+00:00");
    assert!(!p11.from_registers && p11.complete);
    assert!(
        (p11.import_wh - by_hand).abs() / by_hand < 0.02,
        "integrated {} Wh, registers {by_hand} Wh",
        p11.import_wh
    );
}
