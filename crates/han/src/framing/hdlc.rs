//! HDLC frame format type 3 (IEC 62056-46), as HAN push ports send it.
//!
//! `7E | A S LLL LLLLLLLL | dst | src | ctrl | HCS | info | FCS | 7E`. The
//! end is found by the 11-bit length, never by the next `7E`: push ports do
//! not stuff bytes and ciphertext contains `7E`.

use crate::error::Error;
use crate::framing::crc::x25;

/// The flag that opens and closes a frame.
pub const FLAG: u8 = 0x7E;
/// Longest HDLC frame: the length field has 11 bits.
pub const MAX_LEN: usize = 0x7FF + 2;

/// A checked frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// More segments of the same message follow (S bit).
    pub segmented: bool,
    /// Destination address bytes.
    pub dst: &'a [u8],
    /// Source address bytes.
    pub src: &'a [u8],
    /// Control byte.
    pub control: u8,
    /// Information field (empty for frames without one).
    pub info: &'a [u8],
}

/// What [`parse`] found at the start of a buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parse<'a> {
    /// Not enough bytes yet to tell.
    NeedMore,
    /// A good frame; `len` bytes from the opening flag up to, not including,
    /// the closing flag (which may open the next frame).
    Frame {
        /// The frame.
        frame: Frame<'a>,
        /// Bytes it spans, opening flag included, closing flag excluded.
        len: usize,
    },
    /// Not a good frame here; the bytes it claimed (for reporting).
    Bad(Error, usize),
}

/// Whether the bytes at `buf` can open an HDLC frame (flag, format type 0xA).
pub fn is_start(buf: &[u8]) -> bool {
    matches!(buf, [FLAG, f, ..] if f & 0xF0 == 0xA0)
}

/// Reads an HDLC address (1, 2 or 4 bytes; the last has its low bit set).
fn address(b: &[u8], pos: usize) -> Option<usize> {
    for i in 0..4 {
        if b.get(pos + i)? & 1 == 1 {
            return match i {
                0 | 1 | 3 => Some(i + 1),
                _ => None,
            };
        }
    }
    None
}

/// Checks the frame at the start of `buf`, which starts with a flag.
pub fn parse(buf: &[u8]) -> Parse<'_> {
    let (Some(&f0), Some(&f1)) = (buf.get(1), buf.get(2)) else { return Parse::NeedMore };
    if buf.first() != Some(&FLAG) || f0 & 0xF0 != 0xA0 {
        return Parse::Bad(Error::HdlcBoundary, 1);
    }
    let segmented = f0 & 0x08 != 0;
    let len = (usize::from(f0 & 0x07) << 8) | usize::from(f1);
    // Format (2) + dst (1) + src (1) + control (1) + FCS (2).
    if len < 7 {
        return Parse::Bad(Error::HdlcTooShort(len), 1);
    }
    // Check the header as soon as it is here, so a false start in noise
    // claiming a long frame is dropped at once instead of waiting for it.
    let Some(dl) = address(buf, 3) else {
        return if buf.len() < 3 + 4 { Parse::NeedMore } else { Parse::Bad(Error::HdlcTooShort(len), 1) };
    };
    let Some(sl) = address(buf, 3 + dl) else {
        return if buf.len() < 3 + dl + 4 { Parse::NeedMore } else { Parse::Bad(Error::HdlcTooShort(len), 1) };
    };
    let ctrl_at = 3 + dl + sl;
    // Bytes in the frame after the control byte: none but the FCS means no
    // information field and no HCS.
    let after_ctrl = (len + 1).checked_sub(ctrl_at + 1);
    let has_info = matches!(after_ctrl, Some(n) if n > 2);
    match after_ctrl {
        Some(n) if n == 2 || n >= 5 => {}
        _ => return Parse::Bad(Error::HdlcTooShort(len), 1),
    }
    if has_info {
        let hcs_at = ctrl_at + 1;
        let (Some(header), Some(hcs)) = (buf.get(1..hcs_at), buf.get(hcs_at..hcs_at + 2)) else {
            return Parse::NeedMore;
        };
        if x25(header).to_le_bytes() != hcs {
            return Parse::Bad(Error::HdlcHcs, 1);
        }
    }
    let Some(frame) = buf.get(..len + 2) else { return Parse::NeedMore };
    if frame.last() != Some(&FLAG) {
        return Parse::Bad(Error::HdlcBoundary, len + 2);
    }
    let (Some(body), Some(fcs)) = (frame.get(1..len - 1), frame.get(len - 1..len + 1)) else {
        return Parse::Bad(Error::HdlcTooShort(len), 1);
    };
    if x25(body).to_le_bytes() != fcs {
        return Parse::Bad(Error::HdlcFcs, len + 2);
    }
    let info = if has_info { frame.get(ctrl_at + 3..len - 1).unwrap_or(&[]) } else { &[] };
    Parse::Frame {
        frame: Frame {
            segmented,
            dst: frame.get(3..3 + dl).unwrap_or(&[]),
            src: frame.get(3 + dl..ctrl_at).unwrap_or(&[]),
            control: frame.get(ctrl_at).copied().unwrap_or(0),
            info,
        },
        len: len + 1,
    }
}

