//! Lists of bare values (no OBIS codes): Kaifa KFM_001 (Norway, Sweden),
//! Iskraemeco and Landis+Gyr DSO layouts, matched by brand, count and the
//! types of the values. Values of a layout nobody documented are kept
//! under manufacturer-specific codes `0-0:128.0.N` (N = position), never
//! guessed into a quantity.

use super::{Brand, Item};
use crate::axdr::{Data, Tree};
use crate::error::Error;
use crate::obis::Obis;

const fn e(c: u8, d: u8, e: u8) -> Obis {
    Obis::new(1, 0, c, d, e, 255)
}
const LIST_ID: Obis = Obis::new(1, 1, 0, 2, 129, 255);
const METER_ID: Obis = Obis::new(0, 0, 96, 1, 0, 255);
const MODEL: Obis = Obis::new(0, 0, 96, 1, 7, 255);
const CLOCK: Obis = Obis::new(0, 0, 1, 0, 0, 255);
/// Logical device name (Iskraemeco sends it first).
const DEVICE_NAME: Obis = Obis::new(0, 0, 42, 0, 0, 255);

/// NEK list 1: active power import only.
const LIST1: [Obis; 1] = [e(1, 7, 0)];

/// Kaifa KFM_001 (NEK list 2/3 contents), 3-phase.
const KAIFA_3P: [Obis; 18] = [
    LIST_ID,
    METER_ID,
    MODEL,
    e(1, 7, 0),
    e(2, 7, 0),
    e(3, 7, 0),
    e(4, 7, 0),
    e(31, 7, 0),
    e(51, 7, 0),
    e(71, 7, 0),
    e(32, 7, 0),
    e(52, 7, 0),
    e(72, 7, 0),
    CLOCK,
    e(1, 8, 0),
    e(2, 8, 0),
    e(3, 8, 0),
    e(4, 8, 0),
];

/// Kaifa KFM_001, 1-phase (IL2/IL3/UL2/UL3 "NA" in the KFM_001 table).
const KAIFA_1P: [Obis; 14] = [
    LIST_ID,
    METER_ID,
    MODEL,
    e(1, 7, 0),
    e(2, 7, 0),
    e(3, 7, 0),
    e(4, 7, 0),
    e(31, 7, 0),
    e(32, 7, 0),
    CLOCK,
    e(1, 8, 0),
    e(2, 8, 0),
    e(3, 8, 0),
    e(4, 8, 0),
];

/// Iskraemeco AM550 (Slovenia, Elektro DSOs) 18-value push.
const ISKRA_18: [Obis; 18] = [
    DEVICE_NAME,
    METER_ID,
    e(1, 7, 0),
    e(2, 7, 0),
    e(3, 7, 0),
    e(4, 7, 0),
    e(32, 7, 0),
    e(52, 7, 0),
    e(72, 7, 0),
    e(31, 7, 0),
    e(51, 7, 0),
    e(71, 7, 0),
    e(21, 7, 0),
    e(41, 7, 0),
    e(61, 7, 0),
    e(22, 7, 0),
    e(42, 7, 0),
    e(62, 7, 0),
];

fn tags(tree: &Tree<'_>, bare: &[usize]) -> Vec<u8> {
    bare.iter().filter_map(|&i| tree.node(i).map(|n| n.tag)).collect()
}

/// Assigns codes to bare values by position.
pub(crate) fn assign(
    tree: &Tree<'_>,
    brand: Brand,
    bare: &[usize],
    mixed: bool,
    coded: &mut Vec<(Obis, Item)>,
) -> Result<(), Error> {
    let t = tags(tree, bare);
    let layout: Option<&[Obis]> = match (brand, bare.len()) {
        // Bare values between coded ones follow no known layout.
        _ if mixed => None,
        // List 1: active power import only.
        (_, 1) if t == [0x06] => Some(&LIST1),
        (Brand::Kaifa, 13) => KAIFA_3P.get(..13),
        (Brand::Kaifa, 18) => Some(&KAIFA_3P),
        (Brand::Kaifa, 9) => KAIFA_1P.get(..9),
        (Brand::Kaifa, 14) => Some(&KAIFA_1P),
        (Brand::Iskra, 18) if t.get(2..6) == Some(&[6, 6, 6, 6]) && t.get(6..12) == Some(&[0x12; 6]) => Some(&ISKRA_18),
        _ => None,
    };
    match layout {
        Some(codes) => {
            coded.extend(codes.iter().zip(bare).map(|(&o, &node)| (o, Item { node, scaler_unit: scaler_of(brand, o) })))
        }
        None => keep_unknown(tree, bare, coded),
    }
    if coded.is_empty() {
        return Err(Error::UnknownLayout("empty list"));
    }
    Ok(())
}

/// Scalers of positional layouts that differ from the brand's defaults.
fn scaler_of(brand: Brand, o: Obis) -> Option<(i8, u8)> {
    match (brand, o.c(), o.d()) {
        // Iskraemeco: U in 0.1 V, I in 0.01 A.
        (Brand::Iskra, 32 | 52 | 72, 7) => Some((-1, 35)),
        (Brand::Iskra, 31 | 51 | 71, 7) => Some((-2, 33)),
        _ => None,
    }
}

/// An undocumented layout: the meter id when one value is plainly an id,
/// everything else under `0-0:128.0.N`.
fn keep_unknown(tree: &Tree<'_>, bare: &[usize], coded: &mut Vec<(Obis, Item)>) {
    let mut id_taken = false;
    for (n, &node) in bare.iter().enumerate() {
        let is_id =
            matches!(tree.node(node).map(|x| x.data), Some(Data::Octets(_, 8..=16)) | Some(Data::Visible(_, 8..=16)))
                && tree.bytes_of(node).is_some_and(|b| b.iter().all(u8::is_ascii_digit));
        let code = if is_id && !id_taken {
            id_taken = true;
            METER_ID
        } else {
            Obis::new(0, 0, 128, 0, u8::try_from(n).unwrap_or(255), 255)
        };
        coded.push((code, Item { node, scaler_unit: None }));
    }
}
