//! The semantic layer: from a record (OBIS code and raw values) to objects,
//! then sub-meters and the meter id from the objects.

use chrono_tz::Tz;

use super::lines::{decimal, hex_text, is_stamp, number_or_text, parse_groups, stamp, text, unit, value};
use crate::reading::obis::Obis;
use crate::reading::time::MeterTime;
use crate::reading::value::{Decimal, Text, Value};
use crate::reading::{Entry, Object, Objects, SubMeter};

/// The objects of a telegram as they are decoded: [`Objects::push`], with
/// a 512-bit filter of the codes so far that lets most objects skip its
/// search for a duplicate code.
#[derive(Debug)]
pub(super) struct Sink {
    objects: Objects,
    seen: [u64; FILTER_WORDS],
    /// Objects put under another F group than their own (duplicates).
    renamed: usize,
}

/// The filter's words: 512 bits, so that a telegram's few dozen codes
/// seldom share one.
const FILTER_WORDS: usize = 8;

/// The filter bit of a code.
fn bit(code: Obis) -> (usize, u64) {
    let mut b = [0u8; 8];
    if let Some(head) = b.get_mut(..6) {
        head.copy_from_slice(&code.0);
    }
    let h = u64::from_le_bytes(b).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 55;
    (usize::try_from(h >> 6).unwrap_or(0), 1u64 << (h & 63))
}

impl Sink {
    /// A sink into `list` (emptied) with room for one object per line of
    /// `data`.
    pub(super) fn new(mut list: Vec<Object>, data: &[u8]) -> Self {
        // Counted in chunks of 255 bytes with a byte-wide counter (which the
        // compiler vectorises).
        let lines: usize = data
            .chunks(255)
            .map(|c| usize::from(c.iter().fold(0u8, |n, b| n.wrapping_add(u8::from(*b == b'\n')))))
            .sum();
        list.clear();
        list.reserve(lines.min(1024));
        Sink { objects: Objects(list), seen: [0; FILTER_WORDS], renamed: 0 }
    }

    /// Whether no object has `code` yet for sure; then it is marked as
    /// taken, and the object must be pushed with [`Sink::push_new`].
    #[inline]
    fn take_new(&mut self, code: Obis) -> bool {
        let (word, mask) = bit(code);
        match self.seen.get_mut(word) {
            Some(w) if *w & mask == 0 => {
                *w |= mask;
                true
            }
            _ => false,
        }
    }

    /// Pushes an object whose code [`Sink::take_new`] found new.
    #[inline]
    fn push_new(&mut self, o: Object) {
        self.objects.0.push(o);
    }

    #[inline]
    fn push(&mut self, o: Object) {
        let (word, mask) = bit(o.code);
        let maybe_seen = self.seen.get(word).is_some_and(|w| w & mask != 0);
        if maybe_seen {
            // Possibly a duplicate: the full search (which may move it to
            // another F group).
            let code = o.code;
            self.objects.push(o);
            if let Some(last) = self.objects.0.last() {
                self.renamed += usize::from(last.code != code);
                let (word, mask) = bit(last.code);
                if let Some(w) = self.seen.get_mut(word) {
                    *w |= mask;
                }
            }
        } else {
            if let Some(w) = self.seen.get_mut(word) {
                *w |= mask;
            }
            self.objects.0.push(o);
        }
    }

    /// How many objects were renamed so far: a record none of whose
    /// objects was gives the same objects read alone (a template reads it
    /// so).
    pub(super) fn renamed(&self) -> usize {
        self.renamed
    }

    /// How many objects so far.
    pub(super) fn len(&self) -> usize {
        self.objects.0.len()
    }

    pub(super) fn into_objects(self) -> Objects {
        self.objects
    }
}

