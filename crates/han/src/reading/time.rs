//! Meter clocks: COSEM date-time (HAN) and DSMR `YYMMDDhhmmssX` (P1).
//!
//! A meter states its own wall-clock time. We keep it as stated (never
//! converted to UTC) with the offset from the UTC it carries, or the one a
//! caller's time zone gives; a field the meter marks "not specified", or a
//! placeholder such as `000000000000W` or `632525252525S`, is no time at all.

use std::fmt;

use chrono::{Datelike, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Timelike};
use chrono_tz::Tz;
use serde::ser::{Serialize, Serializer};

/// A meter's wall-clock time with its UTC offset when known.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct MeterTime {
    /// The local date and time as the meter states it.
    pub local: NaiveDateTime,
    /// The offset from UTC, when the meter states one or a time zone gives it.
    pub offset: Option<FixedOffset>,
}

impl MeterTime {
    /// A local time with no known offset.
    pub const fn naive(local: NaiveDateTime) -> Self {
        MeterTime { local, offset: None }
    }

    /// Fills in the offset from a time zone when the meter gave none.
    /// `dst` picks the side of an ambiguous autumn hour when the meter says.
    pub fn with_zone(self, tz: Option<&Tz>, dst: Option<bool>) -> Self {
        if self.offset.is_some() {
            return self;
        }
        let Some(tz) = tz else { return self };
        let offset = match tz.offset_from_local_datetime(&self.local) {
            LocalResult::Single(o) => Some(o),
            // The repeated autumn hour: the meter's DST flag says which;
            // without it the time stays local (no offset), for a reader of
            // the whole stream to settle by the readings around it.
            LocalResult::Ambiguous(early, late) => match dst {
                Some(true) => Some(early),
                Some(false) => Some(late),
                None => None,
            },
            LocalResult::None => None,
        };
        MeterTime { local: self.local, offset: offset.map(|o| chrono::Offset::fix(&o)) }
    }
}

/// Writes timestamps digit by digit: the stream writes several per reading,
/// and `write!` costs ten times more.
pub(crate) struct Digits<'a> {
    buf: &'a mut [u8; 32],
    n: usize,
}

impl Digits<'_> {
    fn put(&mut self, b: u8) {
        if let Some(slot) = self.buf.get_mut(self.n) {
            *slot = b;
            self.n += 1;
        }
    }

    fn two(&mut self, v: u32) {
        self.put(b'0' + (v / 10 % 10) as u8);
        self.put(b'0' + (v % 10) as u8);
    }

    /// `YYYY-MM-DDTHH:MM:SS`, built whole and copied once.
    fn date_time(&mut self, l: NaiveDateTime) {
        let d = |x: u32| b'0' + (x % 10) as u8;
        let y = l.year().clamp(0, 9999) as u32;
        let (mo, da, h, mi, se) = (l.month(), l.day(), l.hour(), l.minute(), l.second());
        let text = [
            d(y / 1000),
            d(y / 100),
            d(y / 10),
            d(y),
            b'-',
            d(mo / 10),
            d(mo),
            b'-',
            d(da / 10),
            d(da),
            b'T',
            d(h / 10),
            d(h),
            b':',
            d(mi / 10),
            d(mi),
            b':',
            d(se / 10),
            d(se),
        ];
        if let Some(dst) = self.buf.get_mut(self.n..self.n + text.len()) {
            dst.copy_from_slice(&text);
            self.n += text.len();
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).unwrap_or("")
    }

    /// The ASCII written, for a writer of bytes (no UTF-8 check).
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.n).unwrap_or(&[])
    }
}

impl MeterTime {
    /// `YYYY-MM-DDTHH:MM:SS[.hh][+HH:MM]`.
    pub(crate) fn write<'a>(&self, buf: &'a mut [u8; 32]) -> Digits<'a> {
        let mut d = Digits { buf, n: 0 };
        d.date_time(self.local);
        let hundredths = self.local.nanosecond() / 10_000_000;
        if hundredths != 0 {
            d.put(b'.');
            d.two(hundredths);
        }
        if let Some(o) = self.offset {
            let secs = o.local_minus_utc();
            d.put(if secs < 0 { b'-' } else { b'+' });
            let m = secs.unsigned_abs() / 60;
            d.two(m / 60);
            d.put(b':');
            d.two(m % 60);
        }
        d
    }
}

/// A UTC time as RFC 3339 with milliseconds and `Z` (the stream's `received`).
pub(crate) fn utc_millis<'a>(t: &chrono::DateTime<chrono::Utc>, buf: &'a mut [u8; 32]) -> &'a str {
    std::str::from_utf8(utc_millis_bytes(t, buf)).unwrap_or("")
}

