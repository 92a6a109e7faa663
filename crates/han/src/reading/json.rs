//! The stream line written directly: the same JSON as the `Serialize`
//! implementations (a test holds them equal on every corpus reading), at a
//! fraction of the cost. han-read writes tens of thousands of lines a second
//! on a Pi, and serde's general path spent half of that time escaping keys
//! that need no escaping and formatting exact decimals as floats.

use crate::reading::time::MeterTime;
use crate::reading::value::{Decimal, Hex, Value};
use crate::reading::written::{Dirty, Head, ObisJson};
use crate::reading::{Amount, Entry, Object, Objects, Reading, STREAM_VERSION, SubMeter};

/// `"name":`, written as one literal.
macro_rules! key {
    ($name:literal) => {
        concat!("\"", $name, "\":")
    };
}

/// A byte sink for one line.
pub(crate) struct Line<'a>(pub &'a mut Vec<u8>);

impl Line<'_> {
    fn raw(&mut self, s: &str) {
        self.0.extend_from_slice(s.as_bytes());
    }

    /// A JSON string, escaped as serde_json escapes it.
    pub(crate) fn string(&mut self, s: &str) {
        self.0.push(b'"');
        let b = s.as_bytes();
        // Without early exit, so that the compiler vectorises the check.
        let special = b.iter().fold(false, |any, &c| any | (c < 0x20) | (c == b'"') | (c == b'\\'));
        if !special {
            self.0.extend_from_slice(b);
        } else {
            // What needs escaping is ASCII: the runs between are copied as
            // they are, other UTF-8 included (as serde_json writes it).
            let mut run = 0;
            for (i, &c) in b.iter().enumerate() {
                let escaped: &[u8] = match c {
                    b'"' => b"\\\"",
                    b'\\' => b"\\\\",
                    b'\n' => b"\\n",
                    b'\r' => b"\\r",
                    b'\t' => b"\\t",
                    0x08 => b"\\b",
                    0x0C => b"\\f",
                    c if c < 0x20 => {
                        self.0.extend_from_slice(b.get(run..i).unwrap_or_default());
                        let hex = |n: u8| HEX.get(usize::from(n & 0xF)).copied().unwrap_or(b'0');
                        self.0.extend_from_slice(&[b'\\', b'u', b'0', b'0', hex(c >> 4), hex(c)]);
                        run = i + 1;
                        continue;
                    }
                    _ => continue,
                };
                self.0.extend_from_slice(b.get(run..i).unwrap_or_default());
                self.0.extend_from_slice(escaped);
                run = i + 1;
            }
            self.0.extend_from_slice(b.get(run..).unwrap_or_default());
        }
        self.0.push(b'"');
    }

    /// `"name":` for a name that needs no escaping, given with its quotes
    /// and colon (`key!`) so that it is one copy.
    fn key(&mut self, first: &mut bool, quoted: &str) {
        if !std::mem::take(first) {
            self.0.push(b',');
        }
        self.raw(quoted);
    }

    fn uint(&mut self, v: u64) {
        // Fixed-size writes of up to three digits: each is a few stores,
        // where a copy of a length known only at run time is a library call.
        if v < 1000 {
            self.below_1000(v);
        } else {
            self.uint(v / 1000);
            self.three(v % 1000);
        }
    }

    fn below_1000(&mut self, v: u64) {
        let d = |x: u64| b'0' + (x % 10) as u8;
        if v < 10 {
            self.0.push(d(v));
        } else if v < 100 {
            self.0.extend_from_slice(&[d(v / 10), d(v)]);
        } else {
            self.three(v);
        }
    }

    /// The last three digits of `v`, leading zeros included.
    fn three(&mut self, v: u64) {
        let d = |x: u64| b'0' + (x % 10) as u8;
        self.0.extend_from_slice(&[d(v / 100), d(v / 10), d(v)]);
    }

    /// A float as serde_json writes it (`null` when not finite).
    fn float(&mut self, f: f64) {
        // Quantities come from meter decimals with at most three places:
        // written from their digits when that is exactly the same number
        // (a correctly rounded quotient equals the parse of its decimal).
        if f.abs() < 1e12 {
            // Whole numbers (powers in W and var, most counters) first: no
            // scaling and rounding.
            let whole = f as i64;
            if whole as f64 == f && (whole != 0 || f.is_sign_positive()) {
                if whole < 0 {
                    self.0.push(b'-');
                }
                self.uint(whole.unsigned_abs());
                self.0.extend_from_slice(b".0");
                return;
            }
            // Rounded by hand: `f64::round` is a library call on baseline x86_64.
            let x = f * 1000.0;
            let t = x as i64;
            let m = if (x - t as f64).abs() >= 0.5 { t + if x < 0.0 { -1 } else { 1 } } else { t };
            if m as f64 / 1000.0 == f {
                if m < 0 || (m == 0 && f.is_sign_negative()) {
                    self.0.push(b'-');
                }
                let m = m.unsigned_abs();
                self.uint(m / 1000);
                self.0.push(b'.');
                let frac = m % 1000;
                if frac == 0 {
                    self.0.push(b'0');
                } else {
                    // Trailing zeros dropped, each length a fixed-size write.
                    if frac % 100 == 0 {
                        self.0.push(b'0' + (frac / 100) as u8);
                    } else if frac % 10 == 0 {
                        self.0.extend_from_slice(&[b'0' + (frac / 100) as u8, b'0' + (frac / 10 % 10) as u8]);
                    } else {
                        self.three(frac);
                    }
                }
                return;
            }
        }
        if f.is_finite() {
            // serde_json's own formatting keeps the two paths identical.
            let _ = serde_json::to_writer(&mut *self.0, &f);
        } else {
            self.raw("null");
        }
    }

    /// An exact decimal: integers as integers (as `Serialize` does), others
    /// with their digits, so `123456.789` never passes through a float.
    fn decimal(&mut self, d: Decimal) {
        if d.exponent >= 0 {
            let p = 10i64.checked_pow(u32::from(d.exponent.unsigned_abs()));
            if let Some(v) = p.and_then(|p| d.mantissa.checked_mul(p)) {
                if v < 0 {
                    self.0.push(b'-');
                }
                return self.uint(v.unsigned_abs());
            }
            return self.float(d.to_f64());
        }
        let frac = u32::from(d.exponent.unsigned_abs());
        let Some(div) = 10u64.checked_pow(frac).filter(|_| frac <= 18) else { return self.float(d.to_f64()) };
        // Same value as the float path, but written exactly; a reader that
        // parses it gets the same f64 as from serde's shortest form.
        if d.mantissa < 0 {
            self.0.push(b'-');
        }
        let m = d.mantissa.unsigned_abs();
        self.uint(m / div);
        self.0.push(b'.');
        let d = |x: u64| b'0' + (x % 10) as u8;
        // Meters send one to three places: fixed-size writes.
        match frac {
            1 => return self.0.push(d(m)),
            2 => return self.0.extend_from_slice(&[d(m / 10), d(m)]),
            3 => return self.three(m),
            _ => {}
        }
        let mut digits = [b'0'; 20];
        let mut rest = m % div;
        for i in (0..frac as usize).rev() {
            if let Some(slot) = digits.get_mut(i) {
                *slot = b'0' + (rest % 10) as u8;
            }
            rest /= 10;
        }
        self.0.extend_from_slice(digits.get(..frac as usize).unwrap_or(&[]));
    }

    /// A unit: the common ones are short constants (`Unit::known`) that
    /// need no escaping; the check is a few bytes.
    fn unit(&mut self, u: &crate::reading::value::Unit) {
        match &u.0 {
            std::borrow::Cow::Borrowed(s)
                if s.len() <= 8 && s.bytes().all(|c| c.is_ascii_graphic() && c != b'"' && c != b'\\') =>
            {
                self.0.push(b'"');
                self.raw(s);
                self.0.push(b'"');
            }
            _ => self.string(u.as_str()),
        }
    }

    /// `,"unit":"kW"`: a common unit in one copy, any other as [`Line::unit`].
    fn unit_entry(&mut self, u: &crate::reading::value::Unit) {
        const HEAD: &[u8] = b",\"unit\":\"";
        match &u.0 {
            std::borrow::Cow::Borrowed(s)
                if s.len() <= 8 && s.bytes().all(|c| c.is_ascii_graphic() && c != b'"' && c != b'\\') =>
            {
                let mut buf = [b'"'; HEAD.len() + 9];
                let n = HEAD.len() + s.len();
                let (head, rest) = buf.split_at_mut(HEAD.len());
                head.copy_from_slice(HEAD);
                if let Some(unit) = rest.get_mut(..s.len()) {
                    unit.copy_from_slice(s.as_bytes());
                }
                // The closing quote is the buffer's own.
                self.0.extend_from_slice(buf.get(..n + 1).unwrap_or_default());
            }
            _ => {
                self.raw(",");
                self.raw(key!("unit"));
                self.unit(u);
            }
        }
    }

    fn time(&mut self, t: &MeterTime) {
        self.0.push(b'"');
        self.0.extend_from_slice(t.write(&mut [0; 32]).as_bytes());
        self.0.push(b'"');
    }

    /// `"name":value` for a quantity (`quoted` as `key!` writes it).
    fn quantity(&mut self, first: &mut bool, quoted: &str, v: Amount<'_>) {
        self.key(first, quoted);
        match v {
            Amount::Float(f) => self.float(f),
            Amount::Count(n) => self.uint(u64::from(n)),
            Amount::Time(t) => self.time(t),
        }
    }

    fn value(&mut self, v: &Value) {
        match v {
            Value::Number(d) => self.decimal(*d),
            Value::Float(f) => self.float(*f),
            Value::Text(t) => self.string(t),
            Value::Bytes(b) => {
                self.0.push(b'"');
                self.raw(&Hex(b).to_string());
                self.0.push(b'"');
            }
            Value::Bool(b) => self.raw(if *b { "true" } else { "false" }),
            Value::Time(t) => self.time(t),
        }
    }

    fn entry(&mut self, e: &Entry) {
        let mut first = true;
        self.0.push(b'{');
        if let Some(t) = &e.time {
            self.key(&mut first, key!("time"));
            self.time(t);
        }
        if let Some(t) = &e.peak_time {
            self.key(&mut first, key!("peak_time"));
            self.time(t);
        }
        if let Some(v) = &e.value {
            self.key(&mut first, key!("value"));
            self.value(v);
        }
        if let Some(u) = &e.unit {
            self.key(&mut first, key!("unit"));
            self.unit(u);
        }
        self.0.push(b'}');
    }

    /// An object after its value: the caller wrote `{"value":` and it.
    fn object_after_value(&mut self, o: &Object) {
        let mut first = false;
        if let Some(u) = &o.unit {
            self.unit_entry(u);
        }
        if let Some(t) = &o.time {
            self.key(&mut first, key!("time"));
            self.time(t);
        }
        if let Some(t) = &o.text {
            self.key(&mut first, key!("text"));
            self.string(t);
        }
        if !o.entries.is_empty() {
            self.key(&mut first, key!("entries"));
            self.0.push(b'[');
            for (i, e) in o.entries.iter().enumerate() {
                if i > 0 {
                    self.0.push(b',');
                }
                self.entry(e);
            }
            self.0.push(b']');
        }
        self.0.push(b'}');
    }

    /// Object `i` of `obis`: `,"A-B:C.D.E":{"value":...}` (no comma
    /// before the first), its key and `{"value":` built in one buffer and
    /// written in one copy.
    /// Returns where the value went in the buffer.
    fn obis_entry(&mut self, i: usize, o: &Object) -> std::ops::Range<usize> {
        const VALUE: &[u8] = b"\":{\"value\":";
        let mut key = [0u8; 48];
        let at = usize::from(i > 0);
        if let Some(c) = key.first_mut() {
            *c = b',';
        }
        if let Some(q) = key.get_mut(at) {
            *q = b'"';
        }
        let n = key
            .get_mut(at + 1..at + 25)
            .and_then(|k| <&mut [u8; 24]>::try_from(k).ok())
            .map_or(0, |k| o.code.write_key_bytes(k));
        let end = at + 1 + n;
        if let Some(tail) = key.get_mut(end..end + VALUE.len()) {
            tail.copy_from_slice(VALUE);
        }
        self.0.extend_from_slice(key.get(..end + VALUE.len()).unwrap_or(&[]));
        let from = self.0.len();
        self.value(&o.value);
        let to = self.0.len();
        self.object_after_value(o);
        from..to
    }

    fn submeter(&mut self, s: &SubMeter) {
        let mut first = true;
        self.0.push(b'{');
        self.key(&mut first, key!("channel"));
        self.uint(u64::from(s.channel));
        if let Some(d) = s.device_type {
            self.key(&mut first, key!("device_type"));
            self.uint(u64::from(d));
        }
        self.key(&mut first, key!("kind"));
        self.string(s.kind);
        if let Some(id) = &s.id {
            self.key(&mut first, key!("id"));
            self.string(id);
        }
        if let Some(v) = s.value {
            self.key(&mut first, key!("value"));
            self.float(v);
        }
        if let Some(u) = &s.unit {
            self.key(&mut first, key!("unit"));
            self.unit(u);
        }
        if let Some(t) = &s.time {
            self.key(&mut first, key!("time"));
            self.time(t);
        }
        self.0.push(b'}');
    }
}

