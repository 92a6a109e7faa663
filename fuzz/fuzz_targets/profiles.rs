//! The meter profile loader (`han-read --meter-profile`): any text parses
//! to profiles or to an error inside the text; profiles that load decode
//! a few lists (bare values, coded values, a Swiss push) without a panic,
//! and the draft profile of a list always loads again.
#![no_main]

use han::encode::{Axdr, data_notification, hdlc_push};
use han::profiles::{MeterProfiles, draft};
use han::{Config, Obis, decode_message};
use libfuzzer_sys::fuzz_target;

/// Lists for the profiles to describe: bare values with a list id, flat
/// OBIS/value pairs without scalers, one bare value, a push setup's name
/// and bare values, a logical device name.
fn apdus() -> Vec<Vec<u8>> {
    let mut bare = Axdr::new();
    bare.structure(5).visible("ACME_X3_V1").octets(b"12345678").u16(2347).u32(1_234_567).u32(0);
    let mut pairs = Axdr::new();
    pairs.structure(6).obis(Obis::new(1, 0, 1, 8, 0, 255)).u32(12_048_950);
    pairs.obis(Obis::new(1, 1, 32, 7, 0, 255)).u16(2347).obis(Obis::new(0, 0, 42, 0, 0, 255)).octets(b"LGZ1030653520967");
    let mut one = Axdr::new();
    one.structure(1).u32(500);
    let mut push = Axdr::new();
    push.structure(4).obis(Obis::new(0, 6, 25, 9, 0, 255)).octets(b"ISK1030783821282").u16(2347).u16(12);
    [bare, pairs, one, push].iter().map(|a| data_notification(1, None, &a.0)).collect()
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let profiles = match MeterProfiles::parse(&text) {
        Ok(p) => p,
        Err(e) => {
            // The error points into the text.
            let lines = text.lines().count().max(1);
            assert!(e.line >= 1 && e.line <= lines + 1, "line {} of {lines}: {e}", e.line);
            assert!(e.column >= 1, "{e}");
            assert!(!e.message.is_empty());
            return;
        }
    };
    let cfg = Config { profiles: profiles.clone(), ..Config::default() };
    for apdu in apdus() {
        let _ = decode_message(&hdlc_push(&apdu), &cfg);
        if let Some(d) = draft(&apdu, &profiles) {
            let again = MeterProfiles::parse(&d.text).unwrap_or_else(|e| panic!("the draft loads: {e}\n{}", d.text));
            assert!(draft(&apdu, &again).is_none(), "a loaded draft describes its list");
        }
    }
});
