//! Meter profiles as data, and their lookup (the public face, with its
//! documentation, is `crate::profiles`).

mod parse;

use std::sync::{Arc, LazyLock, Mutex};

use crate::dlms::axdr::{Data, Tree};
use crate::reading::obis::Obis;

pub use parse::ProfileError;

/// The built-in profiles, most specific first (a file's profiles in their
/// order, the files in this order).
const BUILTIN: [(&str, &str); 7] = [
    ("ch-vse.toml", include_str!("builtin/ch-vse.toml")),
    ("kamstrup.toml", include_str!("builtin/kamstrup.toml")),
    ("kaifa.toml", include_str!("builtin/kaifa.toml")),
    ("aidon.toml", include_str!("builtin/aidon.toml")),
    ("landisgyr.toml", include_str!("builtin/landisgyr.toml")),
    ("iskra.toml", include_str!("builtin/iskra.toml")),
    ("nek.toml", include_str!("builtin/nek.toml")),
];

/// The built-in profiles, parsed once. A file that does not parse is a
/// bug the unit tests catch; at run time it only leaves its profiles out.
static BUILTIN_PROFILES: LazyLock<Vec<Profile>> =
    LazyLock::new(|| BUILTIN.iter().flat_map(|(_, text)| parse::parse(text).unwrap_or_default()).collect());

/// The profiles compiled into the decoder, in the order they are tried.
pub fn builtin() -> &'static [Profile] {
    &BUILTIN_PROFILES
}

/// The built-in profile files: (file name, TOML text), for `han-read` to
/// show and for tests.
pub fn builtin_files() -> &'static [(&'static str, &'static str)] {
    &BUILTIN
}

/// A user's profiles, tried before the built-in ones. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct MeterProfiles(Arc<Vec<Profile>>);

impl MeterProfiles {
    /// The profiles of a profile file's text; the error names the line and
    /// column of what is wrong.
    pub fn parse(text: &str) -> Result<MeterProfiles, ProfileError> {
        parse::parse(text).map(|v| MeterProfiles(Arc::new(v)))
    }

    /// These profiles, then `other`'s (a second file after the first).
    pub fn extend(&mut self, other: &MeterProfiles) {
        if !other.0.is_empty() {
            Arc::make_mut(&mut self.0).extend(other.0.iter().cloned());
        }
    }

    /// How many profiles there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The profiles, in the order they are tried.
    pub fn profiles(&self) -> &[Profile] {
        &self.0
    }

    /// The first profile, of these and then the built-in ones, that
    /// recognises a list.
    pub(crate) fn select(&self, facts: &Facts<'_, '_>) -> Option<&Profile> {
        // Most profiles are passed over on their texts' first letters.
        self.0
            .iter()
            .chain(builtin())
            .find(|p| p.text_firsts.is_none_or(|b| b & facts.text_firsts != 0) && p.matches(facts))
    }
}

/// One meter profile.
#[derive(Clone, Debug)]
pub struct Profile {
    pub(crate) name: String,
    pub(crate) manufacturer: Option<&'static str>,
    pub(crate) matches: Vec<Match>,
    pub(crate) scales: Vec<ScaleRule>,
    pub(crate) layouts: Vec<Layout>,
    /// [`text_firsts`] of its matches.
    pub(crate) text_firsts: Option<u64>,
}

/// The [`first_bits`] a list's texts must share with a profile's for one
/// of its matches to hold: all their `text` prefixes' when every match
/// names texts; `None` (no such need) when one does not.
pub(crate) fn text_firsts(matches: &[Match]) -> Option<u64> {
    matches.iter().try_fold(0, |b, m| (!m.text.is_empty()).then_some(b | m.text_firsts))
}

impl Profile {
    /// The profile's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The manufacturer its readings name.
    pub fn manufacturer(&self) -> Option<&'static str> {
        self.manufacturer
    }

    /// Whether one of its `match` tables holds for the list.
    pub(crate) fn matches(&self, f: &Facts<'_, '_>) -> bool {
        self.matches.iter().any(|m| m.holds(f))
    }

    /// The layout of a list of bare values: the first whose length is the
    /// list's and whose typed positions have those types.
    pub(crate) fn layout(&self, tree: &Tree<'_>, bare: &[usize]) -> Option<&Layout> {
        self.layouts.iter().find(|l| {
            l.positions.len() == bare.len()
                && l.positions.iter().zip(bare).all(|(p, &n)| match p.kind {
                    Some(tag) => tree.node(n).is_some_and(|node| node.tag == tag),
                    None => true,
                })
        })
    }

    /// The scaler and unit of a value of `code` sent without them: the
    /// position's own, else the first scale rule for the code, else none
    /// and the quantity's base unit.
    pub(crate) fn scale(&self, code: Obis, position: Option<&Position>) -> Scale {
        scale_by(&self.scales, code, position)
    }
}

