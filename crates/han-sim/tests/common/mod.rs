//! Helpers shared by the han-sim tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use han::{Config, Decoder, Event, Reading};
#[allow(unused_imports)] // the tests but cli.rs use it
pub use han_testkit::at;

/// Decodes a byte stream; panics on any rejected frame.
pub fn decode_all(bytes: &[u8], cfg: Config) -> Vec<Reading> {
    let mut dec = Decoder::new(cfg);
    let mut out = Vec::new();
    // Odd chunk sizes, as a serial port delivers them.
    for chunk in bytes.chunks(97) {
        dec.push(chunk);
        drain(&mut dec, &mut out);
    }
    dec.finish();
    drain(&mut dec, &mut out);
    out
}

fn drain(dec: &mut Decoder, out: &mut Vec<Reading>) {
    while let Some(e) = dec.next_event() {
        match e {
            Event::Reading(r) => out.push(*r),
            Event::Rejected { error, bytes } => {
                panic!("rejected: {error} ({} bytes: {:02X?})", bytes.len(), &bytes[..bytes.len().min(64)])
            }
        }
        // A simulated meter is a real one: nothing it sends is implausible.
        while let Some(w) = dec.next_warning() {
            assert!(!matches!(w, han::Warning::Implausible(_)), "{w}");
        }
    }
}
