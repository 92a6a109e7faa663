//! DSMR P1 telegrams: their lines into a reading (the telegram's frame,
//! found in a stream and checked, is [`crate::framing::telegram`]).
//!
//! A telegram is an identification line (`/XXX5ident` by the
//! specification, any text after `/` in the wild), data lines
//! `OBIS(value)(value)…`, and a last line `!` with the CRC-16/ARC of the
//! bytes from `/` to `!` in hex (DSMR 4 and later; 0–4 digits, either
//! case). Everything is decoded from bytes: headers carry stray control
//! bytes and gateways append junk after `!`.

mod lines;
mod objects;

use std::borrow::Cow;

use chrono_tz::Tz;

use crate::error::Error;
use crate::framing::telegram::{self, Checked};
use crate::reading::normalise::Summed;
use crate::reading::obis::Obis;
use crate::reading::value::Text;
use crate::reading::{Framing, Objects, Protocol, Reading};

/// The manufacturer behind a three-letter FLAG id of a header.
fn manufacturer(id: &[u8]) -> Option<&'static str> {
    let mut up = [0u8; 3];
    for (u, b) in up.iter_mut().zip(id) {
        *u = b.to_ascii_uppercase();
    }
    Some(match &up {
        b"ISK" => "Iskra",
        b"KFM" => "Kaifa",
        b"XMX" | b"LGZ" | b"LGF" => "Landis+Gyr",
        b"KMP" | b"KAM" => "Kamstrup",
        b"FLU" => "Fluvius",
        b"LUX" | b"SAG" | b"EST" | b"ENE" => "Sagemcom",
        b"ADN" => "Aidon",
        b"MCS" => "MCS",
        b"ESY" => "EasyMeter",
        b"ELS" => "Elster",
        b"EMH" => "EMH",
        b"ZIV" => "ZIV",
        _ => return None,
    })
}

/// Where a telegram states its version: DSMR, e-MUCS.
const VERSION_CODES: [Obis; 2] = [Obis::new(1, 3, 0, 2, 8, 255), Obis::new(0, 0, 96, 1, 4, 255)];

/// The DSMR (`1-3:0.2.8`) or e-MUCS (`0-0:96.1.4`) version the telegram states.
fn version(objects: &Objects) -> Option<&str> {
    VERSION_CODES.iter().find_map(|c| objects.get(*c)?.value.as_str().map(str::trim).filter(|t| !t.is_empty()))
}

/// [`version`] as a text: the object's own when it needs no trimming.
fn version_text(objects: &Objects) -> Option<Text> {
    VERSION_CODES.iter().find_map(|c| objects::trimmed_text(&objects.get(*c)?.value))
}

/// Whether the stated version is DSMR 4 or later (which must carry a CRC).
fn needs_crc(version: Option<&str>) -> bool {
    let Some(v) = version else { return false };
    // The leading digits (at most nine), as a number.
    let digits = v.bytes().take_while(u8::is_ascii_digit).take(9);
    let mut n = None;
    for d in digits {
        n = Some(n.unwrap_or(0u32) * 10 + u32::from(d - b'0'));
    }
    n.is_some_and(|n| n >= 40)
}

/// Decodes one complete telegram, `/` through the CRC digits.
///
/// Bytes after the CRC digits (a line end, gateway junk) are ignored. The
/// CRC is checked when present; a telegram without one is accepted only
/// when it does not state DSMR 4 or later. Lines that do not parse are
/// skipped; unknown OBIS codes are kept.
pub fn decode_telegram(telegram: &[u8], tz: Option<&Tz>) -> Result<Reading, Error> {
    let mut reading = Reading::new(Protocol::P1, Framing::Dsmr);
    decode_telegram_into(telegram, tz, &mut reading)?;
    Ok(reading)
}

/// One record of a telegram decoded in full, for a template of it.
#[derive(Clone, Debug)]
pub(crate) struct Span {
    /// Its bytes in the telegram, when it is one line.
    pub bytes: Option<std::ops::Range<usize>>,
    /// Its code and the offset of its first `(`, when it is one line.
    pub start: Option<(Obis, usize)>,
    /// The objects it became.
    pub objects: std::ops::Range<usize>,
    /// Whether they are the objects it gives read alone (none was renamed
    /// as the duplicate of an object before it).
    pub alone: bool,
    /// The meter clock it gave.
    pub time: Option<crate::reading::time::MeterTime>,
}

/// [`decode_telegram`] into a reading that is reused ([`Reading::reset`]
/// first), keeping its object list's memory.
pub(crate) fn decode_telegram_into(telegram: &[u8], tz: Option<&Tz>, reading: &mut Reading) -> Result<(), Error> {
    let checked = telegram::check(telegram)?;
    decode_checked(telegram, &checked, tz, reading, None).map(|_| ())
}

