//! OBIS codes (IEC 62056-61): the six-group names of every meter quantity.

use std::fmt;
use std::str::FromStr;

/// An OBIS code `A-B:C.D.E.F`. Written `A-B:C.D.E`, with `.F` only when F
/// is not 255 (the stream contract's key form).
#[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Obis(pub [u8; 6]);

impl Obis {
    /// Builds a code from its six groups.
    pub const fn new(a: u8, b: u8, c: u8, d: u8, e: u8, f: u8) -> Self {
        Obis([a, b, c, d, e, f])
    }

    /// The code from the six bytes of a COSEM logical name.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        <[u8; 6]>::try_from(bytes).ok().map(Obis)
    }

    /// Group A (medium: 0 abstract, 1 electricity, 7 gas ...).
    pub const fn a(self) -> u8 {
        self.0[0]
    }
    /// Group B (channel).
    pub const fn b(self) -> u8 {
        self.0[1]
    }
    /// Group C (quantity).
    pub const fn c(self) -> u8 {
        self.0[2]
    }
    /// Group D (processing).
    pub const fn d(self) -> u8 {
        self.0[3]
    }
    /// Group E (tariff / classification).
    pub const fn e(self) -> u8 {
        self.0[4]
    }
    /// Group F (historical value; 255 = current).
    pub const fn f(self) -> u8 {
        self.0[5]
    }

    /// The same code with group B replaced (Kamstrup writes `1-1:` where
    /// everyone else writes `1-0:`).
    pub const fn with_b(self, b: u8) -> Self {
        let mut g = self.0;
        g[1] = b;
        Obis(g)
    }

    /// The same code with group A and B replaced.
    pub const fn with_ab(self, a: u8, b: u8) -> Self {
        let mut g = self.0;
        g[0] = a;
        g[1] = b;
        Obis(g)
    }
}

/// Room for the longest key, `255-255:255.255.255.254`.
pub(crate) type KeyBuf = [u8; 24];

/// The decimal digits of every byte value: (count, digits).
#[allow(clippy::indexing_slicing)] // built at compile time, i < 256
const DIGITS: [(u8, [u8; 3]); 256] = {
    let mut t = [(0u8, [0u8; 3]); 256];
    let mut i = 0;
    while i < 256 {
        let v = i as u8;
        t[i] = if v >= 100 {
            (3, [b'0' + v / 100, b'0' + v / 10 % 10, b'0' + v % 10])
        } else if v >= 10 {
            (2, [b'0' + v / 10, b'0' + v % 10, 0])
        } else {
            (1, [b'0' + v, 0, 0])
        };
        i += 1;
    }
    t
};

impl Obis {
    /// Writes the key form into `buf` and returns its length, without the
    /// formatting machinery (the stream writes one per object, tens of
    /// thousands a second).
    pub(crate) fn write_key_bytes(self, buf: &mut KeyBuf) -> usize {
        let mut n = 0;
        let last = if self.0[5] == 255 { 5 } else { 6 };
        for (i, (&g, sep)) in self.0.iter().zip(*b"-:....").take(last).enumerate() {
            let (len, d) = DIGITS.get(usize::from(g)).copied().unwrap_or((0, [0; 3]));
            // Three bytes always (a fixed-size copy), then step by the length.
            if let Some(dst) = buf.get_mut(n..n + 3) {
                dst.copy_from_slice(&d);
            }
            n += usize::from(len);
            if i + 1 < last {
                if let Some(slot) = buf.get_mut(n) {
                    *slot = sep;
                }
                n += 1;
            }
        }
        n
    }

    /// The key form, as text.
    pub(crate) fn write_key(self, buf: &mut KeyBuf) -> &str {
        let n = self.write_key_bytes(buf);
        std::str::from_utf8(buf.get(..n).unwrap_or(&[])).unwrap_or("")
    }
}

impl fmt::Display for Obis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.write_key(&mut [0; 24]))
    }
}

impl fmt::Debug for Obis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Obis({self})")
    }
}

/// The text is not an OBIS code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an OBIS code: {0:?}")]
pub struct ParseObisError(pub String);

impl FromStr for Obis {
    type Err = ParseObisError;

    /// Parses `A-B:C.D.E`, `A-B:C.D.E.F` and `A-B:C.D.E*F` (DSMR and German
    /// meters write the F group after `*`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_groups(s.as_bytes()).ok_or_else(|| ParseObisError(s.to_owned()))
    }
}

/// Parses the groups of an OBIS code written in text; `None` when it is not
/// one (missing separators, a group over 255, trailing bytes).
pub(crate) fn parse_groups(s: &[u8]) -> Option<Obis> {
    let mut groups = [0u8, 0, 0, 0, 0, 255];
    let seps: [&[u8]; 5] = [b"-", b":", b".", b".", b".*"];
    let mut rest = s;
    for (i, group) in groups.iter_mut().enumerate() {
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 || digits > 3 {
            return None;
        }
        let (num, tail) = rest.split_at(digits);
        let mut v: u16 = 0;
        for &d in num {
            v = v * 10 + u16::from(d - b'0');
        }
        *group = u8::try_from(v).ok()?;
        rest = tail;
        if i == 5 {
            break;
        }
        match (rest.first(), seps.get(i)) {
            (None, _) if i == 4 => return Some(Obis(groups)),
            (Some(c), Some(sep)) if sep.contains(c) => rest = rest.get(1..)?,
            _ => return None,
        }
    }
    rest.is_empty().then_some(Obis(groups))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_drops_f_255_only() {
        assert_eq!(Obis::new(1, 0, 1, 8, 0, 255).to_string(), "1-0:1.8.0");
        assert_eq!(Obis::new(1, 1, 0, 2, 129, 255).to_string(), "1-1:0.2.129");
        assert_eq!(Obis::new(0, 6, 25, 9, 0, 255).to_string(), "0-6:25.9.0");
        assert_eq!(Obis::new(1, 0, 1, 8, 0, 101).to_string(), "1-0:1.8.0.101");
    }

    #[test]
    fn parse_forms() {
        let want = Obis::new(1, 0, 1, 8, 1, 255);
        assert_eq!("1-0:1.8.1".parse::<Obis>(), Ok(want));
        assert_eq!("1-0:1.8.1.255".parse::<Obis>(), Ok(want));
        assert_eq!("1-0:1.8.1*255".parse::<Obis>(), Ok(want));
        assert_eq!("1-0:1.8.1.7".parse::<Obis>(), Ok(Obis::new(1, 0, 1, 8, 1, 7)));
        for bad in ["", "1-0:1.8", "1-0:1.8.1.", "1-0:256.8.1", "1,0:1.8.1", "1-0:1.8.1x", "a-0:1.8.1"] {
            assert!(bad.parse::<Obis>().is_err(), "{bad}");
        }
    }
}
