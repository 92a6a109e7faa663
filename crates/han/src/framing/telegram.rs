//! The DSMR P1 telegram as a frame: `/` through `!` and its CRC digits,
//! found in a byte stream and checked.
//!
//! A telegram is an identification line (`/XXX5ident` by the
//! specification, any text after `/` in the wild), data lines
//! `OBIS(value)(value)…`, and a last line `!` with the CRC-16/ARC of the
//! bytes from `/` to `!` in hex (DSMR 4 and later; 0–4 digits, either
//! case).

use std::ops::Range;

use crate::error::Error;

/// Largest DSMR telegram accepted (text messages make them long).
pub(crate) const MAX_TELEGRAM: usize = 16 * 1024;

/// What the stream framer found in a buffer that starts with `/`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Scan {
    /// Not complete yet: wait for more bytes.
    NeedMore,
    /// A complete telegram of this many bytes (through the CRC digits).
    Complete(usize),
    /// A new telegram starts at this offset before the current one ended:
    /// drop the bytes before it.
    Restart(usize),
    /// Longer than the limit without an end.
    TooLong,
}

/// The most CRC digits after `!`.
const CRC_DIGITS: usize = 4;

/// Finds the end of the telegram at the start of `buf` (which starts with `/`).
///
/// The end is the first `!` plus up to four hex digits. Fewer than four
/// digits end the telegram only once a byte that is not hex follows (or the
/// input ends, `eof`), since more digits may still be on their way. A `/` at
/// the start of a line before any `!` means this telegram was cut short and
/// a new one begins there.
pub(crate) fn scan(buf: &[u8], eof: bool, max: usize) -> Scan {
    // Only a '/' or '!' right after a '\n' matters (and never at offset 1:
    // the byte before it is the start '/'), so jump from one to the next.
    let limit = buf.len().min(max);
    let mut from = 1;
    while let Some(window) = buf.get(from..limit) {
        let Some(p) = memchr::memchr2(b'/', b'!', window) else { break };
        let i = from + p;
        from = i + 1;
        if i < 2 || buf.get(i - 1) != Some(&b'\n') {
            continue;
        }
        if buf.get(i) == Some(&b'/') {
            return Scan::Restart(i);
        }
        // The end line starts with '!': a '!' inside a line is damage (a
        // flipped bit), not the end of a telegram without CRC.
        let tail = buf.get(i + 1..).unwrap_or_default();
        let digits = tail.iter().take(CRC_DIGITS).take_while(|d| d.is_ascii_hexdigit()).count();
        let end = i + 1 + digits;
        let ended = digits == CRC_DIGITS || tail.len() > digits || eof;
        return match (ended, end <= max) {
            (true, true) => Scan::Complete(end),
            (_, false) => Scan::TooLong,
            (false, true) => Scan::NeedMore,
        };
    }
    if buf.len() >= max { Scan::TooLong } else { Scan::NeedMore }
}

/// The first complete telegram in `bytes` (`/` through the CRC digits), as
/// a stream decoder would frame it when the input ends there; `None` when
/// there is no `/` or no end marker.
pub fn frame_telegram(bytes: &[u8]) -> Option<&[u8]> {
    let mut start = bytes.iter().position(|b| *b == b'/')?;
    loop {
        let buf = bytes.get(start..)?;
        match scan(buf, true, usize::MAX) {
            Scan::Complete(n) => return buf.get(..n),
            Scan::Restart(off) => start += off,
            Scan::NeedMore | Scan::TooLong => return None,
        }
    }
}

/// Where a checked telegram's end line is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Checked {
    /// The offset of the `!` that starts the end line.
    pub bang: usize,
    /// Where its CRC digits are (empty: none).
    pub crc: Range<usize>,
}

impl Checked {
    /// Whether a CRC vouches for the telegram.
    pub(crate) fn has_crc(&self) -> bool {
        !self.crc.is_empty()
    }
}

/// Checks the frame of one complete telegram, `/` through the CRC digits:
/// its start, its end line, and its CRC-16/ARC when it has one (bytes
/// after the digits are ignored).
pub(crate) fn check(telegram: &[u8]) -> Result<Checked, Error> {
    if telegram.first() != Some(&b'/') {
        return Err(Error::DsmrFormat("telegram does not start with '/'"));
    }
    // The end line is the last '!' (CRC digits hold none), at a line start.
    let bang = telegram.iter().rposition(|b| *b == b'!').ok_or(Error::DsmrFormat("no '!' end line"))?;
    if bang == 0 || telegram.get(bang - 1) != Some(&b'\n') {
        return Err(Error::DsmrFormat("'!' end marker is not at the start of a line"));
    }
    let body = telegram.get(..=bang).unwrap_or_default();
    let tail = telegram.get(bang + 1..).unwrap_or_default();
    let digits = tail.iter().take(CRC_DIGITS).take_while(|d| d.is_ascii_hexdigit()).count();
    let crc_text = tail.get(..digits).unwrap_or_default();
    if !crc_text.is_empty() {
        let given = crc_text
            .iter()
            .filter_map(|d| char::from(*d).to_digit(16))
            .fold(0u16, |acc, d| (acc << 4) | u16::try_from(d).unwrap_or(0));
        let computed = crate::framing::crc::arc(body);
        if given != computed {
            return Err(Error::DsmrCrc { given, computed });
        }
    }
    Ok(Checked { bang, crc: bang + 1..bang + 1 + digits })
}