impl ObisJson {
    /// Writes `r`'s head, `,"protocol":` through the list id, or copies
    /// it as last written when a template's reading says the same again.
    fn head(&self, r: &Reading, l: &mut Line<'_>) {
        let Ok(mut w) = self.0.try_borrow_mut() else { return r.write_head(l) };
        if !w.on {
            return r.write_head(l);
        }
        if w.head_of.as_ref().is_some_and(|h| h.is(r)) {
            l.0.extend_from_slice(&w.head);
            return;
        }
        let start = l.0.len();
        r.write_head(l);
        let w = &mut *w;
        w.head.clear();
        w.head.extend_from_slice(l.0.get(start..).unwrap_or_default());
        w.head_of = Some(Head::of(r));
    }

    /// Writes `obis`'s objects (what follows `"obis":{`), copying what did
    /// not change since the last line, and remembers them when kept.
    fn write(&self, obis: &Objects, l: &mut Line<'_>) {
        let Ok(mut w) = self.0.try_borrow_mut() else {
            for (i, o) in obis.iter().enumerate() {
                l.obis_entry(i, o);
            }
            return;
        };
        let w = &mut *w;
        let start = l.0.len();
        let at = |p: usize| u32::try_from(p.saturating_sub(start)).unwrap_or(u32::MAX);
        if w.on && w.valid && w.parts.len() == obis.len() && w.dirty.len() == obis.len() {
            // What did not change is copied a run at a time from `run` in
            // the old bytes; `shift` is how far the new offsets are from the
            // old ones since the last thing written anew.
            let (mut run, mut old_start, mut shift) = (0usize, 0usize, 0i64);
            let moved = |p: u32, shift: i64| u32::try_from(i64::from(p) + shift).unwrap_or(u32::MAX);
            for ((i, o), (part, dirty)) in obis.iter().enumerate().zip(w.parts.iter_mut().zip(w.dirty.iter_mut())) {
                let [from, to, end] = *part;
                match std::mem::take(dirty) {
                    Dirty::Clean => *part = [moved(from, shift), moved(to, shift), moved(end, shift)],
                    Dirty::Value => {
                        l.0.extend_from_slice(w.bytes.get(run..from as usize).unwrap_or_default());
                        let new_from = at(l.0.len());
                        l.value(&o.value);
                        let new_to = at(l.0.len());
                        shift = i64::from(new_to) - i64::from(to);
                        run = to as usize;
                        *part = [new_from, new_to, moved(end, shift)];
                    }
                    Dirty::Whole => {
                        l.0.extend_from_slice(w.bytes.get(run..old_start).unwrap_or_default());
                        let value = l.obis_entry(i, o);
                        let new_end = at(l.0.len());
                        shift = i64::from(new_end) - i64::from(end);
                        run = end as usize;
                        *part = [at(value.start), at(value.end), new_end];
                    }
                }
                old_start = end as usize;
            }
            l.0.extend_from_slice(w.bytes.get(run..old_start).unwrap_or_default());
        } else {
            w.parts.clear();
            for (i, o) in obis.iter().enumerate() {
                let value = l.obis_entry(i, o);
                if w.on {
                    w.parts.push([at(value.start), at(value.end), at(l.0.len())]);
                }
            }
            w.dirty.clear();
            w.dirty.resize(obis.len(), Dirty::Clean);
        }
        if w.on {
            w.bytes.clear();
            w.bytes.extend_from_slice(l.0.get(start..).unwrap_or_default());
            w.valid = true;
        }
    }
}

