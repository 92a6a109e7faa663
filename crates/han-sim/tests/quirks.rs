//! The decoder on what no capture shows, from frames han-sim builds by the
//! specifications: DSMR identification lines off `/XXX5`, authenticated
//! frames with only the encryption key, and values no meter can have. The
//! expected values are worked out by hand from the bytes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::at;
use han::{Config, Decoder, Error, Event, Limit, Reading, Warning};
use han_simulator::quirks::{self, Crc, List2};
use han_simulator::{Meter, Options, Simulator};

const KEY: [u8; 16] = *b"0123456789ABCDEF";
const AUTH: [u8; 16] = *b"authentication!!";

/// Every event and warning of a byte stream, pushed in odd chunks.
fn decode(cfg: Config, bytes: &[u8]) -> (Vec<Event>, Vec<Warning>, han::Stats) {
    let mut d = Decoder::new(cfg);
    let (mut ev, mut warnings) = (Vec::new(), Vec::new());
    let mut drain = |d: &mut Decoder| {
        while let Some(e) = d.next_event() {
            ev.push(e);
            warnings.extend(std::iter::from_fn(|| d.next_warning()));
        }
    };
    for c in bytes.chunks(61) {
        d.push(c);
        drain(&mut d);
    }
    d.finish();
    drain(&mut d);
    (ev, warnings, d.stats().clone())
}

fn readings(ev: Vec<Event>) -> Vec<Reading> {
    ev.into_iter()
        .map(|e| match e {
            Event::Reading(r) => *r,
            Event::Rejected { error, .. } => panic!("rejected: {error}"),
        })
        .collect()
}

/// Lines of the DSMR 5.0.2 example telegram (P1 companion standard §6.12).
const LINES: &[&str] = &[
    "1-3:0.2.8(50)",
    "0-0:1.0.0(101209113020W)",
    "1-0:1.8.1(123456.789*kWh)",
    "1-0:2.8.1(000012.345*kWh)",
    "0-0:96.14.0(0002)",
    "1-0:1.7.0(01.193*kW)",
    "1-0:32.7.0(220.1*V)",
    "1-0:31.7.0(001*A)",
];

#[test]
fn identification_lines_that_devices_send() {
    let shapes: &[(&str, Option<&str>, Option<&str>)] = &[
        // A district-heating interface: '-' or a letter where the baud rate goes.
        ("/ABC-MODEL", None, Some("MODEL")),
        ("/ABCDMODEL", None, Some("MODEL")),
        ("/ISk5\\2MT382-1000", Some("Iskra"), Some("\\2MT382-1000")),
        ("/FLU5\\253769484_A", Some("Fluvius"), Some("\\253769484_A")),
        ("/ADN9 6534", Some("Aidon"), Some("6534")),
        ("/Lux5\\253663629_D", Some("Sagemcom"), Some("\\253663629_D")),
        ("/ESY5Q3DA1004 V3.04", Some("EasyMeter"), Some("Q3DA1004 V3.04")),
        // Not three letters first: the whole line is the identification.
        ("/12-heat interface", None, Some("12-heat interface")),
    ];
    for &(ident, maker, model) in shapes {
        for crc in [Crc::Upper, Crc::Lower, Crc::Unpadded] {
            let (ev, warnings, stats) = decode(Config::default(), &quirks::telegram(ident, LINES, crc));
            let r = readings(ev);
            assert_eq!(r.len(), 1, "{ident} {crc:?}");
            let (r, q) = (&r[0], &r[0].quantities);
            assert_eq!((r.manufacturer, r.meter_model.as_deref()), (maker, model), "{ident}");
            // 01.193 kW is 1193 W; 123456.789 kWh; 220.1 V; 001 A; tariff 0002.
            assert_eq!(q.power_import_w, Some(1193.0));
            assert_eq!((q.energy_import_t1_kwh, q.energy_export_t1_kwh), (Some(123_456.789), Some(12.345)));
            assert_eq!((q.voltage_l1_v, q.current_l1_a, q.tariff), (Some(220.1), Some(1.0), Some(2)));
            assert_eq!(r.meter_time.unwrap().to_string(), "2010-12-09T11:30:20+01:00");
            assert!(warnings.is_empty(), "{warnings:?}");
            assert_eq!((stats.resyncs, stats.bad_checksum), (0, 0), "{ident}");
        }
    }
    // DSMR 3.0 has no CRC: without the version line, none is needed.
    let (ev, _, _) = decode(Config::default(), &quirks::telegram("/ABC-MODEL", &LINES[1..], Crc::None));
    assert_eq!(readings(ev)[0].quantities.power_import_w, Some(1193.0));
    // A DSMR 5 telegram without its CRC is rejected as such, counted.
    let (ev, _, stats) = decode(Config::default(), &quirks::telegram("/ABC-MODEL", LINES, Crc::None));
    assert!(matches!(&ev[..], [Event::Rejected { error: Error::DsmrMissingCrc, .. }]), "{ev:?}");
    assert_eq!(stats.rejected_other, 1);
}