/// Adds the objects one record yields (one, or two for a DSMR 2.2/3.0 gas
/// profile) to `out`, and returns the meter clock when the record is
/// `0-0:1.0.0`.
pub(super) fn push_record(out: &mut Sink, code: Obis, vals: &[&[u8]], tz: Option<&Tz>) -> Option<MeterTime> {
    let [a, b, c, d, e, _] = code.0;
    match (a, b, c, d, e) {
        (0, 0, 1, 0, 0) => {
            let raw = vals.first().copied().unwrap_or_default();
            let t = stamp(raw, tz, false);
            let v = t.map_or_else(|| Value::Text(text(raw)), Value::Time);
            out.push(Object::new(code, v, None));
            return t;
        }
        (_, _, 99, 97, _) => out.push(failure_log(code, vals, tz)),
        (0, _, 98, 1, 0) => out.push(history(code, vals, tz)),
        (0, _, 24, 3, 0) => {
            let (profile, captured) = gas_profile(code, vals, tz);
            out.push(profile);
            if let Some(o) = captured {
                out.push(o);
            }
        }
        _ if out.take_new(code) => out.push_new(plain(code, vals, tz)),
        _ => out.push(plain(code, vals, tz)),
    }
    None
}

/// One value, a time-stamped value `(TST)(v*unit)`, or several values (the
/// first is the value, the others become entries).
#[inline(always)]
fn plain(code: Obis, vals: &[&[u8]], tz: Option<&Tz>) -> Object {
    // Each shape builds its object in one go: an object is large, and every
    // intermediate one is a copy.
    match vals {
        [] => Object::new(code, Value::Text(Text::default()), None),
        [t, v] if is_stamp(t) => {
            let (value, unit) = value(v);
            let text = hex_text_of(code, &value);
            Object { code, value, unit, time: stamp(t, tz, true), text, entries: Vec::new() }
        }
        [first] => {
            let (value, unit) = value(first);
            let text = hex_text_of(code, &value);
            Object { code, value, unit, time: None, text, entries: Vec::new() }
        }
        [first, rest @ ..] => {
            let (value, unit) = value(first);
            let text = hex_text_of(code, &value);
            let entries = rest.iter().map(|r| entry(None, None, r)).collect();
            Object { code, value, unit, time: None, text, entries }
        }
    }
}

/// The decoded text of a hex-encoded octet string value.
// Inlined: most values are not, and the look-up in the recent ones is a
// call of its own.
#[inline(always)]
fn hex_text_of(code: Obis, value: &Value) -> Option<Text> {
    match value {
        Value::Text(t) if is_hex_string(code) => decoded(t),
        _ => None,
    }
}

/// Slots of the hex texts decoded recently (direct-mapped: a mix of meters
/// sends more ids than a short list held, so that it missed every time).
const DECODED_SLOTS: usize = 64;

/// Longer hex texts (long text messages) are decoded each time, not kept:
/// the slots then hold at most ~100 KB.
const DECODED_MAX_LEN: usize = 1024;

/// A hex text and what it decodes to.
type Decoded = (Text, Option<Text>);

