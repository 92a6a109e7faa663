use super::*;
use crate::framing::{LLC, hdlc};

fn events(cfg: Config, bytes: &[u8]) -> Vec<Event> {
    let mut d = Decoder::new(cfg);
    d.push(bytes);
    d.finish();
    std::iter::from_fn(|| d.next_event()).collect()
}

/// A bare data-notification pushed a byte at a time: the decoder must
/// wait when a chunk ends inside the array's element count, not reject.
#[test]
fn bare_notification_split_inside_a_length() {
    let msg = [0x0F, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x01, 0x06, 0x00, 0x00, 0x01, 0x2C];
    let mut d = Decoder::new(Config { framing: FramingMode::Apdu, ..Config::default() });
    let mut ev = Vec::new();
    for b in msg.chunks(1) {
        d.push(b);
        ev.extend(std::iter::from_fn(|| d.next_event()));
    }
    d.finish();
    ev.extend(std::iter::from_fn(|| d.next_event()));
    assert!(matches!(&ev[..], [Event::Reading(_)]), "{ev:?}");
}

/// Telegrams read in chunks that end right after a CRC line's CR LF: no
/// resync counted (han-read's counters said "resyncs" for every such chunk).
#[test]
fn a_chunk_ending_after_a_telegram_is_no_resync() {
    let one = crate::encode::samples::dsmr5(1);
    let mut d = Decoder::new(Config::default());
    let mut readings = 0;
    for _ in 0..3 {
        d.push(&one);
        readings += std::iter::from_fn(|| d.next_event()).filter(|e| matches!(e, Event::Reading(_))).count();
    }
    d.finish();
    readings += std::iter::from_fn(|| d.next_event()).filter(|e| matches!(e, Event::Reading(_))).count();
    assert_eq!(readings, 3);
    assert_eq!((d.stats().resyncs, d.stats().skipped_bytes), (0, 0));
    // Real noise still counts.
    let mut d = Decoder::new(Config::default());
    d.push(b"xx");
    d.finish();
    while d.next_event().is_some() {}
    assert_eq!(d.stats().resyncs, 1);
}

/// General block transfer around an unencrypted (SC 0) ciphered APDU
/// around another block transfer: rejected. Nested like this as deep as
/// 64 KiB allow, it recursed ~2,200 times and overflowed the stack.
#[test]
fn block_transfer_in_ciphering_in_block_transfer() {
    let cfg = Config { framing: FramingMode::Apdu, ..Config::default() };
    #[rustfmt::skip]
    let nested = [
        0xE0, 0x80, 0x00, 0x01, 0x00, 0x00, 0x22,
        0xDB, 0x08, 0x4B, 0x46, 0x4D, 0x00, 0x00, 0x00, 0x00, 0x01, 0x17, 0x00, 0x00, 0x00, 0x00, 0x01,
        0xE0, 0x80, 0x00, 0x01, 0x00, 0x00, 0x0B,
        0x0F, 0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 0x00, 0x00, 0x00, 0x01,
    ];
    let ev = events(cfg.clone(), &nested);
    assert!(
        matches!(&ev[..], [Event::Rejected { error: Error::Segment("block transfer inside block transfer"), .. }]),
        "{ev:?}"
    );
    // One block transfer around the ciphering is fine.
    let ev = events(cfg, &nested[23..]);
    assert!(matches!(&ev[..], [Event::Reading(_)]), "{ev:?}");

    // The deep version, on a small stack: rejected, not a stack overflow.
    let mut m = nested[30..].to_vec();
    while m.len() < 60_000 {
        let mut g = vec![0xE0, 0x80, 0x00, 0x01, 0x00, 0x00, 0x82];
        g.extend_from_slice(&u16::try_from(m.len()).unwrap().to_be_bytes());
        g.extend_from_slice(&m);
        m = vec![0xDB, 0x08, 0x4B, 0x46, 0x4D, 0x00, 0x00, 0x00, 0x00, 0x01, 0x82];
        m.extend_from_slice(&u16::try_from(g.len() + 5).unwrap().to_be_bytes());
        m.extend_from_slice(&[0x00, 0x00, 0x00, 0x00, 0x01]);
        m.extend_from_slice(&g);
    }
    let mut payload = LLC.to_vec();
    payload.extend_from_slice(&m);
    let chunks: Vec<&[u8]> = payload.chunks(2000).collect();
    let mut stream = Vec::new();
    for (i, c) in chunks.iter().enumerate() {
        stream.extend(hdlc::encode(&[0x41], &[0x08, 0x83], i + 1 < chunks.len(), c));
    }
    let ev = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || events(Config::default(), &stream).len())
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(ev, 1);
}

