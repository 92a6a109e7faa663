//! DSMR P1: the telegram decoder directly, and the streaming decoder in
//! DSMR framing mode (without keys, with the Smarty test keys, and with the
//! encryption key alone).
#![no_main]

use han::{Config, Decoder, FramingMode, Tz};
use libfuzzer_sys::fuzz_target;

/// The Luxembourg Smarty sample's published test key, and the Smarty GAK.
const KEY: [u8; 16] = [0xAA; 16];
const AUTH_KEY: [u8; 16] =
    [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF];

fn stream(data: &[u8], key: Option<[u8; 16]>, auth_key: Option<[u8; 16]>, tz: Option<Tz>) {
    let mut d = Decoder::new(Config { framing: FramingMode::Dsmr, key, auth_key, tz, ..Config::default() });
    // Two pushes, split in the middle, so the "need more" paths are taken.
    let (a, b) = data.split_at(data.len() / 2);
    for part in [a, b] {
        d.push(part);
        drain(&mut d);
    }
    d.finish();
    drain(&mut d);
}

fn drain(d: &mut Decoder) {
    while let Some(e) = d.next_event() {
        std::hint::black_box(&e);
        while let Some(w) = d.next_warning() {
            std::hint::black_box(w.to_string());
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let _ = std::hint::black_box(han::dsmr::decode_telegram(data, None));
    let _ = std::hint::black_box(han::dsmr::decode_telegram(data, Some(&Tz::Europe__Amsterdam)));
    stream(data, None, None, None);
    stream(data, Some(KEY), Some(AUTH_KEY), Some(Tz::Europe__Luxembourg));
    // The encryption key alone: frames whose tag the Smarty key does not fit
    // are decrypted unchecked and must still be a telegram.
    stream(data, Some(KEY), None, None);
});
