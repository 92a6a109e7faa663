//! Values as meters send them: exact decimals, floats, text, bytes, times.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde::ser::{Serialize, Serializer};

use crate::reading::time::MeterTime;

/// An exact decimal `mantissa × 10^exponent`.
///
/// Meters send integers with a power-of-ten scaler (A-XDR) or decimal text
/// (DSMR); keeping both parts avoids rounding until the value is printed or
/// converted.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Decimal {
    /// The integer the meter sent.
    pub mantissa: i64,
    /// The power of ten to scale it by.
    pub exponent: i8,
}

const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
    1e21, 1e22,
];

impl Decimal {
    /// `mantissa × 10^exponent`.
    pub const fn new(mantissa: i64, exponent: i8) -> Self {
        Decimal { mantissa, exponent }
    }

    /// An integer.
    pub const fn int(mantissa: i64) -> Self {
        Decimal { mantissa, exponent: 0 }
    }

    /// The nearest `f64`. Dividing by an exact power of ten (rather than
    /// multiplying by an inexact 0.1) makes `93 × 10^-1` print as `9.3`.
    pub fn to_f64(self) -> f64 {
        let m = self.mantissa as f64;
        let p = POW10.get(usize::from(self.exponent.unsigned_abs())).copied();
        match (self.exponent >= 0, p) {
            (true, Some(p)) => m * p,
            (false, Some(p)) => m / p,
            // Beyond the table (rare): the parse of its decimal is the
            // correctly rounded value; `powi` is not (and differs between
            // builds).
            (_, None) => format!("{}e{}", self.mantissa, self.exponent).parse().unwrap_or(f64::NAN),
        }
    }

    /// The value scaled by a further power of ten, exactly when it fits.
    pub fn scaled(self, by: i8) -> Self {
        Decimal { mantissa: self.mantissa, exponent: self.exponent.saturating_add(by) }
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_f64())
    }
}

impl Serialize for Decimal {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.exponent >= 0 {
            let p = 10i64.checked_pow(u32::from(self.exponent.unsigned_abs()));
            if let Some(v) = p.and_then(|p| self.mantissa.checked_mul(p)) {
                return s.serialize_i64(v);
            }
        }
        s.serialize_f64(self.to_f64())
    }
}

/// A unit as the meter gives it (`kWh`, `W`, `m3`, `var` ...).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Unit(pub Cow<'static, str>);

impl Unit {
    /// A unit known at compile time.
    pub const fn known(s: &'static str) -> Self {
        Unit(Cow::Borrowed(s))
    }

    /// The unit text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Unit {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Shared, immutable text: meter ids, list ids, DSMR values without a unit.
///
/// A meter repeats the same few strings in every frame, so text is interned
/// per thread: the second frame's meter id is the first one's, shared, not a
/// new allocation (allocations were a third of the decode time).
#[derive(PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Text(Arc<str>);

impl Clone for Text {
    fn clone(&self) -> Self {
        Text(Arc::clone(&self.0))
    }

    // The same shared text stays: no count to touch.
    fn clone_from(&mut self, other: &Self) {
        if !self.same(other) {
            self.0 = Arc::clone(&other.0);
        }
    }
}

/// How many recent strings each thread keeps for reuse (a direct-mapped
/// cache: a string's hash picks its one slot).
const INTERNED: usize = 128;
/// Longer strings (text messages) are not worth keeping.
const INTERN_MAX_LEN: usize = 64;

thread_local! {
    static RECENT: RefCell<Vec<Option<Arc<str>>>> = const { RefCell::new(Vec::new()) };
}

/// A multiplicative hash eight bytes at a time: cheap, and good enough to
/// spread ids (the slot only decides what is kept, never what is read).
fn slot(s: &[u8]) -> usize {
    let mut h = 0x9E37_79B9_7F4A_7C15u64 ^ s.len() as u64;
    let mut chunks = s.chunks_exact(8);
    for c in &mut chunks {
        let w = <[u8; 8]>::try_from(c).map_or(0, u64::from_le_bytes);
        h = (h ^ w).wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    }
    let mut tail = [0u8; 8];
    if let Some(t) = tail.get_mut(..chunks.remainder().len()) {
        t.copy_from_slice(chunks.remainder());
    }
    h = (h ^ u64::from_le_bytes(tail)).wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    (h >> 40) as usize % INTERNED
}

/// The kept text whose bytes are `b`, else the text `make` gives, kept in
/// its slot when it is short (`None` when `make` gives none).
fn intern(b: &[u8], make: impl FnOnce() -> Option<Arc<str>>) -> Option<Text> {
    if b.len() > INTERN_MAX_LEN {
        return make().map(Text);
    }
    RECENT.with(|r| {
        let Ok(mut r) = r.try_borrow_mut() else { return make().map(Text) };
        if r.is_empty() {
            r.resize(INTERNED, None);
        }
        let Some(entry) = r.get_mut(slot(b)) else { return make().map(Text) };
        if let Some(a) = entry.as_ref().filter(|a| a.as_bytes() == b) {
            return Some(Text(Arc::clone(a)));
        }
        let a = make()?;
        *entry = Some(Arc::clone(&a));
        Some(Text(a))
    })
}

impl Text {
    /// The text for `s`, shared with an equal string decoded recently on
    /// this thread when there is one.
    pub fn new(s: &str) -> Text {
        intern(s.as_bytes(), || Some(Arc::from(s))).unwrap_or_else(|| Text(Arc::from(s)))
    }