/// Decodes a telegram whose frame and CRC [`telegram::check`] checked into
/// `reading` ([`Reading::reset`] first), listing its records in `spans`
/// when given (for a template): the totals its quantities sum from tariffs.
pub(crate) fn decode_checked(
    telegram: &[u8],
    checked: &Checked,
    tz: Option<&Tz>,
    reading: &mut Reading,
    mut spans: Option<&mut Vec<Span>>,
) -> Result<Summed, Error> {
    let bang = checked.bang;
    let body = telegram.get(..=bang).unwrap_or_default();
    reading.reset(Protocol::P1, Framing::Dsmr);

    let header_end = body.iter().position(|b| *b == b'\n').unwrap_or(bang);
    let header = lines::trim(body.get(1..header_end).unwrap_or_default());
    let data = body.get(header_end..bang).unwrap_or_default();

    // `XXXZident`: the FLAG id and the baud-rate character, then the
    // identification. One that does not open with three letters is kept whole.
    let flag = header.get(..3).filter(|f| f.len() == 3 && f.iter().all(u8::is_ascii_alphabetic));
    reading.manufacturer = flag.and_then(manufacturer);
    // The printable bytes of the identification, without a copy when it is
    // all printable (it nearly always is).
    let ident = if flag.is_some() { header.get(4..).unwrap_or_default() } else { header };
    let printable: std::borrow::Cow<'_, [u8]> = if ident.iter().all(|b| matches!(b, 0x20..=0x7E)) {
        std::borrow::Cow::Borrowed(ident)
    } else {
        std::borrow::Cow::Owned(ident.iter().copied().filter(|b| matches!(b, 0x20..=0x7E)).collect())
    };
    let model = std::str::from_utf8(&printable).unwrap_or_default().trim();
    reading.meter_model = (!model.is_empty()).then(|| Text::new(model));

    let mut sink = objects::Sink::new(std::mem::take(&mut reading.obis.0), data);
    let mut vals: Vec<&[u8]> = Vec::with_capacity(16);
    for (rec, start) in lines::Records::new(data) {
        let (before, renamed) = (sink.len(), sink.renamed());
        let (t, bytes) = match rec {
            Cow::Borrowed(rec) => match lines::split_record_into(rec, start, &mut vals) {
                Some(code) => {
                    // Where the record lies in the telegram (it is a slice of it).
                    let at = (rec.as_ptr() as usize).wrapping_sub(telegram.as_ptr() as usize);
                    (objects::push_record(&mut sink, code, &vals, tz), Some(at..at + rec.len()))
                }
                None => continue,
            },
            Cow::Owned(rec) => {
                let mut vals = Vec::new();
                match lines::split_record_into(&rec, start, &mut vals) {
                    Some(code) => (objects::push_record(&mut sink, code, &vals, tz), None),
                    None => continue,
                }
            }
        };
        if let Some(t) = t {
            reading.meter_time = Some(t);
        }
        if let Some(spans) = spans.as_mut() {
            let start = if bytes.is_some() { start } else { None };
            let alone = sink.renamed() == renamed;
            spans.push(Span { bytes, start, objects: before..sink.len(), time: t, alone });
        }
    }
    reading.obis = sink.into_objects();

    if !checked.has_crc() && needs_crc(version(&reading.obis)) {
        return Err(Error::DsmrMissingCrc);
    }
    if !checked.has_crc() && reading.obis.is_empty() {
        // Nothing vouches for these bytes: binary noise between a '/' and a '!'.
        return Err(Error::DsmrFormat("no CRC and no data lines"));
    }
    derive_fields(reading);
    Ok(crate::reading::normalise::normalise(reading))
}

/// What a template needs to redo one record: its objects (into `out`,
/// emptied first, as the full decode makes them when no code came before)
/// and the clock it gives. `None` when it is no longer a record.
pub(crate) fn redo_record<'r>(
    rec: &'r [u8],
    start: (Obis, usize),
    tz: Option<&Tz>,
    vals: &mut Vec<&'r [u8]>,
    out: Vec<crate::reading::Object>,
) -> Option<(Vec<crate::reading::Object>, Option<crate::reading::time::MeterTime>)> {
    let code = lines::split_record_into(rec, Some(start), vals)?;
    let mut sink = objects::Sink::new(out, &[]);
    let t = objects::push_record(&mut sink, code, vals, tz);
    Some((sink.into_objects().0, t))
}

/// The reading's fields its objects name: the list (the stated version),
/// the meter id, the sub-meters.
pub(crate) fn derive_fields(reading: &mut Reading) {
    reading.list = version_text(&reading.obis);
    reading.meter_id = objects::meter_id(&reading.obis);
    objects::submeters_into(&reading.obis, &mut reading.submeters);
}

/// Whether an object of this code may change what [`derive_fields`] derives.
pub(crate) fn feeds_fields(code: Obis) -> bool {
    VERSION_CODES.contains(&code) || objects::METER_ID_CODES.contains(&code) || objects::is_submeter_code(code)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]
mod tests;
