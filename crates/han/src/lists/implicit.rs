//! Which brand sent a list, and the scalers it leaves out.

use crate::axdr::Tree;
use crate::obis::Obis;

use super::Item;

/// The list dialect, as far as scaling and positions go.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Brand {
    Aidon,
    Kaifa,
    Kamstrup,
    LandisGyr,
    Iskra,
    Unknown,
}

impl Brand {
    pub(crate) fn name(self) -> Option<&'static str> {
        Some(match self {
            Brand::Aidon => "Aidon",
            Brand::Kaifa => "Kaifa",
            Brand::Kamstrup => "Kamstrup",
            Brand::LandisGyr => "Landis+Gyr",
            Brand::Iskra => "Iskra",
            Brand::Unknown => return None,
        })
    }
}

fn brand_of_text(s: &[u8]) -> Option<Brand> {
    let starts = |p: &[u8]| s.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p));
    Some(if starts(b"AIDON") {
        Brand::Aidon
    } else if starts(b"KFM") || starts(b"KAIFA") {
        Brand::Kaifa
    } else if starts(b"KAMSTRUP") {
        Brand::Kamstrup
    } else if starts(b"EMBRIQ") || starts(b"LGZ") {
        Brand::LandisGyr
    } else if starts(b"ISK") {
        Brand::Iskra
    } else {
        return None;
    })
}

/// The brand from the list id (coded or the leading bare string) or the
/// first text that names one.
pub(crate) fn brand(tree: &Tree<'_>, coded: &[(Obis, Item)], bare: &[usize]) -> Brand {
    let coded_id = coded.iter().find(|(o, _)| matches!(o.0, [1, _, 0, 2, 129, 255])).map(|(_, it)| it.node);
    coded_id
        .into_iter()
        .chain(bare.iter().copied())
        .filter_map(|i| tree.bytes_of(i))
        .find_map(brand_of_text)
        .unwrap_or(Brand::Unknown)
}

/// The power of ten a brand's bare number carries.
pub(crate) fn scaler(brand: Brand, code: Obis) -> i8 {
    let (c, d) = (code.c(), code.d());
    let current = matches!(c, 11 | 31 | 51 | 71 | 91) && d == 7;
    let voltage = matches!(c, 12 | 32 | 52 | 72) && d == 7;
    let energy = d == 8;
    match brand {
        // Kamstrup HAN-NVE: I in 0.01 A, U in V, energy in 10 Wh.
        Brand::Kamstrup if current => -2,
        Brand::Kamstrup if energy => 1,
        // Landis+Gyr E450 (Switzerland): I in 0.01 A.
        Brand::LandisGyr if current => -2,
        // Kaifa KFM_001: I in mA, U in 0.1 V, energy in Wh.
        Brand::Kaifa if current => -3,
        Brand::Kaifa if voltage => -1,
        _ => 0,
    }
}
