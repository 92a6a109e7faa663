//! A draft profile for a list no profile describes: its positions, their
//! types and the values seen, OBIS codes where the list has them, and
//! placeholders for what only the meter's documentation can say (codes,
//! scalers, units). `han-read --structure` and `--hexdump` print it.

use std::fmt::Write as _;

use crate::dlms::axdr::{self, Data, Tree};
use crate::dlms::lists::{self, Item, Names, positional};
use crate::dlms::profiles::{MeterProfiles, type_name};
use crate::reading::obis::Obis;
use crate::reading::time::cosem_datetime;

/// A draft profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    /// Stays the same for every message of the same layout (types, codes,
    /// count), so a tool can print one draft per layout.
    pub layout: u64,
    /// The profile file's text (TOML, with TODO comments).
    pub text: String,
}

/// The draft profile of a data-notification APDU whose list no profile
/// (of `profiles`, then the built-in ones) describes; `None` when one does,
/// or the APDU is no data-notification.
pub fn draft(apdu: &[u8], profiles: &MeterProfiles) -> Option<Draft> {
    if apdu.first() != Some(&crate::dlms::apdu::DATA_NOTIFICATION) {
        return None;
    }
    let body = match (apdu.get(5), apdu.get(6)) {
        (Some(0x00), _) => 6,
        (Some(0x0C), _) => 18,
        (Some(0x09), Some(0x0C)) => 19,
        _ => return None,
    };
    let mut nodes = Vec::new();
    axdr::decode_into(apdu, body, &mut nodes).ok()?;
    let tree = Tree { bytes: apdu, nodes: &nodes };
    let (mut items, mut coded, mut bare) = (Vec::new(), Vec::new(), Vec::new());
    let names = lists::survey(&tree, &mut items, &mut coded, &mut bare).ok()?;
    let mut texts = Vec::new();
    let facts = lists::facts(&tree, &coded, &bare, names, &mut texts);
    let profile = profiles.select(&facts);
    let mixed = lists::mixed(&coded);
    let unscaled: Vec<&(Obis, Item)> = coded
        .iter()
        .filter(|(_, it)| {
            it.scale.is_none() && tree.node(it.node).is_some_and(|n| matches!(n.data, Data::Int(_) | Data::UInt(_)))
        })
        .collect();
    let known = match profile {
        Some(p) if !bare.is_empty() => mixed || p.layout(&tree, &bare).is_some(),
        Some(_) => true,
        // Bare values among coded ones fit no layout: a draft cannot help.
        None => (!bare.is_empty() && mixed) || (bare.is_empty() && unscaled.is_empty()),
    };
    if known {
        return None;
    }
    let mut text = String::new();
    head(&mut text, &facts_texts(&tree, &coded, &bare, names), names, &bare);
    if !unscaled.is_empty() {
        scales(&mut text, &tree, &unscaled);
    }
    if !bare.is_empty() && !mixed {
        layout(&mut text, &tree, &bare);
    }
    Some(Draft { layout: signature(&tree, &coded, bare.len()), text })
}

/// What identifies the list, for its match table.
struct Ids {
    list_id: Option<String>,
    device_name: Option<String>,
    model: Option<String>,
    /// A bare text that names the list (a value with letters).
    bare_name: Option<String>,
}

fn facts_texts(tree: &Tree<'_>, coded: &[(Obis, Item)], bare: &[usize], names: Names) -> Ids {
    let mut texts = Vec::new();
    let f = lists::facts(tree, coded, bare, names, &mut texts);
    let text = |b: Option<&[u8]>| b.and_then(|b| std::str::from_utf8(b).ok()).map(str::to_owned);
    // A logical device name is matched by its FLAG id, not the serial.
    let bare_name = bare.iter().filter(|&&n| is_text(tree, n)).find_map(|&n| {
        let s = std::str::from_utf8(tree.bytes_of(n)?).ok()?;
        if is_device_name(s) { Some(s.chars().take(3).collect()) } else { has_letters(s).then(|| s.to_owned()) }
    });
    Ids { list_id: text(f.list_id), device_name: text(f.device_name), model: text(f.model), bare_name }
}