/// [`utc_millis`] as ASCII bytes (no UTF-8 check), for the stream line.
pub(crate) fn utc_millis_bytes<'a>(t: &chrono::DateTime<chrono::Utc>, buf: &'a mut [u8; 32]) -> &'a [u8] {
    let mut d = Digits { buf, n: 0 };
    let l = t.naive_utc();
    d.date_time(l);
    let ms = l.nanosecond() / 1_000_000 % 1000;
    d.put(b'.');
    d.put(b'0' + (ms / 100) as u8);
    d.two(ms % 100);
    d.put(b'Z');
    let n = d.n;
    buf.get(..n).unwrap_or(&[])
}

/// Serialises a UTC time as [`utc_millis`] writes it.
pub(crate) fn serialize_utc_millis<S: Serializer>(t: &chrono::DateTime<chrono::Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(utc_millis(t, &mut [0; 32]))
}

impl fmt::Display for MeterTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.write(&mut [0; 32]).as_str())
    }
}

impl Serialize for MeterTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.write(&mut [0; 32]).as_str())
    }
}

/// What a COSEM date-time says, beyond the wall-clock time.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct CosemClock {
    /// The time; `None` when the date or hour is not specified.
    pub time: Option<MeterTime>,
    /// Daylight saving active (status bit 0x80), when the status is given.
    pub dst: Option<bool>,
}

/// Decodes the 12 bytes of a COSEM date-time (IEC 62056-62 4.1.6.1).
///
/// The deviation is minutes from local time to UTC (`-60` is UTC+1).
/// `0x8000` means not specified; `0` is treated the same way, because
/// Aidon sends 0 with Norwegian local time and no HAN market runs on UTC.
pub fn cosem_datetime(b: &[u8]) -> Option<CosemClock> {
    let b: &[u8; 12] = b.try_into().ok()?;
    let year = u16::from_be_bytes([b[0], b[1]]);
    let (month, day, hour, min, sec, hund) = (b[2], b[3], b[5], b[6], b[7], b[8]);
    let deviation = i16::from_be_bytes([b[9], b[10]]);
    let status = b[11];
    let specified = |v: u8| (v != 0xFF).then_some(v);
    let time = (|| {
        if year == 0xFFFF {
            return None;
        }
        let date = NaiveDate::from_ymd_opt(i32::from(year), u32::from(month), u32::from(day))?;
        let hund = specified(hund).filter(|h| *h < 100).unwrap_or(0);
        let t = date.and_hms_milli_opt(
            u32::from(specified(hour)?),
            u32::from(specified(min).unwrap_or(0)),
            u32::from(specified(sec).unwrap_or(0)),
            u32::from(hund) * 10,
        )?;
        let offset = match deviation {
            i16::MIN | 0 => None,
            d if d.unsigned_abs() <= 900 => FixedOffset::east_opt(-i32::from(d) * 60),
            _ => None,
        };
        Some(MeterTime { local: t, offset })
    })();
    // Kaifa and Kamstrup send status 00 all year with no deviation: a
    // clear DST bit means winter only when the meter gives its deviation.
    let dst = match status {
        0xFF => None,
        s if s & 0x80 != 0 => Some(true),
        _ if time.is_some_and(|t| t.offset.is_some()) => Some(false),
        _ => None,
    };
    Some(CosemClock { time, dst })
}

/// Decodes a DSMR timestamp `YYMMDDhhmmssX` (X = `S` summer, `W` winter,
/// either case; some meters omit it). Returns the local time and the DST
/// flag; `None` for placeholders that are not dates.
pub fn dsmr_timestamp(s: &[u8]) -> Option<(NaiveDateTime, Option<bool>)> {
    let (digits, flag) = match s.len() {
        12 => (s, None),
        13 => (s.get(..12)?, s.get(12)),
        _ => return None,
    };
    let dst = match flag.map(u8::to_ascii_uppercase) {
        None => None,
        Some(b'S') => Some(true),
        Some(b'W') => Some(false),
        Some(_) => return None,
    };
    let mut f = [0u32; 6];
    for (i, pair) in digits.chunks_exact(2).enumerate() {
        let [h, l] = <[u8; 2]>::try_from(pair).ok()?;
        if !h.is_ascii_digit() || !l.is_ascii_digit() {
            return None;
        }
        *f.get_mut(i)? = u32::from(h - b'0') * 10 + u32::from(l - b'0');
    }
    let [yy, mo, dd, hh, mi, ss] = f;
    let t = NaiveDate::from_ymd_opt(2000 + yy as i32, mo, dd)?.and_hms_opt(hh, mi, ss)?;
    Some((t, dst))
}