/// The lines with CR LF ends, and the `!` that the CRC covers.
fn body(lines: &[&str]) -> String {
    let mut t = String::new();
    for l in lines {
        t.push_str(l);
        t.push_str("\r\n");
    }
    t.push('!');
    t
}

/// A telegram with these lines (`/` line first), CR LF ends, and a CRC
/// written with `digits` hex digits (0 = none), upper or lower case.
fn telegram(lines: &[&str], digits: usize, lower: bool) -> Vec<u8> {
    let t = body(lines);
    let crc = crate::framing::crc::arc(t.as_bytes());
    let hex = match (digits, lower) {
        (0, _) => String::new(),
        (n, false) => format!("{crc:0n$X}"),
        (n, true) => format!("{crc:0n$x}"),
    };
    format!("{t}{hex}\r\n").into_bytes()
}

/// Identification lines that real devices send off the `/XXX5` pattern
/// (a district-heating interface's `-` or letter in the baud-rate place,
/// lower-case maker letters, `\` identifications, a stray 0x02 byte) are
/// telegrams like any other: decoded, not skipped as noise.
#[test]
fn identification_lines_off_the_pattern() {
    let cases: [(&str, Option<&str>, Option<&str>); 12] = [
        ("/ABC-MODEL", None, Some("MODEL")),
        ("/ABCDMODEL", None, Some("MODEL")),
        ("/ISk5\\2MT382-1000", Some("Iskra"), Some("\\2MT382-1000")),
        ("/ISk5\x022MT382-1000", Some("Iskra"), Some("2MT382-1000")),
        ("/FLU5\\253769484_A", Some("Fluvius"), Some("\\253769484_A")),
        ("/ADN9 6534", Some("Aidon"), Some("6534")),
        ("/Lux5\\CU12345678", Some("Sagemcom"), Some("\\CU12345678")),
        ("/ESY5Q3DA1004 V3.04", Some("EasyMeter"), Some("Q3DA1004 V3.04")),
        ("/kfm5KAIFA-METER", Some("Kaifa"), Some("KAIFA-METER")),
        ("/NWA5 Warmtelink", None, Some("Warmtelink")),
        ("/12-heat interface", None, Some("12-heat interface")),
        ("/", None, None),
    ];
    for (ident, maker, model) in cases {
        let t = telegram(&[ident, "", "1-0:1.8.1(000123.456*kWh)", "1-0:1.7.0(01.193*kW)"], 4, false);
        let mut d = Decoder::new(Config::default());
        // Byte by byte, as a slow serial port gives it.
        let mut ev = Vec::new();
        for b in t.chunks(1) {
            d.push(b);
            ev.extend(std::iter::from_fn(|| d.next_event()));
        }
        d.finish();
        ev.extend(std::iter::from_fn(|| d.next_event()));
        let [Event::Reading(r)] = &ev[..] else { panic!("{ident:?}: {ev:?}") };
        assert_eq!(r.quantities.power_import_w, Some(1193.0), "{ident:?}");
        assert_eq!(r.quantities.energy_import_t1_kwh, Some(123.456), "{ident:?}");
        assert_eq!((r.manufacturer, r.meter_model.as_deref()), (maker, model), "{ident:?}");
        assert_eq!((d.stats().resyncs, d.stats().skipped_bytes), (0, 0), "{ident:?}");
    }
}