/// [`Profile::scale`] from a profile's scale rules.
fn scale_by(scales: &[ScaleRule], code: Obis, position: Option<&Position>) -> Scale {
    let rule = scales.iter().find(|r| r.pattern.contains(code));
    let scaler = position.and_then(|p| p.scaler).or(rule.and_then(|r| r.scaler)).unwrap_or(0);
    let unit = match position.and_then(|p| p.unit).or(rule.and_then(|r| r.unit)) {
        Some(u) => u,
        None => crate::dlms::units::default_unit(code),
    };
    Scale { scaler, unit }
}

/// Each position's scale, from the profile's rules for its standard code:
/// worked out once when the profile is read, not for every list.
pub(crate) fn scale_positions(scales: &[ScaleRule], layouts: &mut [Layout]) {
    for pos in layouts.iter_mut().flat_map(|l| l.positions.iter_mut()) {
        pos.scale = scale_by(scales, crate::dlms::lists::standard_code(pos.obis), Some(pos));
    }
}

/// The scaler and unit of one value.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct Scale {
    pub scaler: i8,
    pub unit: Option<&'static str>,
}

impl Scale {
    /// No profile: scaler 0 and the quantity's base unit.
    pub(crate) fn plain(code: Obis) -> Scale {
        Scale { scaler: 0, unit: crate::dlms::units::default_unit(code) }
    }
}

/// One set of conditions, all of which must hold.
#[derive(Clone, Debug, Default)]
pub(crate) struct Match {
    /// The list id starts with one of these (case-insensitive).
    pub list_id: Vec<String>,
    /// The list id, the logical device name or a bare text starts with one.
    pub text: Vec<String>,
    /// The logical device name (`0-0:42.0.0`) starts with one.
    pub device_name: Vec<String>,
    /// The meter type (`0-0:96.1.7`) contains one.
    pub model: Vec<String>,
    /// The push setup is one of these.
    pub push_setup: Vec<Obis>,
    /// The number of values without OBIS codes.
    pub values: Option<usize>,
    /// The [`first_bits`] of the `text` prefixes.
    pub text_firsts: u64,
}

/// A bit for each text's first byte, ASCII case folded (64 buckets): a
/// text can start with a prefix only if the two share their bit, so most
/// profiles' `text` tables are passed over without comparing any text.
pub(crate) fn first_bits<'a>(texts: impl IntoIterator<Item = &'a [u8]>) -> u64 {
    texts.into_iter().filter_map(|t| t.first()).fold(0, |m, b| m | 1 << (b.to_ascii_uppercase() & 63))
}

fn starts_with_any(s: &[u8], prefixes: &[String]) -> bool {
    prefixes.iter().any(|p| s.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p.as_bytes())))
}

fn contains_any(s: &[u8], needles: &[String]) -> bool {
    needles.iter().any(|n| !n.is_empty() && s.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n.as_bytes())))
}

impl Match {
    fn holds(&self, f: &Facts<'_, '_>) -> bool {
        let text_of = |t: Option<&[u8]>, want: &[String], test: fn(&[u8], &[String]) -> bool| {
            want.is_empty() || t.is_some_and(|t| test(t, want))
        };
        // Most profiles fail on a text's first letter: that first.
        (self.text.is_empty() || self.text_firsts & f.text_firsts != 0)
            && text_of(f.list_id, &self.list_id, starts_with_any)
            && text_of(f.device_name, &self.device_name, starts_with_any)
            && text_of(f.model, &self.model, contains_any)
            && (self.push_setup.is_empty() || f.push_setup.is_some_and(|p| self.push_setup.contains(&p)))
            && self.values.is_none_or(|n| n == f.bare.len())
            && (self.text.is_empty() || f.texts().any(|t| starts_with_any(t, &self.text)))
    }
}

/// What a profile is matched against: the list's names and its values
/// without OBIS codes.
#[derive(Debug)]
pub(crate) struct Facts<'t, 'b> {
    pub tree: &'t Tree<'b>,
    pub list_id: Option<&'b [u8]>,
    pub device_name: Option<&'b [u8]>,
    pub model: Option<&'b [u8]>,
    pub push_setup: Option<Obis>,
    pub bare: &'t [usize],
    /// The bare values that are texts: found
    /// once, not again for every profile that matches on a text.
    pub bare_texts: &'t [usize],
    /// The [`first_bits`] of [`Facts::texts`].
    pub text_firsts: u64,
}

impl<'b> Facts<'_, 'b> {
    /// The bare values that are octet, visible or UTF-8 strings.
    pub(crate) fn text_nodes(tree: &Tree<'_>, bare: &[usize], out: &mut Vec<usize>) {
        out.clear();
        out.extend(bare.iter().copied().filter(|&i| {
            tree.node(i).is_some_and(|n| matches!(n.data, Data::Octets(..) | Data::Visible(..) | Data::Utf8(..)))
        }));
    }

    /// The list id, the logical device name and every bare text value.
    pub(crate) fn texts(&self) -> impl Iterator<Item = &'b [u8]> + '_ {
        let bare = self.bare_texts.iter().filter_map(|&i| self.tree.bytes_of(i));
        self.list_id.into_iter().chain(self.device_name).chain(bare)
    }
}

