//! Arbitrary bytes through `han::anonymise::Anonymiser`, in chunks: it never
//! panics, writes nothing but frames that decode (and the flags and line
//! ends between them), and every message it says it wrote decodes again,
//! without a key.
//!
//! Input layout: as `han_stream`'s (so its seeds serve here too):
//!
//! * byte 0, flags: bit 0 = use keys; bits 1-3 = which test key pair;
//!   bits 4-6 = framing mode; bit 7 = a time zone for offset-less clocks.
//! * byte 1: `k` = how many chunk-size bytes follow (`k % 16`).
//! * `k` bytes: chunk sizes, used in turn, cycling (0 = an empty push).
//! * the rest: the byte stream.
#![no_main]

use han::anonymise::Anonymiser;
use han::{Config, Decoder, Event, FramingMode, Tz};
use libfuzzer_sys::fuzz_target;

/// The published test keys of the encrypted sample captures (as `han_stream`).
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
    let cfg = Config { framing, key, auth_key, tz, ..Config::default() };
    let mut a = Anonymiser::new(cfg.clone(), [0x5A; 16]);
    let mut out = Vec::new();
    if sizes.is_empty() {
        a.push(stream);
    } else {
        let mut at = 0;
        for &size in sizes.iter().cycle() {
            if at >= stream.len() {
                break;
            }
            let end = (at + usize::from(size)).min(stream.len());
            a.push(&stream[at..end]);
            a.take_output(&mut out);
            at = end.max(at + usize::from(size == 0));
        }
    }
    a.finish();
    a.take_output(&mut out);
    let report = a.report().clone();
    // What was written decodes, without a key, to as many readings as
    // messages were written.
    let mut d = Decoder::new(Config { tz, ..Config::default() });
    d.push(&out);
    d.finish();
    let mut readings = 0u64;
    while let Some(e) = d.next_event() {
        if let Event::Reading(r) = e {
            assert!(!r.encrypted, "an encrypted message written");
            readings += 1;
        }
    }
    assert_eq!(readings, report.messages, "{report:?}");
    if report.messages == 0 {
        assert!(out.iter().all(|b| matches!(b, 0x7E | b'\r' | b'\n')), "bytes written with no message");
    }
});
