//! Which brand sent a list, and the scalers it leaves out.

use super::{LIST_ID, text_of};
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
            Brand::Iskra => "Iskraemeco",
            Brand::Unknown => return None,
        })
    }
}

fn brand_of_text(s: &str) -> Option<Brand> {
    let u = s.to_ascii_uppercase();
    Some(if u.starts_with("AIDON") {
        Brand::Aidon
    } else if u.starts_with("KFM") || u.starts_with("KAIFA") {
        Brand::Kaifa
    } else if u.starts_with("KAMSTRUP") {
        Brand::Kamstrup
    } else if u.starts_with("EMBRIQ") || u.starts_with("LGZ") {
        Brand::LandisGyr
    } else if u.starts_with("ISK") {
        Brand::Iskra
    } else {
        return None;
    })
}

/// The brand from the list id (coded or the leading bare string) or the
/// first text that names one.
pub(crate) fn brand(tree: &Tree<'_>, coded: &[(Obis, Item)], bare: &[usize]) -> Brand {
    let coded_id = coded
        .iter()
        .find(|(o, _)| matches!(o.0, [1, _, 0, 2, 129, 255]) || *o == LIST_ID)
        .and_then(|(_, it)| text_of(tree, it.node));
    coded_id
        .into_iter()
        .chain(bare.iter().filter_map(|&i| text_of(tree, i)))
        .find_map(|s| brand_of_text(&s))
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
