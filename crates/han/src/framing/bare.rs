//! Messages without a frame around them: bare LLC PDUs and APDUs, and
//! raw ciphered envelopes (Luxembourg Smarty), found by their lengths.

use super::{LLC, MAX_MESSAGE};
use crate::dlms::apdu::{BLOCK_TRANSFER, DATA_NOTIFICATION, DED_CIPHERING, GLO_CIPHERING};
use crate::dlms::axdr::{self, ber_length};

/// Whether a bare message is complete at the start of the buffer.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Bare {
    Complete(usize),
    NeedMore,
    No,
}

/// The length of the bare LLC PDU / APDU at the start of `b`; with
/// `llc_only`, an APDU without its LLC header is none.
pub(crate) fn bare_len(b: &[u8], llc_only: bool) -> Bare {
    let (skip, apdu) = match b.strip_prefix(&LLC[..]) {
        Some(rest) => (3, rest),
        None if b.len() < 3 && LLC.starts_with(b) && !b.is_empty() => return Bare::NeedMore,
        None if llc_only => return Bare::No,
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
pub(crate) fn notification_len(b: &[u8]) -> Bare {
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
pub(crate) fn envelope_len(b: &[u8]) -> Bare {
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

/// The longest identification line looked at. DSMR allows 5 + 16 characters
/// after the `/`; devices in the wild send up to about 40.
const MAX_IDENT: usize = 256;
/// The most blank lines between the identification line and the first data
/// line (DSMR has one, some devices none).
const MAX_BLANK: usize = 4;

/// Whether `/` starts a DSMR telegram: an identification line (`/` and up
/// to 256 bytes of text, then CR LF or LF), blank lines, then a line that
/// begins like a data line (an OBIS code `A-B:`) or the `!` end line.
/// `None`: not enough bytes to tell.
///
/// The identification itself is not held to `/XXX5`: devices send
/// `/ISk5\2MT382-1000`, `/ADN9 6534`, `/ABC-MODEL`, lower-case maker
/// letters and stray bytes (0x02, 0xAB). What follows it is what keeps a
/// `/` byte inside binary HAN data from holding up the stream.
pub(crate) fn dsmr_plausible(b: &[u8]) -> Option<bool> {
    let after = b.get(1..).unwrap_or_default();
    let window = after.get(..=MAX_IDENT).unwrap_or(after);
    let Some(nl) = memchr::memchr(b'\n', window) else {
        let text = window.iter().all(|c| ident_byte(*c) || *c == b'\r');
        return if window.len() > MAX_IDENT || !text { Some(false) } else { None };
    };
    let line = window.get(..nl).unwrap_or_default();
    let ident = line.strip_suffix(b"\r").unwrap_or(line);
    if !ident.iter().all(|c| ident_byte(*c)) {
        return Some(false);
    }
    let mut rest = after.get(nl + 1..).unwrap_or_default();
    for _ in 0..=MAX_BLANK {
        let lead = rest.iter().take_while(|c| matches!(c, b' ' | b'\t' | b'\r')).count();
        let line = rest.get(lead..).unwrap_or_default();
        match line.first() {
            None => return None,
            Some(b'\n') => rest = line.get(1..).unwrap_or_default(),
            Some(b'!') => return Some(true),
            Some(_) => return obis_start(line),
        }
    }
    Some(false)
}

/// A byte an identification line may hold: text, and the stray bytes real
/// headers carry (0x02 and 0xAB from octal escapes in test telegrams whose
/// CRCs cover them); not the other control bytes, which binary data is full
/// of, and not `/`: a second one on the line starts the telegram, the
/// first was noise (readers that restart at every `/` rely on that too).
fn ident_byte(c: u8) -> bool {
    matches!(c, b'\t' | 0x02 | 0x20..=0x2E | 0x30..=0x7E | 0x80..=0xFF)
}

/// Whether a line begins with `A-B:` (1-3 digits each), the start of every
/// DSMR data line; `None` when the bytes end before it can tell.
fn obis_start(line: &[u8]) -> Option<bool> {
    let mut it = line.iter();
    for sep in [b'-', b':'] {
        let mut digits = 0;
        loop {
            match it.next() {
                None => return None,
                Some(c) if c.is_ascii_digit() && digits < 3 => digits += 1,
                Some(c) => {
                    if digits == 0 || *c != sep {
                        return Some(false);
                    }
                    break;
                }
            }
        }
    }
    Some(true)
}
