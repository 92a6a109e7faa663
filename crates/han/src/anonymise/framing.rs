//! Finding messages without a frame of their own (bare LLC PDUs and APDUs,
//! ciphered envelopes) and DSMR telegrams in a stream, as the decoder does:
//! its own helpers are private to it, and these only have to find a
//! candidate, which the decoder then judges.

use crate::FramingMode;
use crate::apdu::{BLOCK_TRANSFER, DATA_NOTIFICATION, DED_CIPHERING, GLO_CIPHERING};
use crate::axdr::{self, ber_length};

use super::{LLC, MAX_MESSAGE};

/// Whether a message is complete at the start of the buffer.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Bare {
    Complete(usize),
    NeedMore,
    No,
}

/// The length of the bare LLC PDU / APDU at the start of `b`.
pub(super) fn bare_len(b: &[u8], mode: FramingMode) -> Bare {
    let (skip, apdu) = match b.strip_prefix(&LLC[..]) {
        Some(rest) => (3, rest),
        None if b.len() < 3 && LLC.starts_with(b) && !b.is_empty() => return Bare::NeedMore,
        None if mode == FramingMode::Llc => return Bare::No,
        None => (0, b),
    };
    let inner = match apdu.first() {
        None if skip > 0 => Bare::NeedMore,
        None => Bare::No,
        Some(&DATA_NOTIFICATION) => notification_len(apdu),
        Some(&GLO_CIPHERING) | Some(&DED_CIPHERING) => envelope_len(apdu),
        Some(&BLOCK_TRANSFER) => {
            let mut pos = 6;
            match (apdu.len() >= 7, ber_length(apdu, &mut pos)) {
                (false, _) | (true, None) if apdu.len() < 9 => Bare::NeedMore,
                (true, Some(n)) if pos + n <= apdu.len() => Bare::Complete(pos + n),
                (true, Some(n)) if n <= MAX_MESSAGE => Bare::NeedMore,
                _ => Bare::No,
            }
        }
        Some(_) => Bare::No,
    };
    match inner {
        Bare::Complete(n) => Bare::Complete(n + skip),
        other => other,
    }
}

/// Length of `0F | invoke-id | date-time | data` by walking its A-XDR.
fn notification_len(b: &[u8]) -> Bare {
    let body_at = match (b.get(5), b.get(6)) {
        (None, _) => return Bare::NeedMore,
        (Some(0x00), _) => 6,
        (Some(0x0C), _) => 18,
        (Some(0x09), Some(0x0C)) => 19,
        (Some(0x09), None) => return Bare::NeedMore,
        _ => return Bare::No,
    };
    let mut nodes = Vec::new();
    match axdr::decode_into(b, body_at, &mut nodes) {
        Ok(end) => Bare::Complete(end),
        Err(e) if axdr::is_truncation(&e) && b.len() < MAX_MESSAGE => Bare::NeedMore,
        Err(_) => Bare::No,
    }
}

/// Length of `DB|DC 08 <title> <BER len> <content>`.
pub(super) fn envelope_len(b: &[u8]) -> Bare {
    match b.get(1) {
        None => return Bare::NeedMore,
        Some(8) => {}
        Some(_) => return Bare::No,
    }
    let mut pos = 10;
    match ber_length(b, &mut pos) {
        None if b.len() < 14 => Bare::NeedMore,
        None => Bare::No,
        Some(n) if !(5..=MAX_MESSAGE).contains(&n) => Bare::No,
        Some(n) => match b.get(pos) {
            None => Bare::NeedMore,
            Some(sc) if sc & 0x8E != 0 || sc & 0x30 == 0 => Bare::No,
            Some(_) if pos + n <= b.len() => Bare::Complete(pos + n),
            Some(_) => Bare::NeedMore,
        },
    }
}

/// The longest identification line looked at.
const MAX_IDENT: usize = 256;

/// Whether `/` may start a DSMR telegram: an identification line of text
/// ending within 256 bytes. Looser than the decoder's test on purpose:
/// every candidate is decoded before it is written, and a looser test only
/// costs a wait, never a telegram. `None`: not enough bytes to tell.
pub(super) fn dsmr_start(b: &[u8]) -> Option<bool> {
    let after = b.get(1..).unwrap_or_default();
    let window = after.get(..=MAX_IDENT).unwrap_or(after);
    let text = |c: &u8| matches!(c, b'\t' | b'\r' | 0x02 | 0x20..=0xFF) && *c != 0x7F;
    match memchr::memchr(b'\n', window) {
        Some(nl) => Some(window.get(..nl).unwrap_or_default().iter().all(text)),
        None if window.len() > MAX_IDENT || !window.iter().all(text) => Some(false),
        None => None,
    }
}
