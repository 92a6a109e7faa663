//! Writing what the decoder reads: A-XDR values, data-notifications and
//! DSMR telegrams. For simulators (han-sim), benchmarks and tests; a meter
//! never needs it, and the decoder does not use it.

use crate::crc;
use crate::obis::Obis;

/// Builds A-XDR data.
#[derive(Debug, Default, Clone)]
pub struct Axdr(pub Vec<u8>);

impl Axdr {
    /// An empty writer.
    pub fn new() -> Self {
        Axdr(Vec::with_capacity(256))
    }

    fn len(&mut self, n: usize) {
        match n {
            0..=0x7F => self.0.push(n as u8),
            0x80..=0xFF => self.0.extend_from_slice(&[0x81, n as u8]),
            _ => self.0.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]),
        }
    }

    /// `structure` header of `n` elements (the elements follow).
    pub fn structure(&mut self, n: usize) -> &mut Self {
        self.0.push(0x02);
        self.len(n);
        self
    }

    /// `array` header of `n` elements.
    pub fn array(&mut self, n: usize) -> &mut Self {
        self.0.push(0x01);
        self.len(n);
        self
    }

    /// `octet-string`.
    pub fn octets(&mut self, b: &[u8]) -> &mut Self {
        self.0.push(0x09);
        self.len(b.len());
        self.0.extend_from_slice(b);
        self
    }

    /// `visible-string`.
    pub fn visible(&mut self, s: &str) -> &mut Self {
        self.0.push(0x0A);
        self.len(s.len());
        self.0.extend_from_slice(s.as_bytes());
        self
    }

    /// An OBIS code as a 6-byte octet string.
    pub fn obis(&mut self, o: Obis) -> &mut Self {
        self.octets(&o.0)
    }

    /// `double-long-unsigned` (uint32).
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.0.push(0x06);
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// `long-unsigned` (uint16).
    pub fn u16(&mut self, v: u16) -> &mut Self {
        self.0.push(0x12);
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// `long` (int16).
    pub fn i16(&mut self, v: i16) -> &mut Self {
        self.0.push(0x10);
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// `long64-unsigned` (uint64).
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.0.push(0x15);
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// `structure{int8 scaler, enum unit}`.
    pub fn scaler_unit(&mut self, scaler: i8, unit: u8) -> &mut Self {
        self.0.extend_from_slice(&[0x02, 0x02, 0x0F, scaler as u8, 0x16, unit]);
        self
    }
}

/// A COSEM date-time (12 bytes); `deviation` in minutes (UTC = local +
/// deviation), `None` for not specified.
pub fn cosem_datetime(t: chrono::NaiveDateTime, deviation: Option<i16>, dst: bool) -> [u8; 12] {
    use chrono::{Datelike, Timelike};
    let y = (t.year().clamp(0, 0xFFFE) as u16).to_be_bytes();
    let dev = deviation.unwrap_or(i16::MIN).to_be_bytes();
    [
        y[0],
        y[1],
        t.month() as u8,
        t.day() as u8,
        t.weekday().number_from_monday() as u8,
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
        0xFF,
        dev[0],
        dev[1],
        if dst { 0x80 } else { 0x00 },
    ]
}

/// `0F <invoke id> <date-time> <body>` with the date-time as Kamstrup and
/// Iskraemeco send it (`0C` + 12 bytes) or absent.
pub fn data_notification(invoke_id: u32, time: Option<[u8; 12]>, body: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(body.len() + 20);
    v.push(0x0F);
    v.extend_from_slice(&invoke_id.to_be_bytes());
    match time {
        Some(t) => {
            v.push(0x0C);
            v.extend_from_slice(&t);
        }
        None => v.push(0x00),
    }
    v.extend_from_slice(body);
    v
}

/// An LLC PDU (`E6 E7 00` + APDU) in one HDLC frame, as a push port sends it.
pub fn hdlc_push(apdu: &[u8]) -> Vec<u8> {
    let mut info = Vec::with_capacity(apdu.len() + 3);
    info.extend_from_slice(&[0xE6, 0xE7, 0x00]);
    info.extend_from_slice(apdu);
    crate::hdlc::encode(&[0x41], &[0x08, 0x83], false, &info)
}

/// Finishes a DSMR telegram: `body` runs from `/` through the last data
/// line's CR LF; appends `!`, the CRC-16/ARC and CR LF.
pub fn dsmr_telegram(body: &str) -> Vec<u8> {
    let mut t = body.as_bytes().to_vec();
    t.push(b'!');
    let c = crc::arc(&t);
    t.extend_from_slice(format!("{c:04X}\r\n").as_bytes());
    t
}
