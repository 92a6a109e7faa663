//! The Swiss VSE push configurations han-sim sends, decoded by han's
//! built-in profiles: each model's raw numbers, read from the frame, give
//! the values worked out here by hand (the voltage scaler differs by
//! model), and voltages, currents and power agree. And Acme X3, the
//! made-up meter no profile knows, read with a user's profile.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::sync::{Arc, Mutex};

use common::at;
use han::axdr::{Data, Tree, decode_into};
use han::profiles::MeterProfiles;
use han::{Config, Decoder, Event, Obis, Reading, Seen};
use han_simulator::{Meter, Options, Simulator};
use han_testkit::corpus;

/// The readings of a stream, with the APDUs the decoder put together
/// (after GBT blocks, HDLC segments and decryption).
fn decode(bytes: &[u8], cfg: Config) -> (Vec<Reading>, Vec<Vec<u8>>) {
    let apdus = Arc::new(Mutex::new(Vec::new()));
    let mut dec = Decoder::new(cfg);
    let sink = Arc::clone(&apdus);
    dec.observe(Box::new(move |seen| {
        if let Seen::Apdu(a) = seen {
            sink.lock().unwrap().push(a.to_vec());
        }
    }));
    dec.push(bytes);
    dec.finish();
    let mut out = Vec::new();
    while let Some(e) = dec.next_event() {
        match e {
            Event::Reading(r) => out.push(*r),
            Event::Rejected { error, .. } => panic!("rejected: {error}"),
        }
    }
    let apdus = apdus.lock().unwrap().clone();
    (out, apdus)
}

/// The bare values after the capture-object list: (tag, number) of each
/// number, in order.
fn raw_numbers(apdu: &[u8]) -> Vec<(u8, u64)> {
    let body = if apdu[5] == 0x0C { 18 } else { 6 };
    let mut nodes = Vec::new();
    decode_into(apdu, body, &mut nodes).unwrap();
    let tree = Tree { bytes: apdu, nodes: &nodes };
    let top: Vec<usize> = tree.children(0).collect();
    assert!(matches!(tree.node(top[0]).unwrap().data, Data::Array(_)), "the capture-object list comes first");
    top[1..]
        .iter()
        .filter_map(|&i| match tree.node(i).unwrap().data {
            Data::UInt(v) => Some((tree.node(i).unwrap().tag, v)),
            _ => None,
        })
        .collect()
}

fn value(r: &Reading, code: &str) -> f64 {
    r.obis.get(code.parse::<Obis>().unwrap()).and_then(|o| o.value.as_f64()).unwrap()
}

/// One model: its frames decoded, each value checked against its raw
/// number with the scalers worked out from the model's documentation.
fn check(meter: Meter, volts_per_count: f64, manufacturer: &str) {
    let name = meter.name();
    let frames: Vec<_> = Simulator::new(Options::new(meter, at("2025-01-15T18:00:00+01:00"), 7)).take(40).collect();
    let bytes: Vec<u8> = frames.iter().flat_map(|f| f.bytes.clone()).collect();
    let (readings, apdus) = decode(&bytes, Config { tz: Some(meter.tz()), ..Config::default() });
    assert_eq!((readings.len(), apdus.len()), (40, 40), "{name}");
    for (r, apdu) in readings.iter().zip(&apdus) {
        assert_eq!(r.manufacturer, Some(manufacturer), "{name}");
        let raw = raw_numbers(apdu);
        // A+, A-, R+, R- (Wh, varh), P+, P- (W): double-long-unsigned.
        let (energy, power, u, i) = (&raw[0..4], &raw[4..6], &raw[6..9], &raw[9..12]);
        assert!(energy.iter().chain(power).all(|(t, _)| *t == 0x06), "{name}: {raw:?}");
        assert!(u.iter().chain(i).all(|(t, _)| *t == 0x12), "{name}: long-unsigned U and I: {raw:?}");
        assert_eq!(value(r, "1-0:1.8.0"), energy[0].1 as f64, "{name}: energy in Wh, as sent");
        assert_eq!(r.quantities.energy_import_kwh, Some(energy[0].1 as f64 / 1000.0));
        assert_eq!(r.quantities.power_import_w, Some(power[0].1 as f64), "{name}: power in W, as sent");
        // The E360 lists L1, L3, L2.
        let phase_u = if meter == Meter::LandisGyrE360Ch { [u[0].1, u[2].1, u[1].1] } else { [u[0].1, u[1].1, u[2].1] };
        let q = &r.quantities;
        let got_u = [q.voltage_l1_v.unwrap(), q.voltage_l2_v.unwrap(), q.voltage_l3_v.unwrap()];
        let got_i = [q.current_l1_a.unwrap(), q.current_l2_a.unwrap(), q.current_l3_a.unwrap()];
        for k in 0..3 {
            // E.g. raw 2347 at 0.1 V a count is 234.7 V; raw 236 at 1 V is 236 V.
            assert!((got_u[k] - phase_u[k] as f64 * volts_per_count).abs() < 1e-9, "{name}: U{k} {got_u:?} {u:?}");
            // Raw 63 at 0.01 A a count is 0.63 A.
            assert!((got_i[k] - i[k].1 as f64 / 100.0).abs() < 1e-9, "{name}: I{k} {got_i:?} {i:?}");
            assert!((200.0..260.0).contains(&got_u[k]), "{name}: a mains voltage: {}", got_u[k]);
        }
        // The same frame's current and power agree: the apparent power is
        // at least the active power (within the rounding of the last
        // digits), and not ten times more.
        let p = power[0].1 as f64;
        let s: f64 = (0..3).map(|k| got_u[k] * got_i[k]).sum();
        let slack: f64 = (0..3).map(|k| got_u[k] * 0.005 + got_i[k] * volts_per_count).sum();
        assert!(s + slack >= p, "{name}: U·I {s} VA below P {p} W");
        assert!(s <= 1.5 * p + 300.0, "{name}: U·I {s} VA far above P {p} W");
    }
}