/// The offset of a DSMR timestamp: from the caller's zone when given (the
/// S/W flag settles the repeated autumn hour), else Central European Time,
/// the zone of every P1 country but Ireland (pass `Europe/Dublin` there).
pub fn dsmr_time(local: NaiveDateTime, dst: Option<bool>, tz: Option<&Tz>) -> MeterTime {
    let t = MeterTime::naive(local);
    match tz {
        Some(tz) => t.with_zone(Some(tz), dst),
        None => match dst {
            Some(d) => MeterTime { local, offset: FixedOffset::east_opt(if d { 7200 } else { 3600 }) },
            None => t.with_zone(Some(&chrono_tz::Europe::Amsterdam), None),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cosem(hex: &str) -> Option<CosemClock> {
        let b: Vec<u8> = (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
        cosem_datetime(&b)
    }

    #[test]
    fn cosem_forms() {
        // Too short: not a date-time at all.
        assert!(cosem("07E6010207").is_none());
        // Kaifa: deviation not specified -> naive local time.
        let k = cosem("07E60102070E2514FF800000").unwrap();
        assert_eq!(k.time.unwrap().to_string(), "2022-01-02T14:37:20");
        // Deviation -120 with the DST bit -> +02:00.
        let i = cosem("07E8050702150B11FFFF8880").unwrap();
        assert_eq!(i.time.unwrap().to_string(), "2024-05-07T21:11:17+02:00");
        assert_eq!(i.dst, Some(true));
        // Date not specified -> no time.
        assert_eq!(cosem("FFFFFFFFFF0A0B0CFF800000").unwrap().time, None);
    }

    #[test]
    fn received_is_utc_with_millis() {
        use chrono::TimeZone;
        let t = chrono::Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5).unwrap() + chrono::Duration::milliseconds(78);
        let mut out = Vec::new();
        serialize_utc_millis(&t, &mut serde_json::Serializer::new(&mut out)).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "\"2025-01-02T03:04:05.078Z\"");
    }

    #[test]
    fn dsmr_placeholders_are_not_times() {
        assert!(dsmr_timestamp(b"000000000000W").is_none());
        assert!(dsmr_timestamp(b"632525252525S").is_none());
        let (t, dst) = dsmr_timestamp(b"101209113020W").unwrap();
        assert_eq!(MeterTime::naive(t).to_string(), "2010-12-09T11:30:20");
        assert_eq!(dst, Some(false));
        assert_eq!(dsmr_time(t, dst, None).to_string(), "2010-12-09T11:30:20+01:00");
        let (t, dst) = dsmr_timestamp(b"190821210025s").unwrap();
        assert_eq!(dsmr_time(t, dst, None).to_string(), "2019-08-21T21:00:25+02:00");
    }

    #[test]
    fn ambiguous_autumn_hour_follows_the_flag() {
        let (t, dst) = dsmr_timestamp(b"231029023000S").unwrap();
        assert_eq!(dsmr_time(t, dst, Some(&chrono_tz::Europe::Amsterdam)).to_string(), "2023-10-29T02:30:00+02:00");
        let (t, dst) = dsmr_timestamp(b"231029023000W").unwrap();
        assert_eq!(dsmr_time(t, dst, Some(&chrono_tz::Europe::Amsterdam)).to_string(), "2023-10-29T02:30:00+01:00");
    }

    #[test]
    fn the_repeated_autumn_hour_without_a_dst_flag_stays_local() {
        let oslo = chrono_tz::Europe::Oslo;
        // 2025-10-26 02:30, deviation not given (Kaifa, Kamstrup): status 00 says nothing.
        let mut b = [0x07, 0xE9, 10, 26, 0xFF, 2, 30, 0, 0xFF, 0x80, 0x00, 0x00];
        let c = cosem_datetime(&b).unwrap();
        assert_eq!(c.dst, None);
        assert_eq!(c.time.unwrap().with_zone(Some(&oslo), c.dst).offset, None, "left for the reader to settle");
        // The DST bit set: the first pass, summer time.
        b[11] = 0x80;
        let c = cosem_datetime(&b).unwrap();
        assert_eq!(c.time.unwrap().with_zone(Some(&oslo), c.dst).to_string(), "2025-10-26T02:30:00+02:00");
        // An hour that is not repeated gets its offset as before.
        b[3] = 27;
        b[11] = 0x00;
        let c = cosem_datetime(&b).unwrap();
        assert_eq!(c.time.unwrap().with_zone(Some(&oslo), c.dst).to_string(), "2025-10-27T02:30:00+01:00");
    }
}
