//! Messages without a frame around them: bare LLC PDUs and APDUs, and
//! raw ciphered envelopes (Luxembourg Smarty), found by their lengths.

use super::{FramingMode, LLC, MAX_MESSAGE};
use crate::apdu::{BLOCK_TRANSFER, DATA_NOTIFICATION, DED_CIPHERING, GLO_CIPHERING};
use crate::axdr::{self, ber_length};

/// Whether a bare message is complete at the start of the buffer.
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
pub(super) fn notification_len(b: &[u8]) -> Bare {
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
        // SC + IC at least, and a plausible security control byte.
        Some(n) if !(5..=MAX_MESSAGE).contains(&n) => Bare::No,
        Some(n) => match b.get(pos) {
            None => Bare::NeedMore,
            Some(sc) if sc & 0x8E != 0 || sc & 0x30 == 0 => Bare::No,
            Some(_) if pos + n <= b.len() => Bare::Complete(pos + n),
            Some(_) => Bare::NeedMore,
        },
    }
}

/// Whether `/` starts a DSMR telegram: `/XXX5` and a header line of text,
/// then lines that begin like data lines. `None`: not enough bytes to tell.
/// This keeps a `/` byte inside binary HAN data from holding up the stream.
pub(super) fn dsmr_plausible(b: &[u8]) -> Option<bool> {
    let head = b.get(1..5);
    match head {
        None => {
            let partial = b.get(1..).unwrap_or(&[]);
            let ok =
                partial.iter().take(3).all(u8::is_ascii_alphabetic) && partial.get(3).is_none_or(u8::is_ascii_digit);
            return if ok { None } else { Some(false) };
        }
        Some([x, y, z, d])
            if x.is_ascii_alphabetic() && y.is_ascii_alphabetic() && z.is_ascii_alphabetic() && d.is_ascii_digit() => {}
        Some(_) => return Some(false),
    }
    let header_end = b.iter().take(160).position(|&c| c == b'\n');
    match header_end {
        None if b.len() >= 160 => Some(false),
        None => None,
        Some(_) => Some(true),
    }
}
