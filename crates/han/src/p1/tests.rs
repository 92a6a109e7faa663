use super::*;
use crate::framing::telegram::{Scan, frame_telegram, scan};
use crate::reading::value::{Decimal, Unit, Value};

/// A telegram with a valid CRC (`/` through `!` plus the 4 digits) and the
/// given line ending.
fn telegram(lines: &[&str], eol: &str) -> Vec<u8> {
    let mut t = String::new();
    for l in lines {
        t.push_str(l);
        t.push_str(eol);
    }
    t.push('!');
    let crc = crate::framing::crc::arc(t.as_bytes());
    format!("{t}{crc:04X}").into_bytes()
}

const LINES: &[&str] = &[
    "/ISk5\\2MT382-1000",
    "",
    "1-3:0.2.8(50)",
    "0-0:1.0.0(101209113020W)",
    "0-0:96.1.1(4B384547303034303436333935353037)",
    "1-0:1.8.1(123456.789*kWh)",
    "0-0:96.14.0(0002)",
    "1-0:1.7.0(01.193*kW)",
    "0-1:24.1.0(003)",
    "0-1:96.1.0(3232323241424344313233343536373839)",
    "0-1:24.2.1(101209112500W)(12785.123*m3)",
];

#[test]
fn scan_every_split_point() {
    let mut stream = telegram(LINES, "\r\n");
    let n = stream.len();
    stream.extend_from_slice(b"\r\n");
    for cut in 1..stream.len() {
        let got = scan(&stream[..cut], false, 4096);
        if cut >= n {
            assert_eq!(got, Scan::Complete(n), "cut {cut}");
        } else {
            assert_eq!(got, Scan::NeedMore, "cut {cut}");
        }
    }
    assert_eq!(scan(&stream, true, 4096), Scan::Complete(n));
}

#[test]
fn scan_lf_only() {
    let t = telegram(LINES, "\n");
    assert_eq!(scan(&t, false, 4096), Scan::Complete(t.len()));
    let r = decode_telegram(&t, None).unwrap();
    assert_eq!(r.list.as_deref(), Some("50"));
}

#[test]
fn scan_unpadded_crc() {
    // `!B9F` then CR LF: complete at the CR; without it, only at eof.
    let t = b"/NWA5 x\r\n\r\n1-0:1.8.1(1*kWh)\r\n!B9F";
    assert_eq!(scan(t, false, 4096), Scan::NeedMore);
    assert_eq!(scan(t, true, 4096), Scan::Complete(t.len()));
    let mut s = t.to_vec();
    s.extend_from_slice(b"\r\n");
    assert_eq!(scan(&s, false, 4096), Scan::Complete(t.len()));
    // No CRC at all (DSMR 2.2): complete once the line ends.
    assert_eq!(scan(b"/ISk5\r\n!", false, 4096), Scan::NeedMore);
    assert_eq!(scan(b"/ISk5\r\n!\r", false, 4096), Scan::Complete(8));
    // Lower-case digits count too; a fifth hex digit is not part of it.
    assert_eq!(scan(b"/X\r\n!abcdef", false, 4096), Scan::Complete(9));
}

#[test]
fn scan_restart_on_new_header() {
    let mut s = b"/ISk5 cut\r\n1-0:1.8.1(1*k".to_vec();
    s.extend_from_slice(b"\r\n");
    let off = s.len();
    s.extend_from_slice(&telegram(LINES, "\r\n"));
    assert_eq!(scan(&s, false, 4096), Scan::Restart(off));
    // A '/' inside a line is no header.
    assert_eq!(scan(b"/A\r\n0-0:96.13.0(a/b)\r\n", false, 4096), Scan::NeedMore);
}

#[test]
fn scan_junk_after_bang() {
    let mut s = b"/ESY5Q3DB1024 V3.04\r\n\r\n1-0:1.8.0*255(00052185.7825309*kWh)\r\n!\r\n  25803103\r\n".to_vec();
    s.extend_from_slice(&[0xFF; 33]);
    let end = s.iter().position(|b| *b == b'!').unwrap() + 1;
    assert_eq!(scan(&s, false, 4096), Scan::Complete(end));
    let r = decode_telegram(&s, None).unwrap();
    assert_eq!(r.manufacturer, Some("EasyMeter"));
    let o = r.obis.get(Obis::new(1, 0, 1, 8, 0, 255)).unwrap();
    assert_eq!(o.value, Value::Number(Decimal::new(521857825309, -7)));
    // 0xFF straight after '!' ends it too.
    assert_eq!(scan(b"/A\r\n!\xFF\xFF", false, 4096), Scan::Complete(5));
}

#[test]
fn scan_too_long() {
    let t = telegram(LINES, "\r\n");
    assert_eq!(scan(&t, false, 40), Scan::TooLong);
    assert_eq!(scan(&t[..39], false, 40), Scan::NeedMore);
    assert_eq!(scan(&t, false, t.len()), Scan::Complete(t.len()));
    assert_eq!(scan(&t, false, t.len() - 1), Scan::TooLong);
    assert_eq!(scan(b"/", false, 0), Scan::TooLong);
}

