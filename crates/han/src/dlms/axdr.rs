//! A-XDR (IEC 61334-6) data as DLMS/COSEM push messages carry it.
//!
//! Decoded into a flat, pre-order list of [`Node`]s that a caller reuses
//! from frame to frame: no allocation per frame once warm, no recursion
//! (nesting is walked with an explicit stack), bounded depth and count.
//! Byte payloads stay in the input and are named by offset.

use crate::error::Error;

/// How deep structures may nest; real pushes use 3.
pub const MAX_DEPTH: usize = 16;
/// How many nodes one message may hold; the largest real list has ~200.
pub const MAX_NODES: usize = 4096;

/// One decoded A-XDR value.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum Data {
    /// null-data (0x00).
    Null,
    /// array (0x01) of this many elements; they follow in pre-order.
    Array(u32),
    /// structure (0x02) of this many elements; they follow in pre-order.
    Structure(u32),
    /// compact-array (0x13), kept as raw bytes (offset, length).
    CompactArray(u32, u32),
    /// boolean (0x03).
    Bool(bool),
    /// bit-string (0x04): bit count, bytes (offset, length).
    BitString(u32, u32, u32),
    /// Any signed integer (int8, int16, int32, int64).
    Int(i64),
    /// Any unsigned integer (uint8, uint16, uint32, uint64).
    UInt(u64),
    /// enum (0x16).
    Enum(u8),
    /// float32 / float64.
    Float(f64),
    /// octet-string (0x09): offset and length in the input.
    Octets(u32, u32),
    /// visible-string (0x0A): offset and length.
    Visible(u32, u32),
    /// utf8-string (0x0C): offset and length.
    Utf8(u32, u32),
    /// bcd (0x0D).
    Bcd(u8),
    /// date-time (0x19): offset of its 12 bytes.
    DateTime(u32),
    /// date (0x1A): offset of its 5 bytes.
    Date(u32),
    /// time (0x1B): offset of its 4 bytes.
    Time(u32),
}

/// A node: the tag as sent, the value, and the index just past its subtree.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Node {
    /// The A-XDR tag byte.
    pub tag: u8,
    /// Offset of the tag byte in the input.
    pub at: u32,
    /// The value.
    pub data: Data,
    /// Index of the next sibling (one past the last node of this subtree).
    pub end: u32,
}

/// Reads a BER length (`< 0x80` literal, `0x81 nn`, `0x82 nn nn`, up to 4 bytes).
pub fn ber_length(b: &[u8], pos: &mut usize) -> Option<usize> {
    let first = *b.get(*pos)?;
    *pos += 1;
    if first < 0x80 {
        return Some(usize::from(first));
    }
    let n = usize::from(first & 0x7F);
    if n == 0 || n > 4 {
        return None;
    }
    let mut len = 0usize;
    for _ in 0..n {
        len = (len << 8) | usize::from(*b.get(*pos)?);
        *pos += 1;
    }
    Some(len)
}

const PAST_END: &str = "value runs past the end";
const ENDS_EARLY: &str = "data ends before the value";
const COUNT_EXCEEDS: &str = "element count exceeds the data";

/// Whether an A-XDR error only says the data stopped early (more bytes
/// could complete it), as opposed to bytes that can never be valid.
pub fn is_truncation(e: &Error) -> bool {
    matches!(e, Error::Axdr { what, .. } if [PAST_END, ENDS_EARLY, COUNT_EXCEEDS].contains(what))
}

fn err(offset: usize, what: &'static str) -> Error {
    Error::Axdr { offset, what }
}

/// A BER length inside a value: one cut off by the end of the data is a
/// truncation (more bytes may complete it), anything else is `what`.
fn length(b: &[u8], pos: &mut usize, at: usize, what: &'static str) -> Result<usize, Error> {
    ber_length(b, pos).ok_or_else(|| err(at, if *pos >= b.len() { ENDS_EARLY } else { what }))
}

fn take<'a>(b: &'a [u8], pos: &mut usize, n: usize) -> Result<&'a [u8], Error> {
    let s = pos.checked_add(n).and_then(|end| b.get(*pos..end)).ok_or_else(|| err(*pos, PAST_END))?;
    *pos += n;
    Ok(s)
}

#[inline(always)]
fn be<const N: usize>(b: &[u8], at: usize) -> Option<[u8; N]> {
    b.get(at..at.checked_add(N)?)?.try_into().ok()
}

