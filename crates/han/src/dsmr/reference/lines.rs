//! The lexical layer of a telegram: records (an OBIS line plus its
//! continuation lines), the parenthesised values, exact decimals, units and
//! time stamps. Everything works on bytes; nothing here can fail loudly.

use std::borrow::Cow;

use chrono_tz::Tz;

use crate::obis::{Obis, parse_groups};
use crate::time::{MeterTime, dsmr_time, dsmr_timestamp};
use crate::value::{Decimal, Unit, Value};

/// The longest record (an OBIS line with its continuations) decoded; a
/// 2048-character text message is 4096 hex digits plus the OBIS code.
pub(crate) const MAX_RECORD: usize = 8192;

/// Strips ASCII whitespace and control bytes at both ends.
pub(crate) fn trim(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|b| *b > b' ').unwrap_or(s.len());
    let end = s.iter().rposition(|b| *b > b' ').map_or(start, |e| e + 1);
    s.get(start..end).unwrap_or_default()
}

/// More `(` than `)`: the value continues on the next line.
fn open(s: &[u8]) -> bool {
    let opens = s.iter().filter(|b| **b == b'(').count();
    let closes = s.iter().filter(|b| **b == b')').count();
    opens > closes
}

/// A line that begins with an OBIS code and a `(`: a new record even after
/// a line left open (a truncated line must not swallow the next one).
fn is_record_start(line: &[u8]) -> bool {
    line.iter()
        .position(|b| *b == b'(')
        .and_then(|p| line.get(..p))
        .is_some_and(|code| parse_groups(trim(code)).is_some())
}

/// Splits the data lines (between the header and `!`) into records.
///
/// A record starts on a line that begins with a digit (an OBIS code). A line
/// that begins with `(` continues the record before it (the DSMR 2.2/3.0 gas
/// profile puts its value on the next line), and so does any line that
/// follows a record with an unclosed `(` (a data line broken in the middle)
/// unless it starts a record itself.
/// Any other line is noise and is skipped.
pub(crate) fn records(data: &[u8]) -> Vec<Cow<'_, [u8]>> {
    let mut out: Vec<Cow<'_, [u8]>> = Vec::new();
    for raw in data.split(|b| *b == b'\n') {
        let line = trim(raw);
        if line.is_empty() {
            continue;
        }
        let continues = match out.last() {
            Some(prev) => line.first() == Some(&b'(') || (open(prev) && !is_record_start(line)),
            None => false,
        };
        if continues {
            if let Some(prev) = out.last_mut() {
                if prev.len().saturating_add(line.len()) <= MAX_RECORD {
                    prev.to_mut().extend_from_slice(line);
                }
            }
        } else if line.first().is_some_and(u8::is_ascii_digit) {
            out.push(Cow::Borrowed(line));
        }
    }
    out
}

/// Splits a record into its OBIS code and its values (the bytes inside each
/// pair of parentheses, trimmed). `None` when it is not an OBIS line.
pub(crate) fn split_record(rec: &[u8]) -> Option<(Obis, Vec<&[u8]>)> {
    if rec.len() > MAX_RECORD {
        return None;
    }
    let first = rec.iter().position(|b| *b == b'(')?;
    let code = parse_groups(trim(rec.get(..first)?))?;
    let mut rest = rec.get(first..)?;
    let mut values = Vec::new();
    loop {
        rest = trim(rest);
        if rest.first() != Some(&b'(') {
            // End of the line, or trailing bytes that are not a value.
            break;
        }
        let close = rest.iter().position(|b| *b == b')')?;
        values.push(trim(rest.get(1..close)?));
        rest = rest.get(close + 1..)?;
    }
    Some((code, values))
}

/// An exact decimal from text: optional sign, digits, optional `.` and
/// fraction digits. `None` for anything else or more than 18 digits.
pub(crate) fn decimal(s: &[u8]) -> Option<Decimal> {
    let (neg, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, s),
    };
    let mut mantissa: i64 = 0;
    let mut exponent: i32 = 0;
    let mut dot = false;
    let mut count = 0usize;
    for &b in digits {
        match b {
            b'0'..=b'9' => {
                mantissa = mantissa.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
                if dot {
                    exponent -= 1;
                }
                count += 1;
            }
            b'.' if !dot => dot = true,
            _ => return None,
        }
    }
    if count == 0 {
        return None;
    }
    let exponent = i8::try_from(exponent).ok()?;
    Some(Decimal::new(if neg { -mantissa } else { mantissa }, exponent))
}

