//! The DSMR P1 telegram as a frame: `/` through `!` and its CRC digits,
//! found in a byte stream.
//!
//! A telegram is an identification line (`/XXX5ident` by the
//! specification, any text after `/` in the wild), data lines
//! `OBIS(value)(value)…`, and a last line `!` with the CRC-16/ARC of the
//! bytes from `/` to `!` in hex (DSMR 4 and later; 0–4 digits, either
//! case).

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
pub(crate) const CRC_DIGITS: usize = 4;

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