fn is_text(tree: &Tree<'_>, n: usize) -> bool {
    tree.node(n).is_some_and(|n| matches!(n.data, Data::Octets(..) | Data::Visible(..) | Data::Utf8(..)))
}

/// A TOML basic string.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A line of TOML with its comment in the comment column.
fn commented(out: &mut String, toml: &str, comment: &str) {
    let _ = writeln!(out, "{toml:<32} # {comment}");
}

fn head(out: &mut String, ids: &Ids, names: Names, bare: &[usize]) {
    let _ = writeln!(out, "# Draft meter profile: no profile describes this list. Put in what the");
    let _ = writeln!(out, "# meter's documentation says where it says TODO (codes, scalers, units),");
    let _ = writeln!(out, "# save it, and decode with `han-read --meter-profile FILE` (docs/profiles.md).");
    let _ = writeln!(out, "[[profile]]");
    commented(out, "name = \"my-meter\"", "TODO: a name of your choice");
    commented(out, "# manufacturer = \"...\"", "TODO: who made it, if you know");
    let _ = writeln!(out);
    let _ = writeln!(out, "# How the decoder recognises the list: every key here must hold.");
    let _ = writeln!(out, "[[profile.match]]");
    let mut named = false;
    if let Some(id) = &ids.list_id {
        commented(out, &format!("list_id = {}", quoted(id)), "the list id");
        named = true;
    } else if let Some(id) = &ids.bare_name {
        commented(out, &format!("text = {}", quoted(id)), "a value of the list starts with it");
        named = true;
    }
    if let Some(d) = &ids.device_name {
        // The logical device name starts with the maker's FLAG id; the
        // rest is the meter's serial.
        let flag: String = d.chars().take(3).collect();
        commented(out, &format!("device_name = {}", quoted(&flag)), &format!("logical device name {}", quoted(d)));
        named = true;
    }
    if let Some(p) = names.push_setup {
        commented(out, &format!("push_setup = \"{p}\""), "the push setup that sends the list");
        named = true;
    }
    if let Some(m) = &ids.model {
        commented(out, &format!("# model = {}", quoted(m)), "the meter type, if other types send other lists");
    }
    if !bare.is_empty() {
        commented(out, &format!("values = {}", bare.len()), "values without OBIS codes");
    }
    if !named {
        let _ = writeln!(out, "# Nothing in the list names it: as it is, this matches other meters' lists");
        let _ = writeln!(
            out,
            "# {}too; keep it for this meter only.",
            if bare.is_empty() { "" } else { "of as many values " }
        );
    }
}

/// Scale rules for coded numbers the frame sends without a scaler.
fn scales(out: &mut String, tree: &Tree<'_>, unscaled: &[&(Obis, Item)]) {
    let _ = writeln!(out);
    let _ = writeln!(out, "# The list names these values but sends no scaler or unit with them.");
    for (obis, it) in unscaled {
        let code = lists::standard_code(*obis);
        let _ = writeln!(out, "[[profile.scale]]");
        let _ = writeln!(out, "obis = \"{code}\"");
        let _ = writeln!(
            out,
            "scaler = 0        # TODO: the power of ten (-1: tenths); value seen: {}",
            shown(tree, it.node)
        );
        match crate::dlms::units::default_unit(code) {
            Some(u) => {
                let _ = writeln!(out, "unit = \"{u}\"");
            }
            None => {
                let _ = writeln!(out, "unit = \"none\"    # TODO: the unit");
            }
        }
    }
}