#[test]
fn decodes_a_telegram() {
    let t = telegram(LINES, "\r\n");
    let r = decode_telegram(&t, None).unwrap();
    assert_eq!(r.protocol, Protocol::P1);
    assert_eq!(r.framing, Framing::Dsmr);
    assert_eq!(r.manufacturer, Some("Iskra"));
    assert_eq!(r.meter_model.as_deref(), Some("\\2MT382-1000"));
    assert_eq!(r.meter_id.as_deref(), Some("K8EG004046395507"));
    assert_eq!(r.meter_time.unwrap().to_string(), "2010-12-09T11:30:20+01:00");
    let o = r.obis.get(Obis::new(1, 0, 1, 8, 1, 255)).unwrap();
    assert_eq!(o.value, Value::Number(Decimal::new(123456789, -3)));
    assert_eq!(o.unit, Some(Unit::known("kWh")));
    assert_eq!(r.obis.get(Obis::new(0, 0, 96, 14, 0, 255)).unwrap().value, Value::Text("0002".into()));
    assert_eq!(r.quantities.tariff, Some(2));
    assert_eq!(r.quantities.power_import_w, Some(1193.0));
    assert_eq!(r.quantities.gas_m3, Some(12785.123));
    assert_eq!(r.submeters.len(), 1);
    assert_eq!(r.submeters[0].kind, "gas");
    assert_eq!(r.submeters[0].time.unwrap().local.to_string(), "2010-12-09 11:25:00");
    // Object order is kept.
    let codes: Vec<String> = r.obis.iter().map(|o| o.code.to_string()).collect();
    assert_eq!(codes.first().map(String::as_str), Some("1-3:0.2.8"));
    assert_eq!(codes.last().map(String::as_str), Some("0-1:24.2.1"));
}

#[test]
fn crc_errors() {
    let mut t = telegram(LINES, "\r\n");
    let n = t.len();
    t[n - 1] = if t[n - 1] == b'0' { b'1' } else { b'0' };
    assert!(matches!(decode_telegram(&t, None), Err(Error::DsmrCrc { .. })));
    // DSMR 5 without a CRC.
    let bang = t.iter().position(|b| *b == b'!').unwrap();
    assert_eq!(decode_telegram(&t[..=bang], None), Err(Error::DsmrMissingCrc));
    // Lower-case CRC digits.
    let t = telegram(LINES, "\r\n").to_ascii_lowercase();
    let mut ok = telegram(LINES, "\r\n");
    let len = ok.len();
    ok[len - 4..].copy_from_slice(&t[len - 4..]);
    assert!(decode_telegram(&ok, None).is_ok());
}

#[test]
fn tolerant_lines() {
    let t = telegram(
        &[
            "/KFM5KAIFA-METER",
            "1-3:0.2.8(42)",
            "1-0:1.8.1 (000001.000*kWh)",
            "1,0:2.7.0(00.000*kW)",
            "0-0:96.13.0(3031323334",
            "35)",
            "9-9:9.9.9(abc)",
            "1-0:1.8.1(000002.000*kWh)",
            "0-1:24.1.0()",
            "0-1:96.1.0()",
            "0-1:24.2.1(632525252525S)(00000.000)",
            "0-0:1.0.0(000000000000W)",
        ],
        "\n",
    );
    let r = decode_telegram(&t, None).unwrap();
    assert!(r.meter_time.is_none());
    assert_eq!(r.obis.get(Obis::new(1, 0, 1, 8, 1, 255)).unwrap().value, Value::Number(Decimal::new(1000, -3)));
    // The duplicate is kept under the next free F group.
    assert_eq!(r.obis.get(Obis::new(1, 0, 1, 8, 1, 0)).unwrap().value, Value::Number(Decimal::new(2000, -3)));
    assert!(r.obis.get(Obis::new(1, 0, 2, 7, 0, 255)).is_none());
    assert_eq!(r.obis.get(Obis::new(9, 9, 9, 9, 9, 255)).unwrap().value, Value::Text("abc".into()));
    assert_eq!(r.obis.get(Obis::new(0, 0, 96, 13, 0, 255)).unwrap().text.as_deref(), Some("012345"));
    // A dead channel gives no sub-meter.
    assert!(r.submeters.is_empty());
    assert!(r.quantities.gas_m3.is_none());
}

#[test]
fn legacy_dsmr22_without_crc() {
    let t = b"/ISk5\\2MT382-1004\r\n\r\n0-0:96.1.1(00000000000000)\r\n1-0:1.8.1(00001.001*kWh)\r\n0-1:24.1.0(3)\r\n0-1:96.1.0(000000000000)\r\n0-1:24.3.0(161107190000)(00)(60)(1)(0-1:24.2.1)(m3)\r\n(00001.001)\r\n0-1:24.4.0(1)\r\n!";
    let r = decode_telegram(t, None).unwrap();
    assert_eq!(r.meter_id.as_deref(), Some("00000000000000"));
    assert!(r.list.is_none());
    let g = r.obis.get(Obis::new(0, 1, 24, 2, 1, 255)).unwrap();
    assert_eq!(g.value, Value::Number(Decimal::new(1001, -3)));
    assert_eq!(r.quantities.gas_m3, Some(1.001));
    assert_eq!(r.submeters[0].device_type, Some(3));
    assert_eq!(r.submeters[0].id.as_deref(), Some("000000000000"));
}

