//! Lists of bare values (no OBIS codes): the profile that recognised the
//! list says where it puts what (Kaifa KFM_001, Iskraemeco and the NEK
//! list 1 are built-in profiles; a user's profile adds others). Values of a
//! layout no profile describes are kept under manufacturer-specific codes
//! `0-0:128.0.N` (N = position), never guessed into a quantity.

use super::Item;
use crate::dlms::axdr::{Data, Tree};
use crate::dlms::profiles::Profile;
use crate::error::Error;
use crate::reading::obis::Obis;

const METER_ID: Obis = Obis::new(0, 0, 96, 1, 0, 255);

/// Assigns codes to bare values by position: the profile's layout for
/// their number and types, unless they sit among coded values.
pub(crate) fn assign(
    tree: &Tree<'_>,
    profile: Option<&Profile>,
    bare: &[usize],
    mixed: bool,
    coded: &mut Vec<(Obis, Item)>,
) -> Result<(), Error> {
    let layout = match profile {
        Some(p) if !mixed => p.layout(tree, bare),
        _ => None,
    };
    match layout {
        Some(l) => coded
            .extend(l.positions.iter().zip(bare).map(|(pos, &node)| (pos.obis, Item { node, scale: Some(pos.scale) }))),
        None => keep_unknown(tree, bare, coded),
    }
    if coded.is_empty() {
        return Err(Error::UnknownLayout("empty list"));
    }
    Ok(())
}

/// Whether a value is plainly a meter id: 8 to 16 digits.
pub(crate) fn is_id(tree: &Tree<'_>, node: usize) -> bool {
    matches!(tree.node(node).map(|x| x.data), Some(Data::Octets(_, 8..=16)) | Some(Data::Visible(_, 8..=16)))
        && tree.bytes_of(node).is_some_and(|b| b.iter().all(u8::is_ascii_digit))
}

/// The code an undescribed value at position `n` gets.
pub(crate) fn unknown_code(n: usize) -> Obis {
    Obis::new(0, 0, 128, 0, u8::try_from(n).unwrap_or(255), 255)
}

/// An undocumented layout: the meter id when one value is plainly an id,
/// everything else under `0-0:128.0.N`.
fn keep_unknown(tree: &Tree<'_>, bare: &[usize], coded: &mut Vec<(Obis, Item)>) {
    let mut id_taken = false;
    for (n, &node) in bare.iter().enumerate() {
        let code = if !id_taken && is_id(tree, node) {
            id_taken = true;
            METER_ID
        } else {
            unknown_code(n)
        };
        coded.push((code, Item { node, scale: None }));
    }
}