const HEX: [u8; 16] = *b"0123456789abcdef";

/// The last `received` written (seconds, nanoseconds) and its text, per
/// thread.
type Stamp = (i64, u32, [u8; 32], usize);

thread_local! {
    static RECEIVED: std::cell::Cell<Stamp> = const { std::cell::Cell::new((0, u32::MAX, [0; 32], 0)) };
}

/// `"2026-12-07T17:16:06.309Z"`: every reading of one chunk of input has
/// the same `received`, so its text is made once and copied after.
fn received_text(r: &chrono::DateTime<chrono::Utc>, out: &mut Vec<u8>) {
    let key = (r.timestamp(), r.timestamp_subsec_nanos());
    let (secs, nanos, mut text, mut len) = RECEIVED.with(std::cell::Cell::get);
    if (secs, nanos) != key {
        len = crate::reading::time::utc_millis_bytes(r, &mut text).len();
        RECEIVED.with(|c| c.set((key.0, key.1, text, len)));
    }
    out.push(b'"');
    out.extend_from_slice(text.get(..len).unwrap_or_default());
    out.push(b'"');
}

impl Reading {
    /// `,"protocol":...` through the list id: never the line's first key.
    fn write_head(&self, l: &mut Line<'_>) {
        let mut first = false;
        l.key(&mut first, key!("protocol"));
        l.string(self.protocol.name());
        l.key(&mut first, key!("framing"));
        l.string(self.framing.name());
        if self.encrypted {
            l.key(&mut first, key!("encrypted"));
            l.raw("true");
        }
        if let Some(v) = self.manufacturer {
            l.key(&mut first, key!("manufacturer"));
            l.string(v);
        }
        for (name, v) in
            [(key!("meter_id"), &self.meter_id), (key!("meter_model"), &self.meter_model), (key!("list"), &self.list)]
        {
            if let Some(v) = v {
                l.key(&mut first, name);
                l.string(v);
            }
        }
    }