/// A `/` in noise or text is still no telegram: what follows its line is
/// not a data line. Nothing is held back waiting for one either.
#[test]
fn a_slash_in_text_or_binary_is_no_telegram() {
    use crate::framing::bare::dsmr_plausible;
    assert_eq!(dsmr_plausible(b"/usr/bin/han-read\nis a program\n"), Some(false));
    assert_eq!(dsmr_plausible(b"/ABC5\r\n\r\n1-0:1.8.1(1*kWh)"), Some(true));
    assert_eq!(dsmr_plausible(b"/ABC5\r\n1-0"), None);
    assert_eq!(dsmr_plausible(b"/ABC5\r\n1-0:"), Some(true));
    assert_eq!(dsmr_plausible(b"/ABC5\r\n\r\n!1234"), Some(true));
    assert_eq!(dsmr_plausible(b"/ABC5\r\n\r\n\r\n\r\n\r\n\r\n1-0:1.8.1(1*kWh)"), Some(false));
    assert_eq!(dsmr_plausible(b"/ABC5\r\n1234-0:"), Some(false));
    assert_eq!(dsmr_plausible(b"/AB\x00C5\r\n1-0:"), Some(false));
    assert_eq!(dsmr_plausible(b"/ABC5"), None);
    // Noise right before a telegram: the later `/` starts it.
    assert_eq!(dsmr_plausible(b"/g/ISk5\r\n\r\n1-0:1.8.1(1*kWh)"), Some(false));
    assert_eq!(dsmr_plausible(b"/g/"), Some(false));
    assert_eq!(dsmr_plausible(&[b'/'; 300]), Some(false));
    let text = b"See [docs/han-read.md](docs/han-read.md) and https://example.org/p1/port!\n";
    let ev = events(Config::default(), text);
    assert!(ev.is_empty(), "{ev:?}");
}

/// A telegram off the pattern whose CRC is wrong is rejected for its
/// checksum and counted, never skipped without a word.
#[test]
fn a_damaged_telegram_off_the_pattern_is_counted() {
    let mut t = telegram(&["/ABC-MODEL", "", "1-3:0.2.8(50)", "1-0:1.7.0(01.193*kW)"], 4, false);
    let at = t.iter().position(|b| *b == b'9').unwrap();
    t[at] = b'8';
    let mut d = Decoder::new(Config::default());
    d.push(&t);
    d.finish();
    let ev: Vec<Event> = std::iter::from_fn(|| d.next_event()).collect();
    assert!(matches!(&ev[..], [Event::Rejected { error: Error::DsmrCrc { .. }, .. }]), "{ev:?}");
    assert_eq!(d.stats().bad_checksum, 1);
}

