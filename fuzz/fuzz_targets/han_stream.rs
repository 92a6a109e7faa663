//! Arbitrary bytes through the streaming decoder, in chunks.
//!
//! Input layout (so that a real capture with a two-byte header is a good seed):
//!
//! * byte 0, flags: bit 0 = use keys; bits 1-3 = which test key pair;
//!   bits 4-6 = framing mode; bit 7 = a time zone for offset-less clocks.
//! * byte 1: `k` = how many chunk-size bytes follow (`k % 16`).
//! * `k` bytes: chunk sizes, used in turn, cycling (0 = an empty push).
//!   With `k == 0` the rest goes in as one push.
//! * the rest: the byte stream.
#![no_main]

use han::{Config, Decoder, Event, FramingMode, Reading, Tz};
use libfuzzer_sys::fuzz_target;

/// Published test keys (GUEK, GAK) of the encrypted sample captures, so that
/// seeds decrypt and the paths behind decryption are reached.
const KEYS: [([u8; 16], Option<[u8; 16]>); 5] = [
    (hex(b"F9897984D43D3108AAFC4DE19DA85713"), None),
    (hex(b"39436F513777354C4D466F4C5333674A"), None),
    (hex(b"34743677397A24432646294A404E6352"), Some(hex(b"C0C1C2C3C4C5C6C7C8C9CACBCCCDCECF"))),
    (hex(b"5FDE26FE7A1A36B6E1C0BA048FA9A023"), Some(hex(b"7DA42A44E00BD0AF5E1A911E3CCA64FD"))),
    (hex(b"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), Some(hex(b"00112233445566778899AABBCCDDEEFF"))),
];

const fn hex(s: &[u8; 32]) -> [u8; 16] {
    const fn nib(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'A'..=b'F' => c - b'A' + 10,
            _ => 0,
        }
    }
    let mut out = [0u8; 16];
    let mut i = 0;
    while i < 16 {
        out[i] = nib(s[2 * i]) << 4 | nib(s[2 * i + 1]);
        i += 1;
    }
    out
}

/// No reading carries a value no meter can have: the decoder leaves it out
/// (`han::plausible`), whatever the bytes.
fn in_range(r: &Reading) {
    use han::plausible::{FREQUENCY_HZ, MAX_CURRENT_A, MAX_POWER_W, MAX_VOLTAGE_V};
    let q = &r.quantities;
    for v in [q.voltage_l1_v, q.voltage_l2_v, q.voltage_l3_v].into_iter().flatten() {
        assert!((0.0..=MAX_VOLTAGE_V).contains(&v), "{v} V in a reading");
    }
    for v in [q.current_l1_a, q.current_l2_a, q.current_l3_a, q.current_neutral_a].into_iter().flatten() {
        assert!(v.abs() <= MAX_CURRENT_A, "{v} A in a reading");
    }
    for v in [q.power_import_w, q.power_export_w, q.reactive_power_import_var, q.reactive_power_export_var]
        .into_iter()
        .chain([q.demand_quarter_w, q.demand_month_peak_w])
        .flatten()
    {
        assert!(v.abs() <= MAX_POWER_W, "{v} W in a reading");
    }
    for v in [q.energy_import_kwh, q.energy_export_kwh, q.reactive_energy_import_kvarh, q.reactive_energy_export_kvarh]
        .into_iter()
        .flatten()
    {
        assert!(v >= 0.0, "{v} kWh in a reading");
    }
    if let Some(f) = q.frequency_hz {
        assert!((FREQUENCY_HZ.0..=FREQUENCY_HZ.1).contains(&f), "{f} Hz in a reading");
    }
    if let Some(pf) = q.power_factor {
        assert!((-1.0..=1.0).contains(&pf), "power factor {pf} in a reading");
    }
}

fn drain(d: &mut Decoder) {
    // Bounded: every event consumes input or a pending event; a decoder
    // that keeps producing events without consuming would be a bug.
    let mut n = 0usize;
    while let Some(e) = d.next_event() {
        if let Event::Reading(r) = &e {
            in_range(r);
        }
        std::hint::black_box(&e);
        // Warnings are bounded too, and each says something.
        let mut w = 0usize;
        while let Some(warning) = d.next_warning() {
            assert!(!warning.to_string().is_empty());
            w += 1;
            assert!(w <= 64, "more warnings kept than the decoder's bound");
        }
        n += 1;
        assert!(n < 1_000_000, "next_event keeps producing events");
    }
}

fuzz_target!(|data: &[u8]| {
    let [flags, k, rest @ ..] = data else { return };
    let k = usize::from(k % 16).min(rest.len());
    let (sizes, stream) = rest.split_at(k);

    let (key, auth_key) = if flags & 1 != 0 {
        let (key, ak) = KEYS[usize::from((flags >> 1) & 7) % KEYS.len()];
        (Some(key), ak)
    } else {
        (None, None)
    };
    let framing = match (flags >> 4) & 7 {
        1 => FramingMode::Hdlc,
        2 => FramingMode::Mbus,
        3 => FramingMode::Dsmr,
        4 => FramingMode::Llc,
        5 => FramingMode::Apdu,
        _ => FramingMode::Auto,
    };
    let tz = (flags & 0x80 != 0).then_some(Tz::Europe__Oslo);
    let mut d = Decoder::new(Config { framing, key, auth_key, tz, ..Config::default() });

    if sizes.is_empty() {
        d.push(stream);
        drain(&mut d);
    } else {
        let mut at = 0;
        for &size in sizes.iter().cycle() {
            if at >= stream.len() {
                break;
            }
            let end = (at + usize::from(size)).min(stream.len());
            d.push(&stream[at..end]);
            drain(&mut d);
            // An empty push still moves the loop on.
            at = end.max(at + usize::from(size == 0));
        }
    }
    d.finish();
    drain(&mut d);
    // Nothing may be left once the input has ended and been drained.
    assert_eq!(d.next_event().map(|_| ()), None);
});