/// Offsets stay below 2^32 because inputs are bounded far below that.
fn off(v: usize) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// Decodes one A-XDR value (with everything nested in it) starting at
/// `start`, appending its nodes to `out` (cleared first). Returns the offset
/// just past it.
pub fn decode_into(b: &[u8], start: usize, out: &mut Vec<Node>) -> Result<usize, Error> {
    out.clear();
    let mut pos = start;
    // Open containers: (node index, children still to read).
    let mut stack: [(usize, u32); MAX_DEPTH] = [(0, 0); MAX_DEPTH];
    let mut depth = 0usize;
    loop {
        if out.len() >= MAX_NODES {
            return Err(err(pos, "too many elements"));
        }
        let at = pos;
        let tag = *b.get(pos).ok_or_else(|| err(pos, ENDS_EARLY))?;
        pos += 1;
        let data = match scalar(tag, b, pos) {
            Some(Ok((data, width))) => {
                pos += width;
                data
            }
            Some(Err(e)) => return Err(e),
            None => composite(tag, b, &mut pos, at)?,
        };
        let idx = out.len();
        out.push(Node { tag, at: off(at), data, end: off(idx + 1) });
        match data {
            Data::Array(n) | Data::Structure(n) if n > 0 => {
                let slot = stack.get_mut(depth).ok_or_else(|| err(at, "nested too deep"))?;
                *slot = (idx, n);
                depth += 1;
                continue;
            }
            _ => {}
        }
        // Close every container whose last child this was.
        loop {
            if depth == 0 {
                return Ok(pos);
            }
            let Some((open, left)) = stack.get_mut(depth - 1) else { return Ok(pos) };
            *left -= 1;
            if *left > 0 {
                break;
            }
            let (open, end) = (*open, off(out.len()));
            if let Some(n) = out.get_mut(open) {
                n.end = end;
            }
            depth -= 1;
        }
    }
}

/// A value of fixed size (numbers, enum, bool, bcd, times) whose tag is
/// `tag` and whose bytes start at `pos`: the value and its width. `None`
/// for other tags.
#[inline(always)]
fn scalar(tag: u8, b: &[u8], pos: usize) -> Option<Result<(Data, usize), Error>> {
    // Fixed-size values: read N bytes big-endian or report the end.
    macro_rules! fixed {
        ($n:literal, $make:expr) => {{
            match be::<$n>(b, pos) {
                Some(v) => Ok((($make)(v), $n)),
                None => Err(err(pos, PAST_END)),
            }
        }};
    }
    Some(match tag {
        0x06 => fixed!(4, |v| Data::UInt(u64::from(u32::from_be_bytes(v)))),
        0x12 => fixed!(2, |v| Data::UInt(u64::from(u16::from_be_bytes(v)))),
        0x00 => Ok((Data::Null, 0)),
        0x03 => fixed!(1, |v: [u8; 1]| Data::Bool(v[0] != 0)),
        0x05 => fixed!(4, |v| Data::Int(i64::from(i32::from_be_bytes(v)))),
        0x0D => fixed!(1, |v: [u8; 1]| Data::Bcd(v[0])),
        0x0F => fixed!(1, |v| Data::Int(i64::from(i8::from_be_bytes(v)))),
        0x10 => fixed!(2, |v| Data::Int(i64::from(i16::from_be_bytes(v)))),
        0x11 => fixed!(1, |v: [u8; 1]| Data::UInt(u64::from(v[0]))),
        0x14 => fixed!(8, |v| Data::Int(i64::from_be_bytes(v))),
        0x15 => fixed!(8, |v| Data::UInt(u64::from_be_bytes(v))),
        0x16 => fixed!(1, |v: [u8; 1]| Data::Enum(v[0])),
        0x17 => fixed!(4, |v| Data::Float(f64::from(f32::from_be_bytes(v)))),
        0x18 => fixed!(8, |v| Data::Float(f64::from_be_bytes(v))),
        0x19 => fixed!(12, |_| Data::DateTime(off(pos))),
        0x1A => fixed!(5, |_| Data::Date(off(pos))),
        0x1B => fixed!(4, |_| Data::Time(off(pos))),
        _ => return None,
    })
}

/// The fixed-size value at `at` (its tag byte), as [`decode_into`] reads it.
pub(crate) fn scalar_at(b: &[u8], at: usize) -> Option<Data> {
    let (data, _) = scalar(*b.get(at)?, b, at + 1)?.ok()?;
    Some(data)
}