    /// The text of bytes as sent, those that are not UTF-8 replaced
    /// ([`String::from_utf8_lossy`]), shared like [`Text::new`]'s. Bytes
    /// equal to a kept text are that text, not checked again.
    pub fn from_utf8_lossy(b: &[u8]) -> Text {
        intern(b, || std::str::from_utf8(b).ok().map(Arc::from))
            .unwrap_or_else(|| Text::new(&String::from_utf8_lossy(b)))
    }

    /// Whether both are the very same shared text (cheaper than comparing).
    pub fn same(&self, other: &Text) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text::new(s)
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text::new(&s)
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        &*self.0 == other.as_str()
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// One object's value.
#[derive(Debug, PartialEq)]
pub enum Value {
    /// A number, already scaled.
    Number(Decimal),
    /// A floating-point number (A-XDR float32/float64).
    Float(f64),
    /// Text as the meter sent it (visible strings, DSMR values without a unit,
    /// DSMR hex-encoded ids as the hex text).
    Text(Text),
    /// Binary octets that are not text; printed as hex.
    Bytes(Box<[u8]>),
    /// A boolean.
    Bool(bool),
    /// A date and time (COSEM date-time value, DSMR timestamp).
    Time(MeterTime),
}

impl Clone for Value {
    fn clone(&self) -> Self {
        match self {
            Value::Number(d) => Value::Number(*d),
            Value::Float(f) => Value::Float(*f),
            Value::Text(t) => Value::Text(t.clone()),
            Value::Bytes(b) => Value::Bytes(b.clone()),
            Value::Bool(b) => Value::Bool(*b),
            Value::Time(t) => Value::Time(*t),
        }
    }

    // Copying a template's values over the last reading's: plain values
    // are overwritten without dropping, shared texts left when the same.
    #[inline]
    fn clone_from(&mut self, other: &Self) {
        match (&mut *self, other) {
            (Value::Number(a), Value::Number(b)) => *a = *b,
            (Value::Time(a), Value::Time(b)) => *a = *b,
            (Value::Text(a), Value::Text(b)) => a.clone_from(b),
            _ => *self = other.clone(),
        }
    }
}

impl Value {
    /// The value as a number, when it is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(d) => Some(d.to_f64()),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// The value as text, when it is text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Number(d) => d.serialize(s),
            Value::Float(f) if f.is_finite() => s.serialize_f64(*f),
            Value::Float(_) => s.serialize_none(),
            Value::Text(t) => s.serialize_str(t),
            Value::Bytes(b) => s.collect_str(&Hex(b)),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Time(t) => t.serialize(s),
        }
    }
}

/// Displays bytes as upper-case hex.
#[derive(Debug)]
pub struct Hex<'a>(pub &'a [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_is_exact_where_it_matters() {
        assert_eq!(Decimal::new(93, -1).to_f64(), 9.3);
        assert_eq!(Decimal::new(2500, -1).to_f64(), 250.0);
        assert_eq!(Decimal::new(10955225, 1).to_f64(), 109552250.0);
        assert_eq!(Decimal::new(1234567, -3).to_f64().to_string(), "1234.567");
        assert_eq!(Decimal::new(5, -30).to_f64(), 5e-30);
    }
}