/// Units meters send, kept static so that common telegrams allocate none.
const KNOWN_UNITS: [&str; 24] = [
    "kWh", "kW", "W", "Wh", "V", "A", "m3", "GJ", "s", "kvarh", "kvar", "kVArh", "kVAr", "varh", "var", "kVA", "VA",
    "Hz", "MJ", "MWh", "kVAh", "VAh", "dm3", "l",
];

/// A unit from the text after `*`; `None` when empty or not printable.
pub(crate) fn unit(s: &[u8]) -> Option<Unit> {
    let s = trim(s);
    if s.is_empty() || !s.iter().all(u8::is_ascii_graphic) {
        return None;
    }
    if let Some(k) = KNOWN_UNITS.iter().find(|k| k.as_bytes() == s) {
        return Some(Unit::known(k));
    }
    std::str::from_utf8(s).ok().map(|t| Unit(Cow::Owned(t.to_owned())))
}

/// Text as sent (bytes that are not UTF-8 are replaced, never rejected).
pub(crate) fn text(s: &[u8]) -> String {
    String::from_utf8_lossy(s).into_owned()
}

/// One value: `number*unit` becomes a number with its unit; anything else
/// (numbers without a unit included) stays text exactly as sent.
pub(crate) fn value(raw: &[u8]) -> (Value, Option<Unit>) {
    if let Some(star) = raw.iter().position(|b| *b == b'*') {
        let num = raw.get(..star).and_then(|n| decimal(trim(n)));
        let u = raw.get(star + 1..).and_then(unit);
        if let (Some(d), Some(u)) = (num, u) {
            return (Value::Number(d), Some(u));
        }
    }
    (Value::Text(text(raw)), None)
}

/// Like [`value`], but a bare number is a number (durations in a power
/// failure log, counts).
pub(crate) fn number_or_text(raw: &[u8]) -> (Value, Option<Unit>) {
    match value(raw) {
        (Value::Text(t), None) => match decimal(raw) {
            Some(d) => (Value::Number(d), None),
            None => (Value::Text(t), None),
        },
        other => other,
    }
}

/// Whether a value has the shape of a DSMR time stamp `YYMMDDhhmmss[SW]`
/// (placeholders such as `632525252525S` included).
pub(crate) fn is_stamp(s: &[u8]) -> bool {
    let digits = s.iter().take_while(|b| b.is_ascii_digit()).count();
    match (digits, s.len(), s.last()) {
        (12, 12, _) => true,
        (12, 13, Some(x)) => matches!(x.to_ascii_uppercase(), b'S' | b'W'),
        _ => false,
    }
}

/// A DSMR time stamp as a meter time; `None` for placeholders.
///
/// `strict` also rejects 2000-01-01 (`000101…`), which M-Bus channels and
/// power failure logs use for "never"; the meter's own clock keeps it, as
/// an unset clock is reported as it is.
pub(crate) fn stamp(s: &[u8], tz: Option<&Tz>, strict: bool) -> Option<MeterTime> {
    let date = s.get(..6)?;
    if date == b"700101" || (strict && date == b"000101") {
        return None;
    }
    let (local, dst) = dsmr_timestamp(s)?;
    Some(dsmr_time(local, dst, tz))
}

/// The text a hex-encoded octet string decodes to, when it is printable
/// ASCII (tabs and line breaks allowed inside text messages).
pub(crate) fn hex_text(s: &[u8]) -> Option<String> {
    if s.is_empty() || s.len() % 2 != 0 {
        return None;
    }
    let mut out = String::with_capacity(s.len() / 2);
    for pair in s.chunks_exact(2) {
        let (hi, lo) = match pair {
            [h, l] => (hex_digit(*h)?, hex_digit(*l)?),
            _ => return None,
        };
        let c = (hi << 4) | lo;
        if !(c.is_ascii_graphic() || matches!(c, b' ' | b'\t' | b'\r' | b'\n')) {
            return None;
        }
        out.push(char::from(c));
    }
    Some(out)
}

fn hex_digit(b: u8) -> Option<u8> {
    char::from(b).to_digit(16).and_then(|d| u8::try_from(d).ok())
}