/// The simulator's telegrams with another identification line decode to
/// the same values: only the maker and model follow the line.
#[test]
fn simulated_telegrams_with_another_identification() {
    let mut sim = Simulator::new(Options::new(Meter::Dsmr5, at("2025-01-15T06:58:30+01:00"), 7));
    for _ in 0..5 {
        let plain = sim.next_frame().bytes;
        let odd = quirks::with_identification(&plain, "/ABC-MODEL").expect("a telegram");
        assert!(odd.starts_with(b"/ABC-MODEL\r\n\r\n1-3:0.2.8(50)"));
        let mut want = readings(decode(Config::default(), &plain).0).remove(0);
        let got = readings(decode(Config::default(), &odd).0).remove(0);
        (want.manufacturer, want.meter_model) = (None, Some(han::Text::new("MODEL")));
        assert_eq!(got, want);
    }
}

/// Security control 0x30 (encrypted and authenticated) read with only the
/// encryption key: the same readings as with both keys, said once.
#[test]
fn authenticated_frames_with_only_the_encryption_key() {
    for (meter, start) in [(Meter::AidonNo, "2025-01-15T09:59:50+01:00"), (Meter::Dsmr5, "2025-01-15T06:59:55+01:00")] {
        let mut opts = Options::new(meter, at(start), 3);
        (opts.key, opts.auth_key) = (Some(KEY), Some(AUTH));
        let stream: Vec<u8> = Simulator::new(opts).take(12).flat_map(|f| f.bytes).collect();
        let both = Config { key: Some(KEY), auth_key: Some(AUTH), ..Config::default() };
        let (ev, warnings, _) = decode(both, &stream);
        let want = readings(ev);
        assert!(warnings.is_empty() && want.len() == 12, "{meter:?}");

        let (ev, warnings, stats) = decode(Config { key: Some(KEY), ..Config::default() }, &stream);
        assert_eq!(readings(ev), want, "{meter:?}");
        assert_eq!(warnings, [Warning::Unauthenticated { security_control: 0x30 }], "{meter:?}");
        assert_eq!(stats.unauthenticated, 12);

        // A wrong encryption key: every frame the wrong-key error, no value.
        let (ev, warnings, stats) = decode(Config { key: Some(*b"0123456789ABCDEX"), ..Config::default() }, &stream);
        assert_eq!(ev.len(), 12);
        for e in &ev {
            assert!(matches!(e, Event::Rejected { error: Error::WrongKey, .. }), "{meter:?}: {e:?}");
        }
        assert!(warnings.is_empty());
        assert_eq!((stats.readings, stats.unauthenticated), (0, 0));
    }
}

/// The Norwegian list 2 of a 3-phase meter at 1150 W.
const LIST2: List2 =
    List2 { p_import: 1150, p_export: 0, q_import: 0, q_export: 120, current: [50, 0, 0], voltage: [2300, 2310, 2290] };