proptest::proptest! {
    /// Any identification line (the `XXXZ` form with any maker letters and
    /// baud-rate character, or free text), with or without the blank line,
    /// and a CRC of 0-4 hex digits in either case (unpadded when shorter
    /// than four; none only where the version does not require one), read
    /// in chunks of any size: one reading with the values of the lines.
    #[test]
    fn any_identification_and_crc_form(
        maker in "[A-Za-z]{3}",
        baud in "[0-9A-Za-z\\-\\\\ ]",
        rest in "[ -.0-~]{0,30}",
        free in proptest::option::of("[ -.0-~]{0,40}"),
        blank: bool,
        digits in 0usize..=4,
        lower: bool,
        chunk in 1usize..80,
        watts in 0u32..99_999,
        wh in 0u64..999_999_999,
    ) {
        let ident = match &free {
            Some(text) => format!("/{text}"),
            None => format!("/{maker}{baud}{rest}"),
        };
        let power = format!("1-0:1.7.0({:02}.{:03}*kW)", watts / 1000, watts % 1000);
        let energy = format!("1-0:1.8.1({:06}.{:03}*kWh)", wh / 1000, wh % 1000);
        let mut lines = vec![ident.as_str()];
        if blank {
            lines.push("");
        }
        // DSMR 4 and later must carry a CRC: state it only when there is one.
        if digits > 0 {
            lines.push("1-3:0.2.8(50)");
        }
        lines.extend([energy.as_str(), power.as_str()]);
        let crc = crate::framing::crc::arc(body(&lines).as_bytes());
        // Fewer than four digits only where they can hold the CRC (unpadded).
        let needed = format!("{crc:X}").len();
        let digits = if digits == 0 { 0 } else { digits.max(needed) };
        let t = telegram(&lines, digits, lower);

        let mut d = Decoder::new(Config::default());
        let mut ev = Vec::new();
        for c in t.chunks(chunk) {
            d.push(c);
            ev.extend(std::iter::from_fn(|| d.next_event()));
        }
        d.finish();
        ev.extend(std::iter::from_fn(|| d.next_event()));
        let [Event::Reading(r)] = &ev[..] else { panic!("{ident:?} {digits} digits: {ev:?}") };
        proptest::prop_assert_eq!(r.quantities.power_import_w, Some(f64::from(watts)));
        proptest::prop_assert_eq!(r.quantities.energy_import_t1_kwh, Some(wh as f64 / 1000.0));
        if free.is_none() {
            let model = rest.trim();
            proptest::prop_assert_eq!(r.meter_model.as_deref(), (!model.is_empty()).then_some(model));
        }
        proptest::prop_assert_eq!((d.stats().resyncs, d.stats().skipped_bytes), (0, 0));

        // The same telegram with a wrong CRC: rejected for it, counted.
        if digits > 0 {
            let mut bad = t.clone();
            let end = bad.len() - 2;
            let wrong = format!("{:04X}", crc ^ 0x0100);
            bad.splice(end - digits..end, wrong.bytes());
            let mut d = Decoder::new(Config::default());
            d.push(&bad);
            d.finish();
            let ev: Vec<Event> = std::iter::from_fn(|| d.next_event()).collect();
            proptest::prop_assert!(matches!(&ev[..], [Event::Rejected { error: Error::DsmrCrc { .. }, .. }]), "{:?}", ev);
        }
    }
}

/// An Aidon-style list 2 (NEK, self-describing items with scalers) with
/// these raw values: P+ (W), I L1 (0.1 A), U L1 and U L2 (0.1 V).
fn aidon_apdu(p: u32, i1: i16, u1: u16, u2: u16) -> Vec<u8> {
    use crate::encode::{Axdr, data_notification};
    let e = |c| crate::Obis::new(1, 0, c, 7, 0, 255);
    let mut a = Axdr::new();
    a.array(5);
    a.structure(2).obis(crate::Obis::new(1, 1, 0, 2, 129, 255)).visible("AIDON_V0001");
    a.structure(3).obis(e(1)).u32(p).scaler_unit(0, 27);
    a.structure(3).obis(e(31)).i16(i1).scaler_unit(-1, 33);
    a.structure(3).obis(e(32)).u16(u1).scaler_unit(-1, 35);
    a.structure(3).obis(e(52)).u16(u2).scaler_unit(-1, 35);
    data_notification(0x4000_0000, None, &a.0)
}

fn readings_and_warnings(d: &mut Decoder, bytes: &[u8]) -> (Vec<Event>, Vec<Warning>) {
    d.push(bytes);
    let mut ev = Vec::new();
    let mut warnings = Vec::new();
    while let Some(e) = d.next_event() {
        ev.push(e);
        warnings.extend(std::iter::from_fn(|| d.next_warning()));
    }
    (ev, warnings)
}

