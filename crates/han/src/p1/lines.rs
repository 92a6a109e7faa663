//! The lexical layer of a telegram: records (an OBIS line plus its
//! continuation lines), the parenthesised values, exact decimals, units and
//! time stamps. Everything works on bytes; nothing here can fail loudly.

use std::borrow::Cow;

use chrono_tz::Tz;

use crate::reading::obis::Obis;
use crate::reading::time::{MeterTime, dsmr_time, dsmr_timestamp};
use crate::reading::value::{Decimal, Text, Unit, Value};

/// The longest record (an OBIS line with its continuations) decoded; a
/// 2048-character text message is 4096 hex digits plus the OBIS code.
pub(super) const MAX_RECORD: usize = 8192;

/// Strips ASCII whitespace and control bytes at both ends.
// Inlined: on a value there is seldom anything to strip, and the call
// cost more than the two byte checks.
#[inline(always)]
pub(super) fn trim(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|b| *b > b' ').unwrap_or(s.len());
    let end = s.iter().rposition(|b| *b > b' ').map_or(start, |e| e + 1);
    s.get(start..end).unwrap_or_default()
}

/// An OBIS code in text, exactly as [`crate::reading::obis::parse_groups`] reads it
/// (`A-B:C.D.E`, `.F` or `*F` optional, groups of 1–3 digits up to 255), in
/// one pass.
pub(super) fn parse_groups(s: &[u8]) -> Option<Obis> {
    // Nothing stops it early: a code is found only where the bytes end.
    groups(s, |_| false).map(|(code, _)| code)
}

/// The OBIS code at the start of `s` as [`parse_groups`] reads it, ending
/// where the bytes do or at a byte `stop` accepts after the fifth or sixth
/// group; and the offset of that end. One pass, group by group.
#[inline(always)]
fn groups(s: &[u8], stop: impl Fn(u8) -> bool) -> Option<(Obis, usize)> {
    let mut i = 0;
    // Nearly every code starts with one digit each for A and B: read at once.
    let (a, b) = match s.get(..4) {
        Some(&[a @ b'0'..=b'9', b'-', b @ b'0'..=b'9', b':']) => {
            i = 4;
            (a - b'0', b - b'0')
        }
        _ => {
            let a = group(s, &mut i)?;
            sep(s, &mut i, b'-')?;
            let b = group(s, &mut i)?;
            sep(s, &mut i, b':')?;
            (a, b)
        }
    };
    let c = group(s, &mut i)?;
    sep(s, &mut i, b'.')?;
    let d = group(s, &mut i)?;
    sep(s, &mut i, b'.')?;
    let e = group(s, &mut i)?;
    let f = match s.get(i) {
        None => return Some((Obis([a, b, c, d, e, 255]), i)),
        Some(b'.' | b'*') => {
            i += 1;
            group(s, &mut i)?
        }
        Some(x) if stop(*x) => return Some((Obis([a, b, c, d, e, 255]), i)),
        Some(_) => return None,
    };
    match s.get(i) {
        None => Some((Obis([a, b, c, d, e, f]), i)),
        Some(x) if stop(*x) => Some((Obis([a, b, c, d, e, f]), i)),
        Some(_) => None,
    }
}

/// The digit at `s[i]`, when there is one.
#[inline(always)]
fn digit_at(s: &[u8], i: usize) -> Option<u8> {
    s.get(i).map(|b| b.wrapping_sub(b'0')).filter(|d| *d < 10)
}

/// A group of one to three digits at `*i`, up to 255; `*i` moves past it.
#[inline(always)]
fn group(s: &[u8], i: &mut usize) -> Option<u8> {
    let mut v = u16::from(digit_at(s, *i)?);
    *i += 1;
    if let Some(d) = digit_at(s, *i) {
        v = v * 10 + u16::from(d);
        *i += 1;
        if let Some(d) = digit_at(s, *i) {
            v = v * 10 + u16::from(d);
            *i += 1;
            if digit_at(s, *i).is_some() {
                return None;
            }
        }
    }
    u8::try_from(v).ok()
}

/// The separator `want` at `*i`; `*i` moves past it.
#[inline(always)]
fn sep(s: &[u8], i: &mut usize, want: u8) -> Option<()> {
    (s.get(*i) == Some(&want)).then(|| *i += 1)
}

const ONES: u64 = 0x0101_0101_0101_0101;

