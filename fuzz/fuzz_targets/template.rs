//! Decoding against a template gives what decoding from scratch gives.
//!
//! The stream's messages (the APDUs the decoder sees, decrypted, and the
//! DSMR telegrams) are framed again, each followed by a copy with bytes
//! changed (HDLC frames made anew, DSMR CRCs made right), so that checksums
//! hold and the changed copy meets the template of the original. Then the new
//! stream is decoded both ways (`Config::full_decode` off, readings handed
//! over and lent, and on) and every event must be the same.
//!
//! Input layout: byte 0 flags (bit 0: a time zone); byte 1: `n` (`n % 8`)
//! changes of three bytes each (offset, big-endian u16, and the xor mask);
//! the rest: a byte stream (a capture is a good seed, after `\x00\x00`).
#![no_main]

use std::sync::{Arc, Mutex};

use han::encode::hdlc_push;
use han::{Config, Decoder, Event, EventRef, Framing, Seen, Tz};
use libfuzzer_sys::fuzz_target;

fn events(cfg: Config, stream: &[u8], lent: bool) -> Vec<String> {
    let mut d = Decoder::new(cfg);
    d.push(stream);
    d.finish();
    let mut out = Vec::new();
    if lent {
        while let Some(e) = d.next_event_ref() {
            out.push(match e {
                EventRef::Reading(r) => format!("{r:?}"),
                EventRef::Rejected { error, bytes } => format!("{error} {bytes:?}"),
            });
            out.extend(std::iter::from_fn(|| d.next_warning()).map(|w| format!("warning: {w}")));
        }
        return out;
    }
    while let Some(e) = d.next_event() {
        match e {
            Event::Reading(r) => {
                out.push(format!("{r:?}"));
                d.recycle(r);
            }
            Event::Rejected { error, bytes } => out.push(format!("{error} {bytes:?}")),
        }
        out.extend(std::iter::from_fn(|| d.next_warning()).map(|w| format!("warning: {w}")));
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let [flags, n, rest @ ..] = data else { return };
    let n = usize::from(n % 8).min(rest.len() / 3);
    let (changes, stream) = rest.split_at(3 * n);
    let tz = (flags & 1 != 0).then_some(Tz::Europe__Oslo);

    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let mut d = Decoder::new(Config::default());
    d.observe(Box::new(move |s| {
        match s {
            Seen::Apdu(a) => sink.lock().unwrap().push((false, a.to_vec())),
            Seen::Frame { framing: Framing::Dsmr, bytes } if bytes.first() == Some(&b'/') => {
                sink.lock().unwrap().push((true, bytes.to_vec()))
            }
            _ => {}
        }
    }));
    d.push(stream);
    d.finish();
    while d.next_event().is_some() {}
    let apdus = seen.lock().unwrap().clone();

    let mut again = Vec::new();
    for (telegram, msg) in apdus.iter().take(16) {
        // A telegram's body is what changes; its CRC is made again.
        let body_end = if *telegram { msg.iter().rposition(|b| *b == b'!').map_or(0, |p| p + 1) } else { msg.len() };
        let mut changed = msg.clone();
        for c in changes.chunks_exact(3) {
            let at = usize::from(u16::from_be_bytes([c[0], c[1]]));
            if let Some(b) = changed.get_mut(at % body_end.max(1)) {
                *b ^= c[2];
            }
        }
        if *telegram {
            let tail = &msg[body_end..];
            let digits = tail.iter().take(4).take_while(|d| d.is_ascii_hexdigit()).count();
            changed.truncate(body_end);
            if digits == 4 {
                let crc = han::crc::arc(&changed);
                changed.extend_from_slice(format!("{crc:04X}").as_bytes());
                changed.extend_from_slice(&tail[4..]);
            } else {
                changed.extend_from_slice(tail);
            }
            again.extend_from_slice(msg);
            again.extend_from_slice(&changed);
        } else {
            again.extend_from_slice(&hdlc_push(msg));
            again.extend_from_slice(&hdlc_push(&changed));
        }
    }
    let cfg = Config { tz, ..Config::default() };
    let full = events(Config { full_decode: true, ..cfg.clone() }, &again, false);
    let owned = events(cfg.clone(), &again, false);
    assert_eq!(owned, full, "decoding against a template differs from decoding in full");
    let lent = events(cfg, &again, true);
    assert_eq!(lent, full, "lent readings differ from decoding in full");
});