/// Strings, containers and compact arrays: the values with a length.
fn composite(tag: u8, b: &[u8], pos: &mut usize, at: usize) -> Result<Data, Error> {
    Ok(match tag {
        0x09 | 0x0A | 0x0C => {
            let n = length(b, pos, at, "bad string length")?;
            let s = *pos;
            take(b, pos, n)?;
            match tag {
                0x09 => Data::Octets(off(s), off(n)),
                0x0A => Data::Visible(off(s), off(n)),
                _ => Data::Utf8(off(s), off(n)),
            }
        }
        0x01 | 0x02 => {
            let n = length(b, pos, at, "bad element count")?;
            // Every element takes at least one byte: a count beyond the
            // input is a lie, not a reason to wait or allocate.
            if n > b.len().saturating_sub(*pos) {
                return Err(err(at, COUNT_EXCEEDS));
            }
            let n = off(n);
            if tag == 1 { Data::Array(n) } else { Data::Structure(n) }
        }
        0x04 => {
            let bits = length(b, pos, at, "bad bit-string length")?;
            let bytes = bits.div_ceil(8);
            let s = *pos;
            take(b, pos, bytes)?;
            Data::BitString(off(bits), off(s), off(bytes))
        }
        0x13 => {
            // compact-array: type description then BER length of contents.
            // Push ports do not use it; keep the bytes, skip it safely.
            let desc_start = *pos;
            skip_type_description(b, pos, 0)?;
            let n = length(b, pos, at, "bad compact-array length")?;
            take(b, pos, n)?;
            Data::CompactArray(off(desc_start), off(*pos - desc_start))
        }
        _ => return Err(err(at, "unknown data tag")),
    })
}

fn skip_type_description(b: &[u8], pos: &mut usize, depth: usize) -> Result<(), Error> {
    if depth > MAX_DEPTH {
        return Err(err(*pos, "nested too deep"));
    }
    let at = *pos;
    let tag = *b.get(*pos).ok_or_else(|| err(at, ENDS_EARLY))?;
    *pos += 1;
    match tag {
        0x01 => {
            take(b, pos, 2)?;
            skip_type_description(b, pos, depth + 1)
        }
        0x02 => {
            let n = length(b, pos, at, "bad count")?;
            for _ in 0..n {
                skip_type_description(b, pos, depth + 1)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// A decoded message: the input and its nodes, with helpers to walk them.
#[derive(Debug, Clone, Copy)]
pub struct Tree<'a> {
    /// The bytes the offsets point into.
    pub bytes: &'a [u8],
    /// The nodes, pre-order.
    pub nodes: &'a [Node],
}

impl<'a> Tree<'a> {
    /// The node at an index.
    pub fn node(&self, i: usize) -> Option<&'a Node> {
        self.nodes.get(i)
    }

    /// Indices of the direct children of container `i`.
    pub fn children(&self, i: usize) -> Children<'a> {
        let end = self.nodes.get(i).map_or(0, |n| n.end as usize);
        Children { nodes: self.nodes, next: i + 1, end }
    }

    /// The bytes of an octet/visible/utf8 string node.
    pub fn bytes_of(&self, i: usize) -> Option<&'a [u8]> {
        match self.nodes.get(i)?.data {
            Data::Octets(s, n) | Data::Visible(s, n) | Data::Utf8(s, n) => {
                let s = s as usize;
                self.bytes.get(s..s.checked_add(n as usize)?)
            }
            Data::DateTime(s) => self.bytes.get(s as usize..s as usize + 12),
            _ => None,
        }
    }
}

/// Iterator over the direct children of a container node.
#[derive(Debug, Clone)]
pub struct Children<'a> {
    nodes: &'a [Node],
    next: usize,
    end: usize,
}

