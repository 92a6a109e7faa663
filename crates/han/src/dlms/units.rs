//! DLMS unit codes (Blue Book, class 3 scaler_unit) and the units a
//! quantity has when the meter does not say.

use crate::reading::obis::Obis;

/// The text of a DLMS unit enum; `None` for 255 (count / no unit) and codes
/// nobody sends.
pub(crate) fn unit_name(code: u8) -> Option<&'static str> {
    Some(match code {
        1 => "a",
        2 => "mo",
        3 => "wk",
        4 => "d",
        5 => "h",
        6 => "min",
        7 => "s",
        8 => "°",
        9 => "°C",
        10 => "currency",
        11 => "m",
        12 => "m/s",
        13 | 14 => "m3",
        15 | 16 => "m3/h",
        17 | 18 => "m3/d",
        19 => "l",
        20 => "kg",
        21 => "N",
        22 => "Nm",
        23 => "Pa",
        24 => "bar",
        25 => "J",
        26 => "J/h",
        27 => "W",
        28 => "VA",
        29 => "var",
        30 => "Wh",
        31 => "VAh",
        32 => "varh",
        33 => "A",
        34 => "C",
        35 => "V",
        36 => "V/m",
        37 => "F",
        38 => "Ω",
        44 => "Hz",
        52 => "K",
        56 => "%",
        57 => "Ah",
        _ => return None,
    })
}

/// The base unit of an electricity quantity by its OBIS code, for lists that
/// send bare numbers.
pub(crate) fn default_unit(code: Obis) -> Option<&'static str> {
    if code.a() != 1 {
        return None;
    }
    let c = code.c();
    let phase_base = match c {
        21..=40 => c - 20,
        41..=60 => c - 40,
        61..=80 => c - 60,
        _ => c,
    };
    Some(match (phase_base, code.d()) {
        (1 | 2, 4..=7) | (15 | 16, 7) => "W",
        (3..=8, 7) => "var",
        (9 | 10, 7) => "VA",
        (1 | 2 | 15 | 16, 8) => "Wh",
        (3..=8, 8) => "varh",
        (9 | 10, 8) => "VAh",
        (11 | 91, 7) => "A",
        (12, 7) => "V",
        (14, 7) => "Hz",
        _ => return None,
    })
}