    /// Appends this reading as one stream line (JSON and a newline) to
    /// `out`: the same document as `serde_json::to_writer(&reading)`, faster.
    pub fn write_json_line(&self, out: &mut Vec<u8>) {
        self.write_json_line_received(self.received.as_ref(), out);
    }

    /// [`Reading::write_json_line`] with `received` in place of the
    /// reading's own: for a reading that is only lent
    /// ([`crate::Decoder::next_event_ref`]).
    pub fn write_json_line_received(&self, received: Option<&chrono::DateTime<chrono::Utc>>, out: &mut Vec<u8>) {
        out.reserve(256 + 96 * self.obis.len());
        let mut l = Line(out);
        let mut first = true;
        l.0.push(b'{');
        l.key(&mut first, key!("v"));
        l.uint(u64::from(STREAM_VERSION));
        if let Some(r) = received {
            l.key(&mut first, key!("received"));
            received_text(r, l.0);
        }
        if let Some(t) = &self.meter_time {
            l.key(&mut first, key!("meter_time"));
            l.time(t);
        }
        self.json.head(self, &mut l);
        self.quantities.each_present(|key, v| l.quantity(&mut first, key, v));
        if !self.submeters.is_empty() {
            l.key(&mut first, key!("submeters"));
            l.0.push(b'[');
            for (i, s) in self.submeters.iter().enumerate() {
                if i > 0 {
                    l.0.push(b',');
                }
                l.submeter(s);
            }
            l.0.push(b']');
        }
        l.key(&mut first, key!("obis"));
        l.0.push(b'{');
        self.json.write(&self.obis, &mut l);
        l.raw("}}\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn float_text(f: f64) -> String {
        let mut v = Vec::new();
        Line(&mut v).float(f);
        String::from_utf8(v).unwrap()
    }

    fn decimal_text(d: Decimal) -> String {
        let mut v = Vec::new();
        Line(&mut v).decimal(d);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn fixed_cases() {
        assert_eq!(float_text(1362.0), "1362.0");
        assert_eq!(float_text(6466.961), "6466.961");
        assert_eq!(float_text(-0.5), "-0.5");
        assert_eq!(float_text(0.30000000000000004), "0.30000000000000004");
        assert_eq!(float_text(f64::NAN), "null");
        assert_eq!(float_text(-0.0), "-0.0");
        assert_eq!(float_text(0.0), "0.0");
        assert_eq!(float_text(-3.0), "-3.0");
        assert_eq!(float_text(999_999_999_999.0), "999999999999.0");
        assert_eq!(decimal_text(Decimal::new(-5, -1)), "-0.5");
        assert_eq!(decimal_text(Decimal::new(10, -3)), "0.010");
        assert_eq!(decimal_text(Decimal::new(42, 2)), "4200");
        assert_eq!(decimal_text(Decimal::new(-7, -18)), "-0.000000000000000007");
        assert_eq!(decimal_text(Decimal::new(i64::MIN, -18)), "-9.223372036854775808");
        for v in [0, 9, 10, 99, 100, 999, 1000, 123_456_789, u64::MAX] {
            let mut t = Vec::new();
            Line(&mut t).uint(v);
            assert_eq!(String::from_utf8(t).unwrap(), v.to_string());
        }
    }

    proptest! {
        #[test]
        fn floats_parse_back_exactly(f in proptest::num::f64::NORMAL | proptest::num::f64::ZERO) {
            let t = float_text(f);
            prop_assert_eq!(t.parse::<f64>().ok(), Some(f), "{}", t);
        }

        #[test]
        fn strings_as_serde_writes_them(chars in proptest::collection::vec(prop_oneof![
            any::<char>(),
            (0u8..0x20).prop_map(char::from),
            Just('"'),
            Just('\\'),
        ], 0..40)) {
            let s: String = chars.into_iter().collect();
            let mut v = Vec::new();
            Line(&mut v).string(&s);
            prop_assert_eq!(String::from_utf8(v).unwrap(), serde_json::to_string(&s).unwrap());
        }

        #[test]
        fn meter_floats_as_serde_writes_them(m in -1_000_000_000_000_000i64..1_000_000_000_000_000, e in 0i32..5) {
            let f = m as f64 / 10f64.powi(e);
            prop_assert_eq!(float_text(f), serde_json::to_string(&f).unwrap());
        }

        #[test]
        fn meter_decimals_parse_back_exactly(m in -10_000_000_000i64..10_000_000_000, e in -6i8..4) {
            let d = Decimal::new(m, e);
            let f = d.to_f64();
            prop_assert_eq!(float_text(f).parse::<f64>().ok(), Some(f));
            prop_assert_eq!(decimal_text(d).parse::<f64>().ok(), Some(f));
        }
    }
}