#[test]
fn landisgyr_e360_volts_in_tenths() {
    check(Meter::LandisGyrE360Ch, 0.1, "Landis+Gyr");
}

#[test]
fn landisgyr_e450_whole_volts() {
    check(Meter::LandisGyrE450Ch, 1.0, "Landis+Gyr");
}

#[test]
fn landisgyr_e570_whole_volts() {
    check(Meter::LandisGyrE570Ch, 1.0, "Landis+Gyr");
}

#[test]
fn iskra_am550_volts_in_tenths() {
    check(Meter::IskraAm550Ch, 0.1, "Iskra");
}

/// The E450's frames are framed as the E450 capture in the corpus: HDLC
/// addresses and control, General Block Transfer, the capture-object
/// descriptors' shape.
#[test]
fn landisgyr_e450_frames_like_the_capture() {
    let Some(dir) = corpus::dir() else { return };
    let real = std::fs::read(dir.join("han/landisgyr-e450-ch-gbt-01.bin")).unwrap();
    let sim = Simulator::new(Options::new(Meter::LandisGyrE450Ch, at("2025-01-15T18:00:00+01:00"), 7)).next_frame();
    let head = |b: &[u8]| b[3..9].to_vec();
    // dst CE FF, src 03, control 13, then the HCS; GBT right after the LLC.
    assert_eq!(&head(&sim.bytes)[..4], &head(&real)[..4]);
    assert_eq!(&sim.bytes[11..15], &real[11..15], "E6 E7 00 E0");
    let descr = |b: &[u8]| {
        let (_, apdus) = decode(b, Config::default());
        let apdu = &apdus[0];
        let mut nodes = Vec::new();
        decode_into(apdu, 18, &mut nodes).unwrap();
        let tree = Tree { bytes: apdu, nodes: &nodes };
        let list = tree.children(0).next().unwrap();
        let first = tree.children(list).next().unwrap();
        tree.children(first).map(|c| tree.node(c).unwrap().tag).collect::<Vec<u8>>()
    };
    assert_eq!(descr(&sim.bytes), descr(&real), "structure{{class, OBIS, attribute, data index}}");
}

/// The Acme X3 profile, as a user would write it from its manual.
const ACME: &str = r#"
[[profile]]
name = "acme-x3"
manufacturer = "Acme"

[[profile.match]]
text = "ACME_X3"

[[profile.layout]]
positions = [
  "1-1:0.2.129", "0-0:96.1.0", "0-0:1.0.0",
  "1-0:1.7.0", "1-0:2.7.0",
  { obis = "1-0:32.7.0", scaler = -1 }, { obis = "1-0:52.7.0", scaler = -1 }, { obis = "1-0:72.7.0", scaler = -1 },
  { obis = "1-0:31.7.0", scaler = -3 }, { obis = "1-0:51.7.0", scaler = -3 }, { obis = "1-0:71.7.0", scaler = -3 },
  { obis = "1-0:1.8.0", scaler = 1 }, { obis = "1-0:2.8.0", scaler = 1 },
]
"#;

#[test]
fn acme_x3_is_unknown_until_a_profile_describes_it() {
    let frames: Vec<_> =
        Simulator::new(Options::new(Meter::AcmeX3, at("2025-01-15T18:00:00+01:00"), 3)).take(12).collect();
    let bytes: Vec<u8> = frames.iter().flat_map(|f| f.bytes.clone()).collect();
    let (plain, _) = decode(&bytes, Config::default());
    assert!(plain.iter().all(|r| r.quantities.power_import_w.is_none() && r.manufacturer.is_none()));
    let cfg =
        Config { profiles: MeterProfiles::parse(ACME).unwrap(), tz: Some(Meter::AcmeX3.tz()), ..Config::default() };
    let (readings, _) = decode(&bytes, cfg);
    assert_eq!(readings.len(), 12);
    for (f, r) in frames.iter().zip(&readings) {
        let q = &r.quantities;
        assert_eq!(r.manufacturer, Some("Acme"));
        assert_eq!(r.list.as_deref(), Some(han_simulator::acme::LIST_ID));
        assert_eq!(q.power_import_w, Some(f64::from(f.sample.import_w())));
        // 0.1 V and mA counts, as the simulator rounded them.
        assert!((q.voltage_l1_v.unwrap() - (f.sample.u[0] * 10.0).round() / 10.0).abs() < 1e-9);
        assert!((q.current_l2_a.unwrap() - (f.sample.i[1] * 1000.0).round() / 1000.0).abs() < 1e-9);
        // 10 Wh counts: the register in Wh, rounded down to ten.
        let wh = han_simulator::wh(f.registers.a_plus) / 10 * 10;
        assert_eq!(value(r, "1-0:1.8.0"), wh as f64);
        assert_eq!(r.meter_time.unwrap().local, f.local);
    }
}