/// Eight bytes as a little-endian word (zero when `c` is not eight long).
#[inline(always)]
fn load(c: &[u8]) -> u64 {
    <[u8; 8]>::try_from(c).map_or(0, u64::from_le_bytes)
}

/// The offset of the first `needle` in `s`, eight bytes at a time (values
/// are mostly 8–16 bytes: a byte loop costs more, memchr's set-up too).
#[inline(always)]
fn find(s: &[u8], needle: u8) -> Option<usize> {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let pattern = ONES * u64::from(needle);
    // The lowest byte that is zero in `w ^ pattern`: a borrow only runs
    // up from a zero byte, so the lowest flag is exact.
    let first = |w: u64| {
        let x = w ^ pattern;
        let zero = x.wrapping_sub(ONES) & !x & HIGH;
        (zero != 0).then(|| (zero.trailing_zeros() / 8) as usize)
    };
    if s.len() < 8 {
        return s.iter().position(|b| *b == needle);
    }
    let mut i = 0;
    while let Some(c) = s.get(i..i + 8) {
        if let Some(k) = first(load(c)) {
            return Some(i + k);
        }
        i += 8;
    }
    // The last eight bytes: those already passed hold no match.
    let last = s.len() - 8;
    first(s.get(last..).map_or(0, load)).map(|k| last + k)
}

/// `(` minus `)` in a line, eight bytes at a time.
fn depth(s: &[u8]) -> isize {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    /// Parentheses and closing ones among the bytes of `w`, as 0/1 per byte.
    fn word(w: u64) -> (u64, u64) {
        // '(' is 0x28 and ')' 0x29: a byte is one of them when it is 0x28
        // with its low bit cleared. Zero bytes of `x` are the matches (the
        // test is exact: no carries cross bytes); padding zeros never match.
        let x = (w & !ONES) ^ (ONES * 0x28);
        let nonzero = ((x & LOW7).wrapping_add(LOW7) | x) & !LOW7;
        let parens = (!nonzero & !LOW7) >> 7;
        (parens, parens & w)
    }
    /// The sum of the bytes of a word of 0/1 bytes.
    fn sum(v: u64) -> isize {
        isize::try_from(v.wrapping_mul(ONES) >> 56).unwrap_or(0)
    }
    if s.len() < 8 {
        return s.iter().map(|b| isize::from(*b == b'(') - isize::from(*b == b')')).sum();
    }
    let mut chunks = s.chunks_exact(8);
    let mut n = 0;
    for c in &mut chunks {
        let (parens, closes) = word(load(c));
        n += sum(parens) - 2 * sum(closes);
    }
    let rest = chunks.remainder().len();
    if rest > 0 {
        // The last eight bytes, shifted so that only the `rest` not counted
        // yet remain (zeros come in). A load, not a copy into a buffer: a
        // wide load of narrow stores stalls.
        let last = s.get(s.len() - 8..).map_or(0, load);
        let (parens, closes) = word(last >> (8 * (8 - rest)));
        n += sum(parens) - 2 * sum(closes);
    }
    n
}

/// A line that begins with an OBIS code and a `(`: a new record even after
/// a line left open (a truncated line must not swallow the next one). The
/// code and the offset of the `(`.
///
/// The code is read from the line's start up to white space or the `(`, so
/// the line is passed once: the same as parsing the trimmed bytes before
/// its first `(`, as a code holds no `(` and no white space. A line whose
/// bytes up to the `(` were read recently takes the start found then.
fn record_start(line: &[u8]) -> Option<(Obis, usize)> {
    let Some(key) = start_key(line) else { return read_start(line) };
    let slot = start_slot(key);
    KNOWN_STARTS.with(|known| {
        let Some(cell) = known.get(slot) else { return read_start(line) };
        let (k, start) = cell.get();
        if k == key {
            return start;
        }
        let start = read_start(line);
        cell.set((key, start));
        start
    })
}

/// Slots of the lines' starts read recently (a direct-mapped cache: a
/// meter sends the same codes in every telegram, and meters of a kind the
/// same ones).
const STARTS: usize = 256;

