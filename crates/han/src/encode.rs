//! Writing what the decoder reads: A-XDR values, data-notifications and
//! DSMR telegrams. For simulators (han-sim), benchmarks and tests; a meter
//! never needs it, and the decoder does not use it.

use crate::framing::crc;
use crate::reading::obis::Obis;

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
    crate::framing::hdlc::encode(&[0x41], &[0x08, 0x83], false, &info)
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

/// Realistic frames and telegrams of the common meters, numbered: as from a
/// real meter, every power, current and voltage (and the DSMR clock) moves
/// from one to the next, the energy registers now and then. For benchmarks
/// and tests.
pub mod samples {
    use super::{Axdr, data_notification, dsmr_telegram, hdlc_push};
    use crate::reading::obis::Obis;

    fn e(c: u8, d: u8, x: u8) -> Obis {
        Obis::new(1, 0, c, d, x, 255)
    }

    /// A small value that moves with `i`, differently for each `k`.
    fn wobble(i: u32, k: u32) -> u32 {
        (i.wrapping_mul(2_654_435_761).rotate_left(k * 5) >> 8) % 40
    }

    /// Aidon 6525/6534 NEK list 2, 3-phase: 13 self-describing items.
    pub fn aidon_list2(i: u32) -> Vec<u8> {
        let mut a = Axdr::new();
        a.array(13);
        a.structure(2).obis(Obis::new(1, 1, 0, 2, 129, 255)).visible("AIDON_V0001");
        a.structure(2).obis(Obis::new(0, 0, 96, 1, 0, 255)).visible("7359992890941742");
        a.structure(2).obis(Obis::new(0, 0, 96, 1, 7, 255)).visible("6534");
        for (c, v, u) in [(1, 1362 + i % 1000, 27), (2, 0, 27), (3, 996 + wobble(i, 1), 29), (4, 0, 29)] {
            a.structure(3).obis(e(c, 7, 0)).u32(v).scaler_unit(0, u);
        }
        for (k, c) in [31, 51, 71].into_iter().enumerate() {
            let v = 73 + wobble(i, 2 + k as u32) as i16;
            a.structure(3).obis(e(c, 7, 0)).i16(v).scaler_unit(-1, 33);
        }
        for (k, c) in [32, 52, 72].into_iter().enumerate() {
            let v = 2290 + wobble(i, 5 + k as u32) as u16;
            a.structure(3).obis(e(c, 7, 0)).u16(v).scaler_unit(-1, 35);
        }
        hdlc_push(&data_notification(0x4000_0000, None, &a.0))
    }

    /// Kaifa KFM_001 list 2, 3-phase: 13 bare values.
    pub fn kaifa_list2(i: u32) -> Vec<u8> {
        let mut a = Axdr::new();
        a.structure(13).octets(b"KFM_001").octets(b"6970631403275928").octets(b"MA304H3E");
        let w = |k| wobble(i, k);
        let values = [4100 + i % 1000, 0, 195 + w(1), 0, 12056 + w(2), 5754 + w(3), 13412 + w(4), 2353 + w(5)];
        for v in values.into_iter().chain([2339 + w(6), 2397 + w(7)]) {
            a.u32(v);
        }
        hdlc_push(&data_notification(0x4000_0000, None, &a.0))
    }

    /// Kamstrup list 1 (NEK list 2 content), 3-phase: 25 elements of pairs.
    pub fn kamstrup_list1(i: u32) -> Vec<u8> {
        let mut a = Axdr::new();
        a.structure(25).visible("Kamstrup_V0001");
        a.obis(Obis::new(1, 1, 0, 0, 5, 255)).visible("5706567274389702");
        a.obis(Obis::new(1, 1, 96, 1, 1, 255)).visible("6841121BN243101040");
        let w = |k| wobble(i, k);
        let powers = [(1, 1000 + i % 1000), (2, 0), (3, 0), (4, 200 + w(1))];
        for (c, v) in powers.into_iter().chain([(31, 389 + w(2)), (51, 135 + w(3)), (71, 255 + w(4))]) {
            a.obis(Obis::new(1, 1, c, 7, 0, 255)).u32(v);
        }
        for (k, c) in [32, 52, 72].into_iter().enumerate() {
            a.obis(Obis::new(1, 1, c, 7, 0, 255)).u16(228 + wobble(i, 5 + k as u32) as u16 % 5);
        }
        hdlc_push(&data_notification(0, None, &a.0))
    }

    /// A DSMR 5.0.2 3-phase telegram with gas (~880 bytes), one a second.
    pub fn dsmr5(i: u32) -> Vec<u8> {
        let w = |k| wobble(i, k);
        let (mm, ss) = ((i / 60) % 60, i % 60);
        let body = format!(
            "/ISk5\\2MT382-1000\r\n\r\n1-3:0.2.8(50)\r\n0-0:1.0.0(10120911{mm:02}{ss:02}W)\r\n\
    0-0:96.1.1(4B384547303034303436333935353037)\r\n1-0:1.8.1({t1:06}.789*kWh)\r\n1-0:1.8.2(123456.789*kWh)\r\n\
    1-0:2.8.1(123456.789*kWh)\r\n1-0:2.8.2(123456.789*kWh)\r\n0-0:96.14.0(0002)\r\n1-0:1.7.0(01.{p:03}*kW)\r\n\
    1-0:2.7.0(00.000*kW)\r\n0-0:96.7.21(00004)\r\n0-0:96.7.9(00002)\r\n\
    1-0:99.97.0(2)(0-0:96.7.19)(101208152415W)(0000000240*s)(101208151004W)(0000000301*s)\r\n\
    1-0:32.32.0(00002)\r\n1-0:52.32.0(00001)\r\n1-0:72.32.0(00000)\r\n1-0:32.36.0(00000)\r\n1-0:52.36.0(00003)\r\n\
    1-0:72.36.0(00000)\r\n0-0:96.13.0(303132333435363738393A3B3C3D3E3F303132333435363738393A3B3C3D3E3F)\r\n\
    1-0:32.7.0(22{v1:01}.{v2:01}*V)\r\n1-0:52.7.0(22{v3:01}.{v4:01}*V)\r\n1-0:72.7.0(22{v5:01}.{v6:01}*V)\r\n\
    1-0:31.7.0({a1:03}*A)\r\n1-0:51.7.0({a2:03}*A)\r\n1-0:71.7.0({a3:03}*A)\r\n1-0:21.7.0(00.{l1:03}*kW)\r\n\
    1-0:41.7.0(00.{l2:03}*kW)\r\n1-0:61.7.0(00.{l3:03}*kW)\r\n\
    1-0:22.7.0(00.000*kW)\r\n1-0:42.7.0(00.000*kW)\r\n1-0:62.7.0(00.000*kW)\r\n0-1:24.1.0(003)\r\n\
    0-1:96.1.0(3232323241424344313233343536373839)\r\n0-1:24.2.1(101209112500W)(12785.123*m3)\r\n",
            t1 = 123_456 + i / 4,
            p = i % 1000,
            v1 = w(1) % 10,
            v2 = w(2) % 10,
            v3 = w(3) % 10,
            v4 = w(4) % 10,
            v5 = w(5) % 10,
            v6 = w(6) % 10,
            a1 = w(7) % 5,
            a2 = w(8) % 5,
            a3 = w(9) % 5,
            l1 = 300 + w(10),
            l2 = 300 + w(11),
            l3 = 300 + w(12),
        );
        dsmr_telegram(&body)
    }
}