#[test]
fn never_panics_on_prefixes_and_noise() {
    let t = telegram(LINES, "\r\n");
    for cut in 0..=t.len() {
        let _ = decode_telegram(&t[..cut], None);
        let _ = scan(&t[..cut], false, 4096);
        let _ = frame_telegram(&t[..cut]);
    }
    let mut x: u32 = 12345;
    for _ in 0..2000 {
        let mut m = t.clone();
        for _ in 0..3 {
            x = x.wrapping_mul(1103515245).wrapping_add(12345);
            let i = (x as usize >> 8) % m.len();
            m[i] = (x >> 16) as u8;
        }
        let _ = decode_telegram(&m, None);
        if m.first() == Some(&b'/') {
            let _ = scan(&m, true, 4096);
        }
    }
    for junk in [
        &b"/"[..],
        b"/!",
        b"/\n!",
        b"/(((!",
        b"/1-0:1.8.1((((\n!",
        b"/\n1-0:99.97.0(\n!",
        b"/\n0-0:98.1.0(1)(1-0:1.6.0)\n!",
    ] {
        let _ = decode_telegram(junk, None);
    }
}

#[test]
fn frames_the_first_telegram() {
    let mut s = b"garbage/ISk5 cut\r\n1-0:1".to_vec();
    s.extend_from_slice(b"\r\n");
    let t = telegram(LINES, "\r\n");
    s.extend_from_slice(&t);
    s.extend_from_slice(b"\r\n/next");
    assert_eq!(frame_telegram(&s), Some(&t[..]));
    assert_eq!(frame_telegram(b"no telegram"), None);
    assert_eq!(frame_telegram(b"/ISk5\r\n1-0:1.8.1(1*kWh)\r\n"), None);
}

#[test]
fn rejects_what_is_not_a_telegram() {
    // Binary between a '/' and a '!' (ciphertext) is no telegram.
    assert!(matches!(decode_telegram(b"/\x86\xbf\xd1\x95\xcc6'!", None), Err(Error::DsmrFormat(_))));
    // A header but no CRC and no data lines: nothing vouches for it.
    assert!(matches!(decode_telegram(b"/ABC5\r\n\r\n!", None), Err(Error::DsmrFormat(_))));
    // With a CRC, an empty telegram is fine.
    let t = telegram(&["/abc5", ""], "\r\n");
    assert!(decode_telegram(&t, None).unwrap().obis.is_empty());
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(mut data in proptest::collection::vec(proptest::num::u8::ANY, 0..600), eof: bool, max in 0usize..700) {
        let _ = decode_telegram(&data, None);
        let _ = frame_telegram(&data);
        data.insert(0, b'/');
        let _ = scan(&data, eof, max);
        let _ = decode_telegram(&data, None);
    }

    #[test]
    fn telegram_like_lines_never_panic(lines in proptest::collection::vec("[0-9:\\-\\.*()!/A-Za-z ]{0,40}", 0..20)) {
        let mut t = b"/ISk5\\2MT382-1000\r\n\r\n".to_vec();
        for l in &lines {
            t.extend_from_slice(l.as_bytes());
            t.extend_from_slice(b"\r\n");
        }
        t.push(b'!');
        let _ = decode_telegram(&t, None);
        let _ = scan(&t, true, 4096);
    }
}

/// CPU time of this thread in ns (`/proc/thread-self/schedstat`), which a
/// busy machine does not inflate the way it does wall time.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

/// Telegrams per CPU second through the stream decoder, as the bench feeds
/// them. Run in an optimised build:
/// `cargo test -p han --profile bench --lib -- --ignored --nocapture dsmr_cpu_throughput`.
#[test]
#[ignore]
fn dsmr_cpu_throughput() {
    let stream: Vec<u8> = (0..1000u32).flat_map(crate::encode::samples::dsmr5).collect();
    let mut d = crate::Decoder::new(crate::Config::default());
    let run = |d: &mut crate::Decoder| {
        d.push(&stream);
        let mut n = 0;
        while let Some(ev) = d.next_event() {
            if let crate::Event::Reading(r) = ev {
                n += 1;
                std::hint::black_box(r);
            }
        }
        n
    };
    assert_eq!(run(&mut d), 1000);
    let t0 = thread_cpu_ns();
    let w0 = std::time::Instant::now();
    let mut n = 0u64;
    while thread_cpu_ns() - t0 < 3_000_000_000 {
        n += run(&mut d) as u64;
    }
    let cpu = (thread_cpu_ns() - t0) as f64 / 1e9;
    let wall = w0.elapsed().as_secs_f64();
    println!("{n} telegrams: {:.0}/s of CPU time, {:.0}/s of wall time", n as f64 / cpu, n as f64 / wall);
}
