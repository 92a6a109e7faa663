//! Frames and telegrams off the common pattern, built from the
//! specifications, for tests of the decoder on meters no capture shows:
//! DSMR identification lines that the grammar and real devices allow but
//! `/XXX5` does not, CRCs of fewer than four digits, and HAN lists that
//! carry values no meter can have.
//!
//! ```
//! use han_simulator::quirks::{Crc, telegram};
//! let t = telegram("/ABC-MODEL", &["1-0:1.7.0(01.193*kW)"], Crc::Upper);
//! assert!(t.starts_with(b"/ABC-MODEL\r\n\r\n1-0:1.7.0"));
//! ```

use han::Obis;
use han::encode::{Axdr, data_notification};

/// How the CRC after `!` is written (DSMR 4+: CRC-16/ARC of the bytes from
/// `/` through `!`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crc {
    /// Four upper-case hex digits, as the specification writes it.
    Upper,
    /// Four lower-case hex digits.
    Lower,
    /// Without leading zeros (`!B9F`), as a heat interface sends it.
    Unpadded,
    /// No CRC (DSMR 2.2 and 3.0).
    None,
}

/// A DSMR telegram: the identification line `ident` (with its `/`), the
/// blank line, the data `lines` (without their CR LF), `!`, the CRC as
/// `crc` says, CR LF.
pub fn telegram(ident: &str, lines: &[&str], crc: Crc) -> Vec<u8> {
    let mut t = format!("{ident}\r\n\r\n");
    for l in lines {
        t.push_str(l);
        t.push_str("\r\n");
    }
    t.push('!');
    let c = han::crc::arc(t.as_bytes());
    match crc {
        Crc::Upper => t.push_str(&format!("{c:04X}")),
        Crc::Lower => t.push_str(&format!("{c:04x}")),
        Crc::Unpadded => t.push_str(&format!("{c:X}")),
        Crc::None => {}
    }
    t.push_str("\r\n");
    t.into_bytes()
}

/// A plain telegram (the simulator's P1 output) with its identification
/// line replaced by `ident` and its CRC made anew (four upper-case digits).
/// `None` when `plain` is no telegram.
pub fn with_identification(plain: &[u8], ident: &str) -> Option<Vec<u8>> {
    let line_end = plain.iter().position(|b| *b == b'\n')?;
    let bang = plain.iter().rposition(|b| *b == b'!')?;
    if !plain.starts_with(b"/") || bang < line_end {
        return None;
    }
    let mut t = format!("{ident}\r").into_bytes();
    t.extend_from_slice(plain.get(line_end..=bang)?);
    let c = han::crc::arc(&t);
    t.extend_from_slice(format!("{c:04X}\r\n").as_bytes());
    Some(t)
}

/// The raw registers of a NEK list 2 as a meter puts them on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct List2 {
    /// Active power import, W.
    pub p_import: u32,
    /// Active power export, W.
    pub p_export: u32,
    /// Reactive power import, var.
    pub q_import: u32,
    /// Reactive power export, var.
    pub q_export: u32,
    /// Phase currents: Aidon in 0.1 A (int16, negative while the phase
    /// exports), Kaifa in mA (uint32; a negative value is sent as 0).
    pub current: [i32; 3],
    /// Phase voltages in 0.1 V.
    pub voltage: [u32; 3],
}

const fn e(c: u8) -> Obis {
    Obis::new(1, 0, c, 7, 0, 255)
}

/// An Aidon 6534 NEK list 2 in an HDLC frame, as the Aidon HAN interface
/// description lays it out: an `array` of 13 `structure{OBIS, value,
/// scaler-unit}` items (list id, meter id, type, P+ P- Q+ Q- in W/var,
/// currents int16 0.1 A, voltages uint16 0.1 V). Values that do not fit
/// their type are cut to it, as a meter's register would be.
pub fn aidon_list2(v: &List2) -> Vec<u8> {
    hdlc(&[0x41], &[0x08, 0x83], 0x13, &aidon_list2_apdu(v))
}

/// An APDU in one HDLC frame with an LLC header, with a brand's addresses
/// and control byte.
fn hdlc(dst: &[u8], src: &[u8], control: u8, apdu: &[u8]) -> Vec<u8> {
    let mut info = Vec::with_capacity(apdu.len() + 3);
    info.extend_from_slice(&[0xE6, 0xE7, 0x00]);
    info.extend_from_slice(apdu);
    han::hdlc::encode_with_control(dst, src, false, control, &info)
}

/// [`aidon_list2`]'s data-notification alone (to encrypt it).
pub fn aidon_list2_apdu(v: &List2) -> Vec<u8> {
    let mut a = Axdr::new();
    a.array(13);
    a.structure(2).obis(Obis::new(1, 1, 0, 2, 129, 255)).visible("AIDON_V0001");
    a.structure(2).obis(Obis::new(0, 0, 96, 1, 0, 255)).visible("7359992890941742");
    a.structure(2).obis(Obis::new(0, 0, 96, 1, 7, 255)).visible("6534");
    for (c, x, unit) in [(1, v.p_import, 27), (2, v.p_export, 27), (3, v.q_import, 29), (4, v.q_export, 29)] {
        a.structure(3).obis(e(c)).u32(x).scaler_unit(0, unit);
    }
    for (c, x) in [31, 51, 71].into_iter().zip(v.current) {
        let x = i16::try_from(x).unwrap_or(if x < 0 { i16::MIN } else { i16::MAX });
        a.structure(3).obis(e(c)).i16(x).scaler_unit(-1, 33);
    }
    for (c, x) in [32, 52, 72].into_iter().zip(v.voltage) {
        a.structure(3).obis(e(c)).u16(u16::try_from(x).unwrap_or(u16::MAX)).scaler_unit(-1, 35);
    }
    data_notification(0x4000_0000, None, &a.0)
}

/// A Kaifa MA304H3E list 2 (`KFM_001`) in an HDLC frame, as the Kaifa OBIS
/// list lays it out: a `structure` of 13 bare values, the scales implied by
/// the position (W, var, mA, 0.1 V).
pub fn kaifa_list2(v: &List2) -> Vec<u8> {
    let mut a = Axdr::new();
    a.structure(13).octets(b"KFM_001").octets(b"6970631403275928").octets(b"MA304H3E");
    for x in [v.p_import, v.p_export, v.q_import, v.q_export] {
        a.u32(x);
    }
    for x in v.current {
        a.u32(u32::try_from(x).unwrap_or(0));
    }
    for x in v.voltage {
        a.u32(x);
    }
    hdlc(&[0x01], &[0x02, 0x01], 0x10, &data_notification(0x4000_0000, None, &a.0))
}