thread_local! {
    /// Hex texts decoded recently, each in the slot of its [`decoded_slot`]:
    /// a meter sends the same ids in every telegram, and an interned text
    /// is the same `Text` each time.
    static DECODED: std::cell::RefCell<Vec<Option<Decoded>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The slot of a hex text: its length and first and last eight bytes
/// (ids of one maker share their start, not their end).
#[inline(always)]
fn decoded_slot(b: &[u8]) -> usize {
    let word = |w: Option<&[u8]>| w.and_then(|w| <[u8; 8]>::try_from(w).ok()).map_or(0, u64::from_le_bytes);
    let first = word(b.get(..8));
    let last = word(b.len().checked_sub(8).and_then(|s| b.get(s..)));
    let h = (first ^ last.rotate_left(23) ^ b.len() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (h >> 58) as usize % DECODED_SLOTS
}

#[inline(never)]
fn decoded(hex: &Text) -> Option<Text> {
    if hex.len() > DECODED_MAX_LEN {
        return hex_text(hex.as_bytes());
    }
    DECODED.with(|c| {
        let Ok(mut c) = c.try_borrow_mut() else { return hex_text(hex.as_bytes()) };
        if c.is_empty() {
            c.resize(DECODED_SLOTS, None);
        }
        let Some(entry) = c.get_mut(decoded_slot(hex.as_bytes())) else { return hex_text(hex.as_bytes()) };
        // The same shared text, or equal bytes (a text message is too
        // long to be interned: a new text every time).
        if let Some((_, d)) = entry.as_ref().filter(|(h, _)| h.same(hex) || h.as_bytes() == hex.as_bytes()) {
            return d.clone();
        }
        let d = hex_text(hex.as_bytes());
        *entry = Some((hex.clone(), d.clone()));
        d
    })
}

/// Objects whose values are hex-encoded octet strings: equipment ids,
/// text messages, the Luxembourg logical device name.
fn is_hex_string(code: Obis) -> bool {
    let [a, b, c, d, e, _] = code.0;
    a == 0 && matches!((b, c, d, e), (_, 96, 1, 0..=2) | (0, 96, 13, _) | (0, 42, 0, 0))
}

fn entry(time: Option<MeterTime>, peak_time: Option<MeterTime>, raw: &[u8]) -> Entry {
    let (v, unit) = number_or_text(raw);
    Entry { time, peak_time, value: Some(v), unit }
}

/// A count: a number when it is one, else the text as sent.
fn count(raw: &[u8]) -> Value {
    decimal(raw).map_or_else(|| Value::Text(text(raw)), Value::Number)
}

/// Whether a value names an OBIS code (the buffer's captured object).
fn is_obis(raw: &[u8]) -> bool {
    parse_groups(raw).is_some()
}

/// `1-0:99.97.0(count)(0-0:96.7.19)(TST)(dur*s)…`: value = count, one
/// entry per failure (its end time and duration). Bogus dates give entries
/// without a time; unit-less durations are plain numbers.
fn failure_log(code: Obis, vals: &[&[u8]], tz: Option<&Tz>) -> Object {
    let n = vals.first().copied().unwrap_or_default();
    let mut o = Object::new(code, count(n), None);
    let rest = vals.get(1..).unwrap_or_default();
    let rest = match rest.split_first() {
        Some((r, tail)) if is_obis(r) => tail,
        _ => rest,
    };
    o.entries = rest
        .chunks(2)
        .map(|pair| match pair {
            [t, d] => {
                let mut e = entry(stamp(t, tz, true), None, d);
                // A placeholder entry (no real time, 0x7FFFFFFF s: Kaifa) has
                // no duration either: nothing of it is kept.
                if e.time.is_none() && e.value == Some(Value::Number(Decimal::int(i64::from(i32::MAX)))) {
                    e.value = None;
                    e.unit = None;
                }
                e
            }
            [x] if is_stamp(x) => Entry { time: stamp(x, tz, true), peak_time: None, value: None, unit: None },
            [x] => entry(None, None, x),
            _ => Entry { time: None, peak_time: None, value: None, unit: None },
        })
        .filter(|e| e.time.is_some() || e.value.is_some())
        .collect();
    o
}

/// `0-0:98.1.0`. Belgium: `(n)(1-0:1.6.0)(1-0:1.6.0)(start)(peak time)(v*kW)…`,
/// the monthly peaks of the last 13 months: value = n, one entry per month.
/// Hungary: a monthly billing profile `(TST)(v*kWh)(v*kWh)…`: value = the
/// number of values, time = the TST, one entry per value. Anything else:
/// the first value, the rest as entries.
fn history(code: Obis, vals: &[&[u8]], tz: Option<&Tz>) -> Object {
    match vals {
        [n, rest @ ..] if rest.first().is_some_and(|r| is_obis(r)) => {
            let mut o = Object::new(code, count(n), None);
            let refs = rest.iter().take_while(|r| is_obis(r)).count();
            let months = rest.get(refs..).unwrap_or_default();
            o.entries = months
                .chunks(3)
                .map(|m| match m {
                    [start, peak, v] => entry(stamp(start, tz, true), stamp(peak, tz, true), v),
                    [start, peak] if is_stamp(peak) => Entry {
                        time: stamp(start, tz, true),
                        peak_time: stamp(peak, tz, true),
                        value: None,
                        unit: None,
                    },
                    other => {
                        let raw = other.last().copied().unwrap_or_default();
                        entry(None, None, raw)
                    }
                })
                .collect();
            o
        }
        [t, rest @ ..] if is_stamp(t) => {
            let n = i64::try_from(rest.len()).unwrap_or(i64::MAX);
            let mut o = Object::new(code, Value::Number(Decimal::int(n)), None);
            o.time = stamp(t, tz, true);
            o.entries = rest.iter().map(|r| entry(None, None, r)).collect();
            o
        }
        [n] => Object::new(code, count(n), None),
        _ => plain(code, vals, tz),
    }
}

/// DSMR 2.2/3.0 `0-n:24.3.0(TST)(00)(60)(1)(0-n:24.2.1)(m3)` with the value
/// on the next line (joined into this record): the profile object itself
/// (value, unit and time of its last capture) and the captured object.
fn gas_profile(code: Obis, vals: &[&[u8]], tz: Option<&Tz>) -> (Object, Option<Object>) {
    let [t, _, _, _, target, u, v, ..] = vals else {
        return (plain(code, vals, tz), None);
    };
    let (mut val, mut un) = value(v);
    if un.is_none() {
        if let (Some(d), Some(u)) = (decimal(v), unit(u)) {
            (val, un) = (Value::Number(d), Some(u));
        }
    }
    let time = stamp(t, tz, true);
    let mut profile = Object::new(code, val.clone(), un.clone());
    profile.time = time;
    let target = parse_groups(target).unwrap_or(Obis::new(0, code.b(), 24, 2, 1, 255));
    let mut captured = Object::new(target, val, un);
    captured.time = time;
    (profile, Some(captured))
}

/// What an M-Bus device type meters (EN 13757-3 device types, as DSMR
/// writes them in decimal).
fn kind(device_type: Option<u16>) -> &'static str {
    match device_type {
        Some(2) => "electricity",
        Some(3) => "gas",
        Some(4 | 12 | 13) => "heat",
        Some(10 | 11) => "cooling",
        Some(6 | 7 | 21 | 22) => "water",
        _ => "other",
    }
}

/// Non-empty text of an object.
fn text_of(objects: &Objects, code: Obis) -> Option<String> {
    objects.get(code).and_then(object_text)
}

/// Whether [`submeters`] may read an object of this code (channels 1 and
/// up).
pub(super) fn is_submeter_code(code: Obis) -> bool {
    code.a() == 0 && code.b() > 0
}

/// One sub-meter per M-Bus channel that has a device type, an id or a
/// reading (`0-n:24.2.x`), into `out` (emptied first, its memory kept); a
/// dead channel keeps no value, unit or time.
///
/// One pass over the objects when they name at most [`CHANNELS`] channels
/// (a search per channel and field cost more than the rest of the fields),
/// else [`submeters_by_search`].
pub(super) fn submeters_into(objects: &Objects, out: &mut Vec<SubMeter>) {
    out.clear();
    // Per channel (in the order any of its objects came), the first object
    // of each code read, and whether a `24.1`–`24.3` object names it.
    #[derive(Clone, Copy, Default)]
    struct Found<'a> {
        channel: u8,
        named: bool,
        device: Option<&'a Object>,
        id0: Option<&'a Object>,
        id1: Option<&'a Object>,
        reading: Option<&'a Object>,
    }
    let mut found = [Found::default(); CHANNELS];
    let mut used = 0;
    // The named channels in the order they were first named.
    let mut order = [0usize; CHANNELS];
    let mut named = 0;
    for o in objects.iter() {
        let [a, b, c, d, e, f] = o.code.0;
        if a != 0 || b == 0 || !(c == 24 || (c == 96 && d == 1)) {
            continue;
        }
        let at = match found.get(..used).unwrap_or_default().iter().position(|x| x.channel == b) {
            Some(at) => at,
            None => match found.get_mut(used) {
                Some(slot) => {
                    slot.channel = b;
                    used += 1;
                    used - 1
                }
                None => return submeters_by_search(objects, out),
            },
        };
        let Some(x) = found.get_mut(at) else { continue };
        if c == 24 && matches!(d, 1..=3) && !x.named {
            x.named = true;
            if let Some(slot) = order.get_mut(named) {
                *slot = at;
                named += 1;
            }
        }
        // The first object of each.
        let slot = match (c, d, e, f) {
            (24, 1, 0, 255) => &mut x.device,
            (96, 1, 0, 255) => &mut x.id0,
            (96, 1, 1, 255) => &mut x.id1,
            (24, 2, _, 255) if matches!(o.value, Value::Number(_)) && o.unit.is_some() => &mut x.reading,
            _ => continue,
        };
        slot.get_or_insert(o);
    }
    for &at in order.get(..named).unwrap_or_default() {
        let Some(x) = found.get(at) else { continue };
        let device_type = x
            .device
            .and_then(|o| o.value.as_str())
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .and_then(|t| t.parse::<u16>().ok());
        let id = x.id0.and_then(object_text).or_else(|| x.id1.and_then(object_text));
        push_submeter(out, x.channel, device_type, id, x.reading);
    }
}

