//! Finding DSMR telegrams in a stream for the anonymiser: looser than the
//! decoder's test, since every candidate is decoded before it is written.
//! Messages without a frame of their own are found as the decoder finds
//! them ([`crate::framing::bare`]).

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