/// The slot of a [`start_key`]: the top bits of a multiplicative hash.
#[inline(always)]
fn start_slot((k0, k1): (u64, u64)) -> usize {
    ((k0 ^ k1.rotate_left(29)).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as usize % STARTS
}

/// A [`start_key`] and the start of the lines it stands for.
type KnownStart = ((u64, u64), Option<(Obis, usize)>);

thread_local! {
    /// [`read_start`] of recent lines, each under its [`start_key`] (a zero
    /// key marks an empty slot).
    static KNOWN_STARTS: [std::cell::Cell<KnownStart>; STARTS] =
        const { [const { std::cell::Cell::new(((0, 0), None)) }; STARTS] };
}

/// A line's bytes up to its first `(` (in its first sixteen, of at least
/// eight), as two words with zeros after the `(`: all that [`read_start`]
/// reads of it, so equal keys have equal starts (no key is zero: it holds
/// the `(`). `None` for a line without such a `(`.
#[inline(always)]
fn start_key(line: &[u8]) -> Option<(u64, u64)> {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let w0 = line.get(..8).map(load)?;
    let w1 = match line.get(8..16) {
        Some(c) => load(c),
        // A shorter line: its last bytes, moved down to their place (zeros
        // come in).
        None => line.get(line.len() - 8..).map_or(0, load).checked_shr(8 * (16 - line.len()) as u32).unwrap_or(0),
    };
    // Flags the lowest `(` exactly (a borrow only runs up from a match).
    let open = |w: u64| {
        let x = w ^ (ONES * u64::from(b'('));
        x.wrapping_sub(ONES) & !x & HIGH
    };
    // The bytes up to the flag's: the bits below it and its byte's.
    let upto = |flag: u64| flag | (flag - 1);
    match (open(w0), open(w1)) {
        (0, 0) => None,
        (0, f) => Some((w0, w1 & upto(f))),
        (f, _) => Some((w0 & upto(f), 0)),
    }
}

/// [`record_start`] read from the line's bytes.
fn read_start(line: &[u8]) -> Option<(Obis, usize)> {
    let lead = line.iter().position(|b| *b > b' ')?;
    let body = line.get(lead..)?;
    let (code, end) = groups(body, |b| b <= b' ' || b == b'(')?;
    let gap = body.get(end..)?.iter().position(|b| *b > b' ')?;
    let p = end + gap;
    (body.get(p) == Some(&b'(')).then_some((code, lead + p))
}

/// One record: its bytes, and its code and the offset of its first `(`
/// when it is one line that was already found to start a record.
pub(super) type Record<'a> = (Cow<'a, [u8]>, Option<(Obis, usize)>);

/// The records of the data lines (between the header and `!`), one at a
/// time.
///
/// A record starts on a line that begins with a digit (an OBIS code). A line
/// that begins with `(` continues the record before it (the DSMR 2.2/3.0 gas
/// profile puts its value on the next line), and so does any line that
/// follows a record with an unclosed `(` (a data line broken in the middle)
/// unless it starts a record itself.
/// Any other line is noise and is skipped.
///
/// A record is borrowed from the data unless continuation lines were joined
/// to it.
#[derive(Debug)]
pub(super) struct Records<'a> {
    /// The data not split into lines yet; `None` after the last line.
    rest: Option<&'a [u8]>,
    /// The record being collected (the last one started).
    current: Option<Record<'a>>,
}

impl<'a> Records<'a> {
    pub(super) fn new(data: &'a [u8]) -> Self {
        Records { rest: Some(data), current: None }
    }

    fn next_line(&mut self) -> Option<&'a [u8]> {
        let rest = self.rest?;
        match memchr::memchr(b'\n', rest) {
            Some(p) => {
                self.rest = rest.get(p + 1..);
                rest.get(..p)
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Record<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let Some(raw) = self.next_line() else {
                return self.current.take();
            };
            let line = trim(raw);
            let Some(&first) = line.first() else {
                continue;
            };
            // Only a line that begins with a digit can start a record.
            let start = if first.is_ascii_digit() { record_start(line) } else { None };
            if let Some((prev, code)) = &mut self.current {
                // More '(' than ')' so far: the record was left open.
                if first == b'(' || (start.is_none() && depth(prev) > 0) {
                    if prev.len().saturating_add(line.len()) <= MAX_RECORD {
                        prev.to_mut().extend_from_slice(line);
                        *code = None;
                    }
                    continue;
                }
            }
            if first.is_ascii_digit() {
                if let Some(done) = self.current.replace((Cow::Borrowed(line), start)) {
                    return Some(done);
                }
            }
        }
    }
}