fn implausible(w: &[Warning]) -> Vec<(&'static str, f64, Limit)> {
    w.iter()
        .map(|w| match w {
            Warning::Implausible(i) => (i.quantity, i.value, i.limit),
            other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn han_values_no_meter_can_have() {
    // U L2 0xFFFF x 0.1 V = 6553.5 V (an unsigned "not available"); I L3 is
    // -3.0 A (Aidon sends a phase that exports negative): that one stays.
    let odd = List2 { voltage: [2300, 0xFFFF, 2290], current: [50, 0, -30], ..LIST2 };
    let (ev, warnings, stats) = decode(Config::default(), &quirks::aidon_list2(&odd));
    let r = readings(ev).remove(0);
    let q = r.quantities;
    assert_eq!((q.voltage_l1_v, q.voltage_l2_v, q.voltage_l3_v), (Some(230.0), None, Some(229.0)));
    assert_eq!((q.current_l1_a, q.current_l3_a, q.power_import_w), (Some(5.0), Some(-3.0), Some(1150.0)));
    assert!(r.obis.get("1-0:52.7.0".parse().unwrap()).is_none());
    assert_eq!(implausible(&warnings), [("voltage_l2_v", 6553.5, Limit::Above(1000.0))]);
    assert_eq!(stats.implausible, 1);

    // 50 000 000 W: five times 10 MW.
    let odd = List2 { p_import: 50_000_000, ..LIST2 };
    let (ev, warnings, _) = decode(Config::default(), &quirks::aidon_list2(&odd));
    assert_eq!(readings(ev)[0].quantities.power_import_w, None);
    assert_eq!(implausible(&warnings), [("power_import_w", 5e7, Limit::Above(1e7))]);

    // Kaifa sends mA: 16 mA on L1 cannot carry 3680 W at 230 V. Each
    // current up to one more mA: 230 x 0.017 + 231 x 0.001 + 229 x 0.001
    // = 4.37 VA, and 3680 W is more than 10 times that.
    let odd = List2 { p_import: 3680, current: [16, 0, 0], voltage: [2300, 2310, 2290], ..LIST2 };
    let (ev, warnings, stats) = decode(Config::default(), &quirks::kaifa_list2(&odd));
    let q = readings(ev)[0].quantities;
    assert_eq!((q.current_l1_a, q.current_l2_a, q.current_l3_a), (None, None, None));
    assert_eq!((q.power_import_w, q.voltage_l2_v), (Some(3680.0), Some(231.0)));
    let got = implausible(&warnings);
    assert_eq!(
        got.iter().map(|g| (g.0, g.1)).collect::<Vec<_>>(),
        [("current_l1_a", 0.016), ("current_l2_a", 0.0), ("current_l3_a", 0.0)]
    );
    let Limit::Disagrees { power_w, apparent_va } = got[0].2 else { panic!("{got:?}") };
    assert_eq!(power_w, 3680.0);
    assert!((apparent_va - 4.37).abs() < 1e-9, "{apparent_va}");
    assert_eq!(stats.implausible, 3);
    // The same currents in amperes fit: 16 A at 230 V is 3680 VA.
    let fine = List2 { current: [16_000, 0, 0], ..odd };
    let (_, warnings, _) = decode(Config::default(), &quirks::kaifa_list2(&fine));
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn p1_values_no_meter_can_have() {
    let lines = [
        "1-3:0.2.8(50)",
        "0-0:1.0.0(210101120000W)",
        "1-0:1.8.1(-00001.000*kWh)",
        "1-0:1.8.2(000100.000*kWh)",
        "1-0:1.7.0(00.500*kW)",
        "1-0:32.7.0(2301.0*V)",
        "1-0:14.7.0(00.000*Hz)",
    ];
    let (ev, warnings, stats) = decode(Config::default(), &quirks::telegram("/ABC-MODEL", &lines, Crc::Upper));
    let r = readings(ev).remove(0);
    let q = r.quantities;
    // The import total would be the sum of the tariffs, one of them left out.
    assert_eq!((q.energy_import_t1_kwh, q.energy_import_t2_kwh, q.energy_import_kwh), (None, Some(100.0), None));
    assert_eq!((q.voltage_l1_v, q.frequency_hz, q.power_import_w), (None, None, Some(500.0)));
    assert_eq!(
        implausible(&warnings),
        [
            ("voltage_l1_v", 2301.0, Limit::Above(1000.0)),
            ("frequency_hz", 0.0, Limit::Below(40.0)),
            ("energy_import_t1_kwh", -1.0, Limit::Below(0.0)),
        ]
    );
    assert_eq!((stats.readings, stats.implausible), (1, 3));
    let codes: Vec<String> = r.obis.iter().map(|o| o.code.to_string()).collect();
    assert_eq!(codes, ["1-3:0.2.8", "0-0:1.0.0", "1-0:1.8.2", "1-0:1.7.0"]);
}