/// At most this many channels are read in one pass.
const CHANNELS: usize = 8;

/// The sub-meter of a channel, unless it has no device type, id or reading.
fn push_submeter(
    out: &mut Vec<SubMeter>,
    ch: u8,
    device_type: Option<u16>,
    id: Option<String>,
    reading: Option<&Object>,
) {
    let value = reading.and_then(|o| o.value.as_f64());
    if device_type.is_none() && id.is_none() && value.is_none() {
        return;
    }
    let mut k = kind(device_type);
    if device_type.is_none() {
        let u = reading.and_then(|o| o.unit.as_ref()).map(|u| u.as_str());
        if u.is_some_and(|u| u.eq_ignore_ascii_case("GJ")) {
            k = "heat";
        }
    }
    out.push(SubMeter {
        channel: ch,
        device_type,
        kind: k,
        id,
        value,
        unit: reading.and_then(|o| o.unit.clone()),
        time: reading.and_then(|o| o.time),
    });
}

/// Non-empty text of an object.
fn object_text(o: &Object) -> Option<String> {
    let t = o.value.as_str()?.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// [`submeters_into`] by a search per channel and field (any number of
/// channels); the reference the one pass is tested against.
pub(super) fn submeters_by_search(objects: &Objects, out: &mut Vec<SubMeter>) {
    out.clear();
    // The channels in the order they first appear (at most 255), without
    // allocating.
    let mut order = [0u8; 255];
    let mut count = 0;
    let mut seen = [false; 256];
    for o in objects.iter() {
        let [a, b, c, d, ..] = o.code.0;
        if a == 0 && b > 0 && c == 24 && matches!(d, 1..=3) {
            let new = seen.get_mut(usize::from(b)).is_some_and(|s| !std::mem::replace(s, true));
            if let (true, Some(slot)) = (new, order.get_mut(count)) {
                *slot = b;
                count += 1;
            }
        }
    }
    for &ch in order.get(..count).unwrap_or_default() {
        let device_type = objects
            .get(Obis::new(0, ch, 24, 1, 0, 255))
            .and_then(|o| o.value.as_str())
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .and_then(|t| t.parse::<u16>().ok());
        let id = text_of(objects, Obis::new(0, ch, 96, 1, 0, 255))
            .or_else(|| text_of(objects, Obis::new(0, ch, 96, 1, 1, 255)));
        let reading = objects.iter().find(|o| {
            let [a, b, c, d, _, f] = o.code.0;
            a == 0
                && b == ch
                && c == 24
                && d == 2
                && f == 255
                && matches!(o.value, Value::Number(_))
                && o.unit.is_some()
        });
        push_submeter(out, ch, device_type, id, reading);
    }
}

/// Where a telegram may name the meter, in order of preference.
pub(super) const METER_ID_CODES: [Obis; 4] = [
    Obis::new(0, 0, 96, 1, 1, 255),
    Obis::new(0, 0, 96, 1, 0, 255),
    Obis::new(1, 0, 0, 0, 0, 255),
    Obis::new(0, 0, 42, 0, 0, 255),
];

/// The meter's id: `0-0:96.1.1`, else `0-0:96.1.0`, else `1-0:0.0.0`, else
/// `0-0:42.0.0`; the decoded text when the hex decodes to printable text.
pub(super) fn meter_id(objects: &Objects) -> Option<Text> {
    METER_ID_CODES.iter().find_map(|c| {
        let o = objects.get(*c)?;
        let t = o.value.as_str()?.trim();
        if t.is_empty() {
            return None;
        }
        match &o.text {
            Some(text) => Some(text.clone()),
            None => trimmed_text(&o.value),
        }
    })
}

/// A text value without white space at its ends, when any is left: the
/// value's own text when there was none to trim.
pub(super) fn trimmed_text(value: &Value) -> Option<Text> {
    let Value::Text(t) = value else { return None };
    let trimmed = t.trim();
    if trimmed.is_empty() {
        None
    } else if trimmed.len() == t.len() {
        Some(t.clone())
    } else {
        Some(Text::new(trimmed))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use crate::reading::value::Unit;

    fn one(line: &str) -> Vec<Object> {
        let (code, vals) = super::super::lines::split_record(line.as_bytes()).unwrap();
        let mut out = Sink::new(Vec::new(), b"");
        push_record(&mut out, code, &vals, None);
        out.into_objects().0
    }

    #[test]
    fn failure_log_shapes() {
        let o = &one("1-0:99.97.0(0)(0-0:96.7.19)")[0];
        assert_eq!(o.value, Value::Number(Decimal::int(0)));
        assert!(o.entries.is_empty());
        let o = &one("1-0:99.97.0(2)(0-0:96.7.19)(101208152415W)(0000000240*s)(101208151004W)(0000000301*s)")[0];
        assert_eq!(o.entries.len(), 2);
        assert_eq!(o.entries[0].time.unwrap().to_string(), "2010-12-08T15:24:15+01:00");
        assert_eq!(o.entries[1].value, Some(Value::Number(Decimal::int(301))));
        assert_eq!(o.entries[1].unit, Some(Unit::known("s")));
        let o = &one("1-0:99.97.0(1)(0-0:96.7.19)(000101000001W)(2147483647*s)")[0];
        assert!(o.entries.is_empty(), "a placeholder entry is absent");
        let o = &one(
            "1-0:99.97.0(4)(0-0:96.7.19)(000000000000S)(23)(000000000000W)(00000000)(000000000000W)(8)(000000000000W)",
        )[0];
        // The last one has neither a real time nor a duration: not kept.
        assert_eq!(o.entries.len(), 3);
        assert!(o.entries.iter().all(|e| e.time.is_none()));
        assert_eq!(o.entries[0].value, Some(Value::Number(Decimal::int(23))));
        let o = &one("1-0:99.97.0(1)(0-0:96.7.19)(000101000024W)(2147483647*s)")[0];
        assert!(o.entries.is_empty());
    }

    #[test]
    fn demand_history_shapes() {
        let o = &one(
            "0-0:98.1.0(3)(1-0:1.6.0)(1-0:1.6.0)(200501000000S)(200423192538S)(03.695*kW)(200401000000S)(200305122139S)(05.980*kW)(632525252525W)(200210035421W)(04.318*kW)",
        )[0];
        assert_eq!(o.value, Value::Number(Decimal::int(3)));
        assert_eq!(o.entries.len(), 3);
        assert_eq!(o.entries[0].peak_time.unwrap().local.to_string(), "2020-04-23 19:25:38");
        assert_eq!(o.entries[1].value, Some(Value::Number(Decimal::new(5980, -3))));
        assert!(o.entries[2].time.is_none());
        let o = &one("0-0:98.1.0(230701000000S)(000040.777*kWh)(03.564*kW)")[0];
        assert_eq!(o.entries.len(), 2);
        assert!(o.time.is_some());
        let o = &one("0-0:98.1.0(12)")[0];
        assert_eq!(o.value, Value::Number(Decimal::int(12)));
        let o = &one("0-0:98.1.0()")[0];
        assert_eq!(o.value, Value::Text(Text::default()));
        let o = &one("0-0:98.1.0(1)(1-0:1.6.0)(1-0:1.6.0)(2005)")[0];
        assert_eq!(o.entries.len(), 1);
    }

    #[test]
    fn legacy_gas_profile() {
        let objs = one("0-1:24.3.0(161107190000)(00)(60)(1)(0-1:24.2.1)(m3)(00001.001)");
        assert_eq!(objs.len(), 2);
        assert_eq!(objs[1].code, Obis::new(0, 1, 24, 2, 1, 255));
        assert_eq!(objs[1].value, Value::Number(Decimal::new(1001, -3)));
        assert_eq!(objs[1].unit, Some(Unit::known("m3")));
        assert_eq!(objs[1].time.unwrap().local.to_string(), "2016-11-07 19:00:00");
        // Without its value line: kept, nothing captured.
        assert_eq!(one("0-1:24.3.0(161107190000)(00)(60)(1)(0-1:24.2.1)(m3)").len(), 1);
    }

    proptest::proptest! {
        /// The one pass gives the sub-meters the search per channel gives,
        /// for up to a dozen channels (past the pass's eight) in any order.
        #[test]
        fn submeters_one_pass_equals_search(
            objs in proptest::collection::vec((0u8..12, 0usize..6, 0u8..3, proptest::bool::ANY, 0usize..5), 0..40)
        ) {
            let codes = [(24, 1), (24, 2), (24, 3), (96, 1), (24, 4), (1, 8)];
            let list = objs
                .iter()
                .map(|&(b, k, e, f255, v)| {
                    let (c, d) = codes[k];
                    let code = Obis::new(0, b, c, d, e, if f255 { 255 } else { 0 });
                    let (value, unit) = match v {
                        0 => (Value::Number(Decimal::new(1234, -3)), Some(Unit::known("m3"))),
                        1 => (Value::Number(Decimal::int(7)), None),
                        2 => (Value::Text(Text::new(" 3 ")), None),
                        3 => (Value::Text(Text::new("")), None),
                        _ => (Value::Text(Text::new("4730303136")), None),
                    };
                    Object::new(code, value, unit)
                })
                .collect();
            let objects = Objects(list);
            let (mut fast, mut slow) = (Vec::new(), Vec::new());
            submeters_into(&objects, &mut fast);
            submeters_by_search(&objects, &mut slow);
            proptest::prop_assert_eq!(fast, slow);
        }
    }

    #[test]
    fn kinds() {
        assert_eq!(kind(Some(3)), "gas");
        assert_eq!(kind(Some(7)), "water");
        assert_eq!(kind(Some(4)), "heat");
        assert_eq!(kind(None), "other");
    }
}