/// All records of the data lines at once.
#[cfg(test)]
pub(super) fn records(data: &[u8]) -> Vec<Cow<'_, [u8]>> {
    Records::new(data).map(|(rec, _)| rec).collect()
}

/// Splits a record into its OBIS code and its values (the bytes inside each
/// pair of parentheses, trimmed). `None` when it is not an OBIS line.
#[cfg(test)]
pub(super) fn split_record(rec: &[u8]) -> Option<(Obis, Vec<&[u8]>)> {
    let mut values = Vec::new();
    split_record_into(rec, None, &mut values).map(|code| (code, values))
}

/// Like [`split_record`], into `values` (cleared first) so that one buffer
/// serves every record; `start` is the code and the offset of the first `(`
/// when they are known already. `values` may hold junk when it returns
/// `None`.
pub(super) fn split_record_into<'r>(
    rec: &'r [u8],
    start: Option<(Obis, usize)>,
    values: &mut Vec<&'r [u8]>,
) -> Option<Obis> {
    values.clear();
    if rec.len() > MAX_RECORD {
        return None;
    }
    let (code, first) = match start {
        Some(known) => known,
        None => record_start(rec)?,
    };
    // Only the start is trimmed: white space at the end is no `(` and no `)`.
    let mut i = first;
    while let Some(&b) = rec.get(i) {
        if b != b'(' {
            // White space before the next value, else the end of the line or
            // trailing bytes that are not a value.
            match rec.get(i..)?.iter().position(|b| *b > b' ') {
                Some(p) if b <= b' ' => {
                    i += p;
                    continue;
                }
                _ => break,
            }
        }
        let close = i + 1 + find_after(rec, i + 1, b')')?;
        values.push(trim(rec.get(i + 1..close)?));
        i = close + 1;
    }
    Some(code)
}

/// [`find`] in `s` from `from` on (the offset from there). Fewer than
/// eight bytes left (most values' ends): the last eight bytes of `s` in
/// one word, those before `from` shifted out, instead of a byte loop.
/// `needle` is not zero (the zeros shifted in must not match).
#[inline(always)]
fn find_after(s: &[u8], from: usize, needle: u8) -> Option<usize> {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let rest = s.get(from..)?;
    let Some(last) = s.len().checked_sub(8).filter(|_| rest.len() < 8) else { return find(rest, needle) };
    let w = s.get(last..).map_or(0, load).checked_shr(8 * (from - last) as u32).unwrap_or(0);
    let x = w ^ (ONES * u64::from(needle));
    // The lowest flag is exact (a borrow only runs up from a match).
    let zero = x.wrapping_sub(ONES) & !x & HIGH;
    (zero != 0).then(|| (zero.trailing_zeros() / 8) as usize)
}

/// An exact decimal from text: optional sign, digits, optional `.` and
/// fraction digits. `None` for anything else or a mantissa beyond `i64`.
// Inlined: the call cost a third of reading a meter value.
#[inline(always)]
pub(super) fn decimal(s: &[u8]) -> Option<Decimal> {
    let (neg, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, s),
    };
    if digits.len() > 18 {
        return long_decimal(neg, digits);
    }
    // At most 18 digits: no overflow to check. The whole digits, then
    // those after a `.`, each in a loop of its own (no test for the `.`
    // on every digit).
    let mut mantissa: i64 = 0;
    let mut rest = digits.iter();
    let mut dot = false;
    for &b in rest.by_ref() {
        let d = b.wrapping_sub(b'0');
        if d >= 10 {
            if b != b'.' {
                return None;
            }
            dot = true;
            break;
        }
        mantissa = mantissa * 10 + i64::from(d);
    }
    let fraction = rest.len();
    for &b in rest {
        let d = b.wrapping_sub(b'0');
        if d >= 10 {
            return None;
        }
        mantissa = mantissa * 10 + i64::from(d);
    }
    if digits.len() == usize::from(dot) {
        return None;
    }
    let exponent = -i8::try_from(fraction).ok()?;
    Some(Decimal::new(if neg { -mantissa } else { mantissa }, exponent))
}