/// Security control 0x30 (encrypted and authenticated) with only the
/// encryption key: decrypted, said once that authenticity was not checked,
/// counted every time. A wrong key is its own error; both keys check the
/// tag as ever.
#[test]
fn encryption_key_alone_on_an_authenticated_frame() {
    let (title, key, ak) = (*b"LGZ\x10\x20\x30\x40\x50", [0x11; 16], [0x22; 16]);
    let frame = |ic| {
        crate::encode::hdlc_push(&crate::dlms::apdu::encrypt(
            &title,
            0x30,
            ic,
            &aidon_apdu(1150, 50, 2300, 2310),
            &key,
            &ak,
        ))
    };
    let only_key = Config { key: Some(key), ..Config::default() };
    let mut d = Decoder::new(only_key);
    let (ev, warnings) = readings_and_warnings(&mut d, &[frame(1), frame(2)].concat());
    assert_eq!(ev.len(), 2, "{ev:?}");
    for e in &ev {
        let Event::Reading(r) = e else { panic!("{ev:?}") };
        assert!(r.encrypted);
        assert_eq!((r.quantities.power_import_w, r.quantities.current_l1_a), (Some(1150.0), Some(5.0)));
        assert_eq!(r.manufacturer, Some("Aidon"));
    }
    assert_eq!(warnings, [Warning::Unauthenticated { security_control: 0x30 }]);
    assert_eq!(d.stats().unauthenticated, 2);

    // A wrong encryption key: the wrong-key error, no reading, no warning.
    let mut d = Decoder::new(Config { key: Some([0x12; 16]), ..Config::default() });
    let (ev, warnings) = readings_and_warnings(&mut d, &frame(3));
    assert!(matches!(&ev[..], [Event::Rejected { error: Error::WrongKey, .. }]), "{ev:?}");
    assert_eq!((warnings.len(), d.stats().unauthenticated), (0, 0));
    assert_eq!(Error::WrongKey.kind(), "wrong-key");

    // Both keys: the tag checked, nothing to say; a wrong one fails it.
    let mut d = Decoder::new(Config { key: Some(key), auth_key: Some(ak), ..Config::default() });
    let (ev, warnings) = readings_and_warnings(&mut d, &frame(4));
    assert!(matches!(&ev[..], [Event::Reading(_)]) && warnings.is_empty(), "{ev:?} {warnings:?}");
    let mut d = Decoder::new(Config { key: Some(key), auth_key: Some([0x23; 16]), ..Config::default() });
    let (ev, _) = readings_and_warnings(&mut d, &frame(5));
    assert!(matches!(&ev[..], [Event::Rejected { error: Error::AuthFailed, .. }]), "{ev:?}");

    // No key at all: the missing-key error.
    let (ev, _) = readings_and_warnings(&mut Decoder::new(Config::default()), &frame(6));
    assert!(matches!(&ev[..], [Event::Rejected { error: Error::MissingKey(0x30), .. }]), "{ev:?}");
}

/// A wrong key on an encrypted-only frame (SC 0x20) whose noise happens to
/// start like a data-notification is still the wrong-key error, not a
/// reading of noise: the A-XDR must end where the plaintext does.
#[test]
fn noise_that_starts_like_a_notification_is_a_wrong_key() {
    use crate::dlms::cipher::{Check, Keys, open};
    let title = *b"KFM\x10\x20\x02\x98\x02";
    let plain = aidon_apdu(1150, 50, 2300, 2310);
    // Find a wrong key whose noise begins `0F ....` with a valid date-time
    // byte, by trying keys (about 1 in 30 000 does).
    let sealed = crate::dlms::cipher::seal(&title, 0x20, 7, &plain, &[0x31; 16], &[0; 16]);
    let wrong = (0u32..2_000_000)
        .map(|n| {
            let mut k = [0u8; 16];
            k[..4].copy_from_slice(&n.to_be_bytes());
            k
        })
        .find(|k| {
            let keys = Keys { key: Some(*k), auth_key: None };
            let (p, check) = open(&title, 0x20, 7, &sealed, &keys).unwrap();
            check == Check::NoTag && p[0] == 0x0F && matches!((p[5], p[6]), (0x00, _) | (0x0C, _) | (0x09, 0x0C))
        })
        .expect("a key whose noise looks like a notification");
    let frame = crate::encode::hdlc_push(&crate::dlms::apdu::encrypt(&title, 0x20, 7, &plain, &[0x31; 16], &[0; 16]));
    let ev = events(Config { key: Some(wrong), ..Config::default() }, &frame);
    assert!(matches!(&ev[..], [Event::Rejected { error: Error::WrongKey, .. }]), "{ev:?}");
    let ev = events(Config { key: Some([0x31; 16]), ..Config::default() }, &frame);
    assert!(matches!(&ev[..], [Event::Reading(_)]), "{ev:?}");
}

