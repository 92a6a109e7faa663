//! DSMR P1 telegrams: framing in a byte stream, CRC-16/ARC, and the lines.

use chrono_tz::Tz;

use crate::error::Error;
use crate::reading::Reading;

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

/// Finds the end of the telegram at the start of `buf` (which starts with `/`).
pub(crate) fn scan(buf: &[u8], eof: bool, max: usize) -> Scan {
    let _ = (buf, eof, max);
    Scan::NeedMore
}

/// Decodes one complete telegram, `/` through the CRC digits.
pub fn decode_telegram(telegram: &[u8], tz: Option<&Tz>) -> Result<Reading, Error> {
    let _ = (telegram, tz);
    Err(Error::DsmrFormat("not implemented"))
}