/// [`decimal`] of more than 18 bytes (sign apart), the mantissa checked
/// for overflow digit by digit.
#[cold]
fn long_decimal(neg: bool, digits: &[u8]) -> Option<Decimal> {
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

/// A unit meters commonly send, as a static string so that common
/// telegrams allocate none.
fn known_unit(s: &[u8]) -> Option<&'static str> {
    Some(match s {
        b"kWh" => "kWh",
        b"kW" => "kW",
        b"W" => "W",
        b"Wh" => "Wh",
        b"V" => "V",
        b"A" => "A",
        b"m3" => "m3",
        b"GJ" => "GJ",
        b"s" => "s",
        b"kvarh" => "kvarh",
        b"kvar" => "kvar",
        b"kVArh" => "kVArh",
        b"kVAr" => "kVAr",
        b"varh" => "varh",
        b"var" => "var",
        b"kVA" => "kVA",
        b"VA" => "VA",
        b"Hz" => "Hz",
        b"MJ" => "MJ",
        b"MWh" => "MWh",
        b"kVAh" => "kVAh",
        b"VAh" => "VAh",
        b"dm3" => "dm3",
        b"l" => "l",
        _ => return None,
    })
}

/// A unit from the text after `*`; `None` when empty or not printable.
// Inlined (a call cost as much as the common units' match); others are
// read out of line.
#[inline(always)]
pub(super) fn unit(s: &[u8]) -> Option<Unit> {
    let s = trim(s);
    match known_unit(s) {
        Some(k) => Some(Unit::known(k)),
        None => other_unit(s),
    }
}

/// [`unit`] of a unit [`known_unit`] does not know.
#[inline(never)]
fn other_unit(s: &[u8]) -> Option<Unit> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_graphic) {
        return None;
    }
    std::str::from_utf8(s).ok().map(|t| Unit(Cow::Owned(t.to_owned())))
}

/// Text as sent (bytes that are not UTF-8 are replaced, never rejected).
#[inline]
pub(super) fn text(s: &[u8]) -> Text {
    Text::from_utf8_lossy(s)
}

/// One value: `number*unit` becomes a number with its unit; anything else
/// (numbers without a unit included) stays text exactly as sent.
#[inline(always)]
pub(super) fn value(raw: &[u8]) -> (Value, Option<Unit>) {
    if let Some(star) = find(raw, b'*') {
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
pub(super) fn number_or_text(raw: &[u8]) -> (Value, Option<Unit>) {
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
pub(super) fn is_stamp(s: &[u8]) -> bool {
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
pub(super) fn stamp(s: &[u8], tz: Option<&Tz>, strict: bool) -> Option<MeterTime> {
    let date = s.get(..6)?;
    if date == b"700101" || (strict && date == b"000101") {
        return None;
    }
    let (local, dst) = dsmr_timestamp(s)?;
    Some(dsmr_time(local, dst, tz))
}

/// The text a hex-encoded octet string decodes to, when it is printable
/// ASCII (tabs and line breaks allowed inside text messages).
pub(super) fn hex_text(s: &[u8]) -> Option<Text> {
    if s.is_empty() || s.len() % 2 != 0 {
        return None;
    }
    // Ids fit on the stack; only text messages need the heap.
    let mut short = [0u8; 64];
    let mut long = Vec::new();
    let out = match short.get_mut(..s.len() / 2) {
        Some(out) => out,
        None => {
            long.resize(s.len() / 2, 0);
            long.as_mut_slice()
        }
    };
    for (o, pair) in out.iter_mut().zip(s.chunks_exact(2)) {
        let (hi, lo) = match pair {
            [h, l] => (hex_digit(*h), hex_digit(*l)),
            _ => return None,
        };
        if (hi | lo) > 0x0F {
            return None;
        }
        let c = (hi << 4) | lo;
        if !(c.is_ascii_graphic() || matches!(c, b' ' | b'\t' | b'\r' | b'\n')) {
            return None;
        }
        *o = c;
    }
    // ASCII: the lossy reading is exact.
    Some(Text::from_utf8_lossy(out))
}

/// The value of each hex digit; 0xFF for any other byte.
// Built at compile time: an index out of range fails the build.
#[allow(clippy::indexing_slicing)]
const HEX_DIGITS: [u8; 256] = {
    let mut t = [0xFFu8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// The value of a hex digit; above 0x0F when `b` is none.
fn hex_digit(b: u8) -> u8 {
    HEX_DIGITS.get(usize::from(b)).copied().unwrap_or(0xFF)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]
mod tests;