/// A value no meter can have is left out of the reading and reported, in
/// a reading decoded in full and in one made from its template alike; the
/// template itself keeps what the bytes say, so the next good value comes
/// through.
#[test]
fn implausible_values_are_left_out_and_said() {
    // U L2 0xFFFF x 0.1 V = 6553.5 V: above 1000 V.
    let bad = |p| crate::encode::hdlc_push(&aidon_apdu(p, 50, 2300, 0xFFFF));
    let good = crate::encode::hdlc_push(&aidon_apdu(1152, 50, 2300, 2310));
    let mut d = Decoder::new(Config::default());
    let (ev, warnings) = readings_and_warnings(&mut d, &[bad(1150), bad(1151), good].concat());
    let readings: Vec<&Reading> =
        ev.iter().map(|e| if let Event::Reading(r) = e { &**r } else { panic!("{ev:?}") }).collect();
    assert_eq!(readings.len(), 3);
    for r in &readings[..2] {
        assert_eq!((r.quantities.voltage_l1_v, r.quantities.voltage_l2_v), (Some(230.0), None));
        assert!(r.obis.get(crate::Obis::new(1, 0, 52, 7, 0, 255)).is_none());
    }
    assert_eq!(readings[1].quantities.power_import_w, Some(1151.0));
    assert_eq!(readings[2].quantities.voltage_l2_v, Some(231.0));
    assert_eq!(warnings.len(), 2);
    let Warning::Implausible(i) = &warnings[0] else { panic!("{warnings:?}") };
    assert_eq!((i.quantity, i.value, i.limit), ("voltage_l2_v", 6553.5, crate::Limit::Above(1000.0)));
    assert_eq!(
        warnings[0].to_string(),
        "implausible value left out of a reading: voltage_l2_v 6553.5 V (1-0:52.7.0) is above 1000 V"
    );
    assert_eq!(d.stats().implausible, 2);
    assert_eq!(d.stats().readings, 3);
    // Lent readings get the same.
    let mut d = Decoder::new(Config::default());
    d.push(&[bad(1150), bad(1151)].concat());
    let mut n = 0;
    while let Some(e) = d.next_event_ref() {
        let EventRef::Reading(r) = e else { panic!("{e:?}") };
        assert_eq!(r.quantities.voltage_l2_v, None);
        n += 1;
    }
    assert_eq!((n, d.stats().implausible), (2, 2));
}

/// An identification with an M-Bus-like start in it (`h\\h`: 68 5C 5C 68)
/// and a wrong CRC: one rejection, not a second for the frame that seemed
/// to start inside it (whether it then runs out or has no stop byte).
#[test]
fn a_rejected_telegram_is_not_rejected_again_from_inside() {
    for ident in ["/aah\\\\h", "/aah\\\\hA  A      A0     AA"] {
        let lines = [ident, "1-3:0.2.8(50)", "1-0:1.8.1(000000.000*kWh)", "1-0:1.7.0(00.000*kW)"];
        let mut t = telegram(&lines, 4, false);
        let end = t.len() - 2;
        let crc = crate::framing::crc::arc(body(&lines).as_bytes());
        t.splice(end - 4..end, format!("{:04X}", crc ^ 0x0100).bytes());
        let mut d = Decoder::new(Config::default());
        d.push(&t);
        d.finish();
        let ev: Vec<Event> = std::iter::from_fn(|| d.next_event()).collect();
        assert!(matches!(&ev[..], [Event::Rejected { error: Error::DsmrCrc { .. }, .. }]), "{ident}: {ev:?}");
    }
}