/// The positions of a list of bare values.
fn layout(out: &mut String, tree: &Tree<'_>, bare: &[usize]) {
    let _ = writeln!(out);
    let _ = writeln!(out, "# The values in the order the meter sends them. Each position's type must");
    let _ = writeln!(out, "# match; a position's scaler and unit apply to its value (docs/profiles.md).");
    let _ = writeln!(out, "[[profile.layout]]");
    let _ = writeln!(out, "positions = [");
    let mut id_taken = false;
    for (n, &node) in bare.iter().enumerate() {
        let Some(d) = tree.node(node) else { continue };
        let kind = type_name(d.tag).unwrap_or("null-data");
        let (code, what, todo) = guess(tree, node, n, &mut id_taken);
        let mut entry = format!("  {{ obis = \"{code}\", type = \"{kind}\"");
        let number = matches!(d.data, Data::Int(_) | Data::UInt(_) | Data::Float(_));
        if number {
            entry.push_str(", scaler = 0, unit = \"none\"");
        }
        entry.push_str(" },");
        let note = match (number, todo) {
            (true, _) => " TODO: code, scaler, unit".to_owned(),
            (false, true) => " TODO: code".to_owned(),
            (false, false) => String::new(),
        };
        let _ = writeln!(
            out,
            "{entry:<82} # {n}: {}{what}{}",
            shown(tree, node),
            if note.is_empty() { String::new() } else { format!(" --{note}") }
        );
    }
    let _ = writeln!(out, "]");
}

/// Whether a text looks like a COSEM logical device name: a three-letter
/// FLAG id and the serial (`LGZ1030653520967`, `ISK1030792283067`).
fn is_device_name(s: &str) -> bool {
    s.len() >= 10 && s.bytes().take(3).all(|c| c.is_ascii_uppercase()) && s.bytes().all(|c| c.is_ascii_alphanumeric())
}

/// Whether a text names something (has letters), as a list id does.
fn has_letters(s: &str) -> bool {
    s.len() >= 4 && s.bytes().all(|c| c.is_ascii_graphic()) && s.bytes().any(|c| c.is_ascii_alphabetic())
}

/// A code for a bare value, what it looks like, and whether the code is
/// only a placeholder.
fn guess(tree: &Tree<'_>, node: usize, n: usize, id_taken: &mut bool) -> (Obis, &'static str, bool) {
    let bytes = tree.bytes_of(node).unwrap_or(&[]);
    let text = if is_text(tree, node) { std::str::from_utf8(bytes).ok() } else { None };
    if let Some(s) = text {
        if is_device_name(s) {
            return (Obis::new(0, 0, 42, 0, 0, 255), " (a logical device name?)", true);
        }
        if n == 0 && has_letters(s) {
            return (Obis::new(1, 1, 0, 2, 129, 255), " (a list id?)", true);
        }
    }
    if !*id_taken && positional::is_id(tree, node) {
        *id_taken = true;
        return (Obis::new(0, 0, 96, 1, 0, 255), " (a meter id?)", true);
    }
    if bytes.len() == 12 && is_text(tree, node) && cosem_datetime(bytes).is_some_and(|c| c.time.is_some()) {
        return (Obis::new(0, 0, 1, 0, 0, 255), " (a date-time: the meter clock?)", true);
    }
    (positional::unknown_code(n), "", true)
}

/// A value as the draft's comments show it.
fn shown(tree: &Tree<'_>, node: usize) -> String {
    let Some(d) = tree.node(node) else { return String::new() };
    match d.data {
        Data::Int(v) => v.to_string(),
        Data::UInt(v) => v.to_string(),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::Enum(v) | Data::Bcd(v) => v.to_string(),
        Data::Null => "null".to_owned(),
        _ => {
            let b = tree.bytes_of(node).unwrap_or(&[]);
            match std::str::from_utf8(b) {
                Ok(s) if !s.is_empty() && s.chars().all(|c| !c.is_control()) => quoted(s),
                _ => format!("0x{}", crate::reading::value::Hex(b)),
            }
        }
    }
}

/// A hash of the layout: the tags of every node and the codes of the list.
fn signature(tree: &Tree<'_>, coded: &[(Obis, Item)], bare: usize) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    let mut eat = |b: u8| h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    for n in tree.nodes {
        eat(n.tag);
    }
    for (o, _) in coded {
        o.0.iter().copied().for_each(&mut eat);
    }
    for b in (bare as u64).to_le_bytes() {
        eat(b);
    }
    h
}
