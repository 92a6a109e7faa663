//! The semantic layer: from a record (OBIS code and raw values) to objects,
//! then sub-meters and the meter id from the objects.

use chrono_tz::Tz;

use super::lines::{decimal, hex_text, is_stamp, number_or_text, stamp, text, unit, value};
use crate::obis::{Obis, parse_groups};
use crate::reading::{Entry, Object, Objects, SubMeter};
use crate::time::MeterTime;
use crate::value::{Decimal, Value};

/// Adds the objects one record yields (one, or two for a DSMR 2.2/3.0 gas
/// profile) to `out`, and returns the meter clock when the record is
/// `0-0:1.0.0`.
pub(crate) fn push_record(out: &mut Objects, code: Obis, vals: &[&[u8]], tz: Option<&Tz>) -> Option<MeterTime> {
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
        _ => out.push(plain(code, vals, tz)),
    }
    None
}

/// One value, a time-stamped value `(TST)(v*unit)`, or several values (the
/// first is the value, the others become entries).
fn plain(code: Obis, vals: &[&[u8]], tz: Option<&Tz>) -> Object {
    let mut o = match vals {
        [] => Object::new(code, Value::Text(String::new()), None),
        [t, v] if is_stamp(t) => {
            let (value, unit) = value(v);
            let mut o = Object::new(code, value, unit);
            o.time = stamp(t, tz, true);
            o
        }
        [first, rest @ ..] => {
            let (value, unit) = value(first);
            let mut o = Object::new(code, value, unit);
            o.entries = rest.iter().map(|r| entry(None, None, r)).collect();
            o
        }
    };
    if is_hex_string(code) {
        if let Value::Text(t) = &o.value {
            o.text = hex_text(t.as_bytes());
        }
    }
    o
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
            [t, d] => entry(stamp(t, tz, true), None, d),
            [x] if is_stamp(x) => Entry { time: stamp(x, tz, true), peak_time: None, value: None, unit: None },
            [x] => entry(None, None, x),
            _ => Entry { time: None, peak_time: None, value: None, unit: None },
        })
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
    let t = objects.get(code)?.value.as_str()?.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// One sub-meter per M-Bus channel that has a device type, an id or a
/// reading (`0-n:24.2.x`); a dead channel keeps no value, unit or time.
pub(crate) fn submeters(objects: &Objects) -> Vec<SubMeter> {
    let mut channels: Vec<u8> = Vec::new();
    for o in objects.iter() {
        let [a, b, c, d, ..] = o.code.0;
        if a == 0 && b > 0 && c == 24 && matches!(d, 1..=3) && !channels.contains(&b) {
            channels.push(b);
        }
    }
    let mut out = Vec::new();
    for ch in channels {
        let device_type = text_of(objects, Obis::new(0, ch, 24, 1, 0, 255)).and_then(|t| t.parse::<u16>().ok());
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
        let value = reading.and_then(|o| o.value.as_f64());
        if device_type.is_none() && id.is_none() && value.is_none() {
            continue;
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
    out
}

/// The meter's id: `0-0:96.1.1`, else `0-0:96.1.0`, else `1-0:0.0.0`, else
/// `0-0:42.0.0`; the decoded text when the hex decodes to printable text.
pub(crate) fn meter_id(objects: &Objects) -> Option<String> {
    let codes = [
        Obis::new(0, 0, 96, 1, 1, 255),
        Obis::new(0, 0, 96, 1, 0, 255),
        Obis::new(1, 0, 0, 0, 0, 255),
        Obis::new(0, 0, 42, 0, 0, 255),
    ];
    codes.iter().find_map(|c| {
        let o = objects.get(*c)?;
        let t = o.value.as_str()?.trim();
        if t.is_empty() {
            return None;
        }
        Some(o.text.clone().unwrap_or_else(|| t.to_owned()))
    })
}