/// Builds a frame around an information field (for tests, simulators and
/// anonymising dumps): addresses `dst`/`src` as given, control `0x13`.
pub fn encode(dst: &[u8], src: &[u8], segmented: bool, info: &[u8]) -> Vec<u8> {
    encode_with_control(dst, src, segmented, 0x13, info)
}

/// [`encode`] with another control byte (Kaifa sends `0x10`).
pub fn encode_with_control(dst: &[u8], src: &[u8], segmented: bool, control: u8, info: &[u8]) -> Vec<u8> {
    let len = 2 + dst.len() + src.len() + 1 + if info.is_empty() { 2 } else { 2 + info.len() + 2 };
    let mut f = Vec::with_capacity(len + 2);
    f.push(FLAG);
    f.push(0xA0 | if segmented { 0x08 } else { 0 } | ((len >> 8) & 0x07) as u8);
    f.push((len & 0xFF) as u8);
    f.extend_from_slice(dst);
    f.extend_from_slice(src);
    f.push(control);
    if !info.is_empty() {
        let hcs = x25(f.get(1..).unwrap_or(&[]));
        f.extend_from_slice(&hcs.to_le_bytes());
        f.extend_from_slice(info);
    }
    let fcs = x25(f.get(1..).unwrap_or(&[]));
    f.extend_from_slice(&fcs.to_le_bytes());
    f.push(FLAG);
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_damage() {
        let info = [0xE6, 0xE7, 0x00, 0x0F, 0x7E, 0x7E, 0x01];
        let f = encode(&[0x41], &[0x08, 0x83], false, &info);
        match parse(&f) {
            Parse::Frame { frame, len } => {
                assert_eq!(frame.info, &info);
                assert_eq!(len, f.len() - 1);
                assert_eq!(frame.src, &[0x08, 0x83]);
            }
            other => panic!("{other:?}"),
        }
        for cut in 0..f.len() {
            assert!(matches!(parse(&f[..cut]), Parse::NeedMore | Parse::Bad(..)), "cut {cut}");
        }
        let mut bad = f.clone();
        bad[9] ^= 1;
        assert_eq!(parse(&bad), Parse::Bad(Error::HdlcFcs, f.len()));
        let mut bad = f.clone();
        bad[4] ^= 1;
        assert!(matches!(parse(&bad), Parse::Bad(Error::HdlcHcs, 1)));
    }

    #[test]
    fn empty_frame_has_only_fcs() {
        let f = encode(&[0x01], &[0x02, 0x01], false, &[]);
        assert!(matches!(parse(&f), Parse::Frame { frame, .. } if frame.info.is_empty()));
    }

    use proptest::prelude::*;

    fn addr() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            any::<u8>().prop_map(|a| vec![a | 1]),
            (any::<u8>(), any::<u8>()).prop_map(|(a, b)| vec![a & 0xFE, b | 1]),
            proptest::collection::vec(any::<u8>(), 3).prop_map(|v| vec![v[0] & 0xFE, v[1] & 0xFE, v[2] & 0xFE, 1]),
        ]
    }

    proptest! {
        #[test]
        fn roundtrip_any_frame(dst in addr(), src in addr(), seg: bool,
                               info in proptest::collection::vec(any::<u8>(), 1..1500)) {
            let f = encode(&dst, &src, seg, &info);
            match parse(&f) {
                Parse::Frame { frame, len } => {
                    prop_assert_eq!(frame.info, &info[..]);
                    prop_assert_eq!(frame.dst, &dst[..]);
                    prop_assert_eq!(frame.src, &src[..]);
                    prop_assert_eq!(frame.segmented, seg);
                    prop_assert_eq!(len, f.len() - 1);
                }
                other => prop_assert!(false, "{:?}", other),
            }
            // Any strict prefix is incomplete or bad, never a frame.
            for cut in [1, f.len() / 3, f.len() / 2, f.len() - 1] {
                let is_frame = matches!(parse(&f[..cut]), Parse::Frame { .. });
                prop_assert!(!is_frame);
            }
        }

        #[test]
        fn a_flipped_bit_is_never_a_frame(info in proptest::collection::vec(any::<u8>(), 1..300),
                                          at in any::<proptest::sample::Index>(), bit in 0u8..8) {
            let mut f = encode(&[0x41], &[0x08, 0x83], false, &info);
            let i = at.index(f.len());
            f[i] ^= 1 << bit;
            // The CRCs catch every single-bit error; a flipped length or flag
            // makes the frame incomplete or bad.
            let is_frame = matches!(parse(&f), Parse::Frame { .. });
            prop_assert!(!is_frame, "flip at {}", i);
        }

        #[test]
        fn never_panics(b in proptest::collection::vec(any::<u8>(), 0..600)) {
            let mut b = b;
            b.insert(0, FLAG);
            let _ = parse(&b);
        }
    }
}
