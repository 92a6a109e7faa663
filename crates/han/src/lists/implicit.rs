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
    /// Kamstrup Omnipower configured for Sweden: energy in Wh, not 10 Wh.
    KamstrupSe,
    LandisGyr,
    Iskra,
    Unknown,
}

impl Brand {
    pub(crate) fn name(self) -> Option<&'static str> {
        Some(match self {
            Brand::Aidon => "Aidon",
            Brand::Kaifa => "Kaifa",
            Brand::Kamstrup | Brand::KamstrupSe => "Kamstrup",
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
    let brand = coded_id
        .into_iter()
        .chain(bare.iter().copied())
        .filter_map(|i| tree.bytes_of(i))
        .find_map(brand_of_text)
        .unwrap_or(Brand::Unknown);
    if brand == Brand::Kamstrup
        && coded.iter().any(|(o, it)| o.0 == [1, 1, 96, 1, 1, 255] && is_swedish_type(tree, it.node))
    {
        return Brand::KamstrupSe;
    }
    brand
}

/// Kamstrup's meter type (`6841131BN245101092`) names the variant after
/// `BN`: `242`/`243` in the Norwegian captures, `245` in the Swedish ones,
/// whose energy registers count Wh where Norway's count 10 Wh (amsreader
/// issues #239, #874).
fn is_swedish_type(tree: &Tree<'_>, node: usize) -> bool {
    tree.bytes_of(node).is_some_and(|b| b.windows(5).any(|w| w == b"BN245"))
}

/// The power of ten a brand's bare number carries.
pub(crate) fn scaler(brand: Brand, code: Obis) -> i8 {
    let (c, d) = (code.c(), code.d());
    let current = matches!(c, 11 | 31 | 51 | 71 | 91) && d == 7;
    let voltage = matches!(c, 12 | 32 | 52 | 72) && d == 7;
    let energy = d == 8;
    let power_factor = matches!(c, 13 | 33 | 53 | 73) && d == 7;
    match brand {
        // Kamstrup HAN-NVE: I in 0.01 A, U in V, power factor in 0.01,
        // energy in 10 Wh (Wh in Sweden).
        Brand::Kamstrup | Brand::KamstrupSe if current || power_factor => -2,
        Brand::Kamstrup if energy => 1,
        // Landis+Gyr E450 (Switzerland): I in 0.01 A.
        Brand::LandisGyr if current => -2,
        // Kaifa KFM_001: I in mA, U in 0.1 V, energy in Wh.
        Brand::Kaifa if current => -3,
        Brand::Kaifa if voltage => -1,
        _ => 0,
    }
}