impl Iterator for Children<'_> {
    type Item = usize;
    fn next(&mut self) -> Option<usize> {
        if self.next >= self.end {
            return None;
        }
        let i = self.next;
        self.next = self.nodes.get(i).map_or(self.end, |n| n.end as usize);
        Some(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn nested_structure() {
        // structure{ octets(2), structure{int8 -1, enum 27}, uint16 }
        let b = [0x02, 0x03, 0x09, 0x02, 0xAA, 0xBB, 0x02, 0x02, 0x0F, 0xFF, 0x16, 0x1B, 0x12, 0x01, 0x02];
        let mut out = Vec::new();
        assert_eq!(decode_into(&b, 0, &mut out), Ok(b.len()));
        let t = Tree { bytes: &b, nodes: &out };
        let kids: Vec<usize> = t.children(0).collect();
        assert_eq!(kids, vec![1, 2, 5]);
        assert_eq!(t.bytes_of(1), Some(&[0xAA, 0xBB][..]));
        assert_eq!(out[3].data, Data::Int(-1));
        assert_eq!(out[4].data, Data::Enum(27));
        assert_eq!(out[5].data, Data::UInt(258));
        assert_eq!(out[0].end, 6);
    }

    /// A length cut off by the end of the data is a truncation, like a value
    /// cut off: the streaming decoder then waits for more bytes instead of
    /// rejecting a bare message split inside a length.
    #[test]
    fn cut_length_is_truncation() {
        let mut out = Vec::new();
        for cut in [&[0x01][..], &[0x01, 0x82, 0x01], &[0x09, 0x81], &[0x04, 0x82], &[0x13, 0x02, 0x01], &[0x13]] {
            let e = decode_into(cut, 0, &mut out).unwrap_err();
            assert!(is_truncation(&e), "{cut:02X?}: {e:?}");
        }
        // Lengths that can never be valid stay errors of their own.
        for bad in [&[0x01, 0x80, 0x00][..], &[0x09, 0x85, 0, 0, 0, 0, 1]] {
            let e = decode_into(bad, 0, &mut out).unwrap_err();
            assert!(!is_truncation(&e), "{bad:02X?}: {e:?}");
        }
    }

    #[test]
    fn lies_are_errors() {
        let mut out = Vec::new();
        assert!(decode_into(&[0x02, 0x82, 0xFF, 0xFF], 0, &mut out).is_err());
        assert!(decode_into(&[0x06, 0x00, 0x01], 0, &mut out).is_err());
        assert!(decode_into(&[0x07], 0, &mut out).is_err());
        assert!(decode_into(&[], 0, &mut out).is_err());
        let deep = [0x01u8, 0x01].repeat(40);
        assert!(decode_into(&deep, 0, &mut out).is_err());
    }

    /// Encodes a random tree, then decodes it back.
    fn arb_data() -> impl Strategy<Value = Vec<u8>> {
        let leaf = prop_oneof![
            Just(vec![0x00]),
            any::<u32>().prop_map(|v| {
                let mut b = vec![0x06];
                b.extend(v.to_be_bytes());
                b
            }),
            any::<i16>().prop_map(|v| {
                let mut b = vec![0x10];
                b.extend(v.to_be_bytes());
                b
            }),
            any::<u64>().prop_map(|v| {
                let mut b = vec![0x15];
                b.extend(v.to_be_bytes());
                b
            }),
            proptest::collection::vec(any::<u8>(), 0..200).prop_map(|s| {
                let mut b = vec![0x09];
                if s.len() < 128 {
                    b.push(s.len() as u8)
                } else {
                    b.push(0x81);
                    b.push(s.len() as u8)
                }
                b.extend(s);
                b
            }),
        ];
        leaf.prop_recursive(5, 64, 8, |inner| {
            (proptest::bool::ANY, proptest::collection::vec(inner, 0..8)).prop_map(|(arr, kids)| {
                let mut b = vec![if arr { 0x01 } else { 0x02 }, kids.len() as u8];
                for k in kids {
                    b.extend(k)
                }
                b
            })
        })
    }

    proptest! {
        #[test]
        fn roundtrip_consumes_exactly(data in arb_data(), tail in proptest::collection::vec(any::<u8>(), 0..8)) {
            let mut b = data.clone();
            b.extend(&tail);
            let mut out = Vec::new();
            prop_assert_eq!(decode_into(&b, 0, &mut out), Ok(data.len()));
            prop_assert_eq!(out[0].end as usize, out.len());
        }

        #[test]
        fn truncation_is_an_error(data in arb_data(), cut in any::<proptest::sample::Index>()) {
            let n = cut.index(data.len());
            let mut out = Vec::new();
            prop_assert!(decode_into(&data[..n], 0, &mut out).is_err());
        }

        #[test]
        fn never_panics(b in proptest::collection::vec(any::<u8>(), 0..512)) {
            let mut out = Vec::new();
            let _ = decode_into(&b, 0, &mut out);
        }
    }
}
