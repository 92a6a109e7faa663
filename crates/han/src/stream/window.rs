//! The input window the decoder and the anonymiser both read from.

/// Appends `bytes` to `buf`, whose first `start` bytes are already read.
/// Once those are half the buffer they are dropped first (counted in
/// `drained`, so that `drained + start` stays the position in the whole
/// input): the buffer does not grow with a long stream, and the bytes are
/// not moved on every push.
#[inline]
pub(crate) fn append(buf: &mut Vec<u8>, start: &mut usize, drained: &mut u64, bytes: &[u8]) {
    if *start > 0 && *start >= buf.len() / 2 {
        buf.drain(..*start);
        *drained += *start as u64;
        *start = 0;
    }
    buf.extend_from_slice(bytes);
}