/// The scaler and unit of the codes a pattern covers.
#[derive(Clone, Debug)]
pub(crate) struct ScaleRule {
    pub pattern: ObisPattern,
    pub scaler: Option<i8>,
    /// `Some(None)`: no unit.
    pub unit: Option<Option<&'static str>>,
}

/// Where a list of bare values puts what.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    pub positions: Vec<Position>,
}

/// One value of a positional layout.
#[derive(Clone, Debug)]
pub(crate) struct Position {
    pub obis: Obis,
    /// The A-XDR tag the value must have, when the layout says.
    pub kind: Option<u8>,
    pub scaler: Option<i8>,
    pub unit: Option<Option<&'static str>>,
    /// Its scaler and unit as [`Profile::scale`] gives them for its
    /// standard code (set by [`scale_positions`]).
    pub scale: Scale,
}

/// A set of OBIS codes: per group, the values it takes (a bit each).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ObisPattern([[u64; 4]; 6]);

impl ObisPattern {
    pub(crate) fn contains(&self, code: Obis) -> bool {
        self.0.iter().zip(code.0).all(|(set, v)| set.get(usize::from(v >> 6)).is_some_and(|w| w >> (v & 63) & 1 == 1))
    }

    /// Parses `A-B:C.D.E[.F]` where each group is a number, `*` (any) or
    /// numbers joined by `|`; F is 255 when left out.
    pub(crate) fn parse(s: &str) -> Option<ObisPattern> {
        let s = s.trim();
        let (a, rest) = s.split_once('-')?;
        let (b, rest) = rest.split_once(':')?;
        let mut groups: Vec<&str> = vec![a, b];
        groups.extend(rest.split('.'));
        if groups.len() == 5 {
            groups.push("255");
        }
        if groups.len() != 6 {
            return None;
        }
        let mut sets = [[0u64; 4]; 6];
        for (set, g) in sets.iter_mut().zip(groups) {
            if g.trim() == "*" {
                *set = [u64::MAX; 4];
                continue;
            }
            for v in g.split('|') {
                let v = v.trim();
                if v.is_empty() || !v.bytes().all(|c| c.is_ascii_digit()) {
                    return None;
                }
                let v: u8 = v.parse().ok()?;
                *set.get_mut(usize::from(v >> 6))? |= 1 << (v & 63);
            }
        }
        Some(ObisPattern(sets))
    }
}

/// The units a profile may name: the DLMS units the decoder writes, and
/// `none`.
pub(crate) fn unit(s: &str) -> Option<Option<&'static str>> {
    if s == "none" {
        return Some(None);
    }
    (1..=255).filter_map(crate::dlms::units::unit_name).find(|u| *u == s).map(Some)
}

/// A-XDR type names a layout may give a position, and their tags.
pub(crate) const TYPES: [(&str, u8); 23] = [
    ("null-data", 0x00),
    ("boolean", 0x03),
    ("bit-string", 0x04),
    ("double-long", 0x05),
    ("double-long-unsigned", 0x06),
    ("octet-string", 0x09),
    ("visible-string", 0x0A),
    ("utf8-string", 0x0C),
    ("bcd", 0x0D),
    ("integer", 0x0F),
    ("long", 0x10),
    ("unsigned", 0x11),
    ("long-unsigned", 0x12),
    ("long64", 0x14),
    ("long64-unsigned", 0x15),
    ("enum", 0x16),
    ("float32", 0x17),
    ("float64", 0x18),
    ("date-time", 0x19),
    ("date", 0x1A),
    ("time", 0x1B),
    ("array", 0x01),
    ("structure", 0x02),
];

/// The type name of a tag.
pub(crate) fn type_name(tag: u8) -> Option<&'static str> {
    TYPES.iter().find(|(_, t)| *t == tag).map(|(n, _)| *n)
}

/// Manufacturer names the built-in profiles and the decoder use.
const KNOWN_MAKERS: [&str; 10] =
    ["Aidon", "Kaifa", "Kamstrup", "Landis+Gyr", "Iskra", "Sagemcom", "Elgama", "NES", "Siemens", "Itron"];

/// Readings name their manufacturer with a `&'static str`. A user's name
/// that is not a known one is leaked once and reused; a process loads a
/// few profile files, but the loader's fuzz target parses millions, so
/// at most this many are kept; past them, a new name reads `(other)`.
const MAX_LEAKED: usize = 64;

static LEAKED: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());

pub(crate) fn intern(name: &str) -> &'static str {
    if let Some(k) = KNOWN_MAKERS.iter().find(|k| **k == name) {
        return k;
    }
    let Ok(mut leaked) = LEAKED.lock() else { return "(other)" };
    if let Some(k) = leaked.iter().find(|k| **k == name) {
        return k;
    }
    if leaked.len() >= MAX_LEAKED {
        return "(other)";
    }
    let k: &'static str = Box::leak(name.to_owned().into_boxed_str());
    leaked.push(k);
    k
}

#[cfg(test)]
mod tests;
