//! Wired M-Bus long frames (EN 13757-2) carrying DLMS (Austria, Poland).
//!
//! `68 L L 68 | C A CI | STSAP DTSAP | data | CS 16`. L counts C through
//! data; CS is their 8-bit sum. Long APDUs are split over frames: the CI
//! byte's low nibble counts segments and bit 0x10 marks the last.

use crate::error::Error;

/// Start byte of a long frame.
pub const START: u8 = 0x68;
/// Stop byte.
pub const STOP: u8 = 0x16;

/// A checked long frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// C field.
    pub control: u8,
    /// A field.
    pub address: u8,
    /// CI field.
    pub ci: u8,
    /// Bytes after CI (with the STSAP/DTSAP pair, if any).
    pub data: &'a [u8],
}

impl Frame<'_> {
    /// Whether CI is a DLMS segment CI (sequence in the low nibble).
    pub fn is_dlms_segment(&self) -> bool {
        self.ci & 0xE0 == 0
    }
    /// The segment's sequence number.
    pub fn sequence(&self) -> u8 {
        self.ci & 0x0F
    }
    /// Whether this is the last segment.
    pub fn is_last(&self) -> bool {
        self.ci & 0x10 != 0
    }
    /// The DLMS bytes: after STSAP and DTSAP.
    pub fn payload(&self) -> &[u8] {
        self.data.get(2..).unwrap_or(&[])
    }
}

/// What [`parse`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parse<'a> {
    /// Not enough bytes yet.
    NeedMore,
    /// A good frame spanning `len` bytes.
    Frame {
        /// The frame.
        frame: Frame<'a>,
        /// Its length in bytes, start to stop byte.
        len: usize,
    },
    /// Not a good frame; how many bytes to report as rejected.
    Bad(Error, usize),
}

/// Whether a long frame can start here (`68 L L 68`).
pub fn is_start(buf: &[u8]) -> bool {
    matches!(buf, [START, l1, l2, START, ..] if l1 == l2 && *l1 >= 3)
}

/// Checks the long frame at the start of `buf`.
pub fn parse(buf: &[u8]) -> Parse<'_> {
    let Some(head) = buf.get(..4) else { return Parse::NeedMore };
    let [START, l1, l2, START] = *head else { return Parse::Bad(Error::MbusFrame("no start sequence"), 1) };
    if l1 != l2 {
        return Parse::Bad(Error::MbusFrame("length bytes differ"), 1);
    }
    let l = usize::from(l1);
    if l < 3 {
        return Parse::Bad(Error::MbusFrame("too short"), 1);
    }
    let total = 4 + l + 2;
    let Some(frame) = buf.get(..total) else { return Parse::NeedMore };
    let (Some(body), Some(&cs), Some(&stop)) = (frame.get(4..4 + l), frame.get(4 + l), frame.get(4 + l + 1)) else {
        return Parse::NeedMore;
    };
    if stop != STOP {
        return Parse::Bad(Error::MbusFrame("no stop byte where the length ends"), total);
    }
    let sum = body.iter().fold(0u8, |a, b| a.wrapping_add(*b));
    if sum != cs {
        return Parse::Bad(Error::MbusChecksum, total);
    }
    let (Some(&control), Some(&address), Some(&ci)) = (body.first(), body.get(1), body.get(2)) else {
        return Parse::Bad(Error::MbusFrame("too short"), total);
    };
    Parse::Frame { frame: Frame { control, address, ci, data: body.get(3..).unwrap_or(&[]) }, len: total }
}

/// Builds a long frame (tests and simulators): C=0x53, A=0xFF, the CI, and
/// STSAP/DTSAP `01 67` before `data`.
pub fn encode(ci: u8, data: &[u8]) -> Vec<u8> {
    let mut body = vec![0x53, 0xFF, ci, 0x01, 0x67];
    body.extend_from_slice(data);
    let l = u8::try_from(body.len()).unwrap_or(u8::MAX);
    let cs = body.iter().fold(0u8, |a, b| a.wrapping_add(*b));
    let mut f = vec![START, l, l, START];
    f.extend_from_slice(&body);
    f.push(cs);
    f.push(STOP);
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip() {
        let f = encode(0x11, &[0xDB, 0x08, 1, 2, 3]);
        match parse(&f) {
            Parse::Frame { frame, len } => {
                assert_eq!(len, f.len());
                assert!(frame.is_last() && frame.is_dlms_segment());
                assert_eq!(frame.sequence(), 1);
                assert_eq!(frame.payload(), &[0xDB, 0x08, 1, 2, 3]);
            }
            other => panic!("{other:?}"),
        }
        for cut in 0..f.len() {
            assert_eq!(parse(&f[..cut]), Parse::NeedMore);
        }
        let mut bad = f.clone();
        bad[6] ^= 0x40;
        assert!(matches!(parse(&bad), Parse::Bad(Error::MbusChecksum, _)));
    }

    use proptest::prelude::*;

    proptest! {
        #[test]
        fn roundtrip_and_flips(ci in 0u8..0x20, data in proptest::collection::vec(any::<u8>(), 0..240),
                               at in any::<proptest::sample::Index>(), bit in 0u8..8) {
            let f = encode(ci, &data);
            match parse(&f) {
                Parse::Frame { frame, len } => {
                    prop_assert_eq!(frame.payload(), &data[..]);
                    prop_assert_eq!(len, f.len());
                }
                other => prop_assert!(false, "{:?}", other),
            }
            let mut g = f.clone();
            let i = at.index(g.len());
            g[i] ^= 1 << bit;
            // An 8-bit sum catches every single-bit error in the body.
            let is_frame = matches!(parse(&g), Parse::Frame { .. });
            prop_assert!(!is_frame, "flip at {}", i);
        }
    }
}
