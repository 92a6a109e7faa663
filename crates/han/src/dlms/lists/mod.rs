//! From a data-notification body to OBIS objects: the list layouts.
//!
//! One walker reads every self-describing shape: `structure{OBIS, value[,
//! scaler-unit]}` items (Aidon, Austrian Kaifa/Sagemcom), flat `OBIS, value
//! [, scaler-unit]` runs (Kamstrup, Swedish Kaifa, Landis+Gyr), and capture
//! object descriptor lists followed by values (Landis+Gyr E450, the Swiss
//! push configurations). What the list itself leaves out comes from the
//! meter profile that recognises it (`crate::dlms::profiles`): the manufacturer,
//! the scalers and units of bare numbers, and where a list of values
//! without OBIS codes puts what (`positional.rs`).

pub(crate) mod positional;

use chrono_tz::Tz;

use crate::dlms::axdr::{Data, Tree};
use crate::dlms::profiles::{Facts, MeterProfiles, Profile, Scale, first_bits};
use crate::error::Error;
use crate::reading::normalise::Rule;
use crate::reading::obis::Obis;
use crate::reading::time::cosem_datetime;
use crate::reading::value::{Decimal, Text, Unit, Value};
use crate::reading::{Object, Objects, Reading};

use crate::dlms::units::unit_name;

/// The clock object.
const CLOCK: Obis = Obis::new(0, 0, 1, 0, 0, 255);
/// The list / version identifier.
const LIST_ID: Obis = Obis::new(1, 1, 0, 2, 129, 255);
/// The push setup whose list this is (value: its logical name).
const PUSH_SETUP: Obis = Obis::new(0, 0, 25, 9, 0, 255);
/// Meter id (GS1 / serial).
const METER_ID: Obis = Obis::new(0, 0, 96, 1, 0, 255);
/// Meter type / model.
const METER_MODEL: Obis = Obis::new(0, 0, 96, 1, 7, 255);
/// COSEM logical device name.
const DEVICE_NAME: Obis = Obis::new(0, 0, 42, 0, 0, 255);

/// A value node with its scaler and unit (the frame's own, or the
/// profile's for a positional value), before it becomes an object.
#[derive(Copy, Clone, Debug)]
pub(crate) struct Item {
    pub node: usize,
    pub scale: Option<Scale>,
}

/// An object whose value is one number or time node and nothing else:
/// when only that node's bytes change, [`object`] on the new bytes is the
/// whole update (`crate::template`).
#[derive(Copy, Clone, Debug)]
pub(crate) struct Link {
    /// The object's index in the reading.
    pub obj: usize,
    /// Its code as [`object`] takes it (before duplicates are renamed).
    pub code: Obis,
    /// The value node.
    pub node: usize,
    /// Its scaler and unit.
    pub scale: Scale,
}

/// Buffers `map` reuses from message to message, and what it found that a
/// template of the message needs.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    items: Vec<usize>,
    coded: Vec<(Obis, Item)>,
    bare: Vec<usize>,
    /// The bare values that are texts.
    texts: Vec<usize>,
    /// The user's meter profiles (the built-in ones come after them).
    pub profiles: MeterProfiles,
    /// The objects made from one number or time node.
    pub links: Vec<Link>,
    /// The object that set the reading's meter time.
    pub clock: Option<usize>,
    /// Whether the last message mapped.
    pub mapped: bool,
    /// Each object's quantity rule, by index (`normalise_keeping`).
    pub rules: Vec<Option<Rule>>,
}

impl Scratch {
    /// Buffers for a decoder with the user's profiles.
    pub(crate) fn new(profiles: MeterProfiles) -> Scratch {
        Scratch { profiles, ..Scratch::default() }
    }
}

/// What a list says about itself, besides its values: what a profile is
/// matched against.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Names {
    /// Kamstrup's leading list id, which has no OBIS code (a node).
    pub list_from_bare: Option<usize>,
    /// The push setup the list names (its logical name).
    pub push_setup: Option<Obis>,
}

/// Sorts the top-level items into coded values and bare ones, and finds
/// the list's names. Shared by [`map`] and the draft profile maker.
pub(crate) fn survey(
    tree: &Tree<'_>,
    items: &mut Vec<usize>,
    coded: &mut Vec<(Obis, Item)>,
    bare: &mut Vec<usize>,
) -> Result<Names, Error> {
    items.clear();
    coded.clear();
    bare.clear();
    let root = tree.node(0).ok_or(Error::UnknownLayout("empty body"))?;
    match root.data {
        Data::Structure(_) | Data::Array(_) => items.extend(tree.children(0)),
        _ => items.push(0),
    }
    let mut names = Names::default();
    match descriptors(tree, items) {
        Some((descr, push_setup)) => {
            names.push_setup = push_setup;
            // Attribute 2 is a register's value; the push setup's own name
            // (attribute 1) and other attributes are not readings.
            coded.extend(descr.iter().filter(|d| d.1 == 2).map(|d| (d.0, d.2)));
        }
        None => walk(tree, items, coded, bare),
    }
    if names.push_setup.is_none() {
        names.push_setup = coded.iter().find(|(o, _)| *o == PUSH_SETUP).and_then(|(_, it)| obis_at(tree, it.node));
    }
    // Kamstrup's leading list id has no OBIS code: it is the list id.
    if let Some(&first) = bare.first() {
        if Some(&first) == items.first() && !coded.is_empty() && text_of(tree, first).is_some_and(|s| is_list_id(&s)) {
            bare.remove(0);
            names.list_from_bare = Some(first);
        }
    }
    Ok(names)
}

/// The text bytes of the first coded values whose standard codes are the
/// list id, the logical device name and the meter model (none for one that
/// is not text), found in one pass over the codes.
fn named_bytes<'b>(tree: &Tree<'b>, coded: &[(Obis, Item)]) -> [Option<&'b [u8]>; 3] {
    let mut out = [None; 3];
    let mut seen = [false; 3];
    for (o, it) in coded {
        let code = standard_code(*o);
        let k = if code == LIST_ID {
            0
        } else if code == DEVICE_NAME {
            1
        } else if code == METER_MODEL {
            2
        } else {
            continue;
        };
        let (Some(seen), Some(out)) = (seen.get_mut(k), out.get_mut(k)) else { continue };
        if *seen {
            continue;
        }
        *seen = true;
        *out = match tree.node(it.node).map(|n| n.data) {
            Some(Data::Octets(..) | Data::Visible(..) | Data::Utf8(..)) => tree.bytes_of(it.node),
            _ => None,
        };
    }
    out
}

/// The facts a profile is matched against; `texts` holds the bare text
/// values' nodes.
pub(crate) fn facts<'t, 'b>(
    tree: &'t Tree<'b>,
    coded: &[(Obis, Item)],
    bare: &'t [usize],
    names: Names,
    texts: &'t mut Vec<usize>,
) -> Facts<'t, 'b> {
    Facts::text_nodes(tree, bare, texts);
    let [list_id, device_name, model] = named_bytes(tree, coded);
    let list_id = list_id.or_else(|| names.list_from_bare.and_then(|n| tree.bytes_of(n)));
    let mut f = Facts {
        tree,
        list_id,
        device_name,
        model,
        push_setup: names.push_setup,
        bare,
        bare_texts: texts,
        text_firsts: 0,
    };
    f.text_firsts = first_bits(f.texts());
    f
}

/// Whether bare values sit among coded ones (a list naming only its push
/// setup is still a positional list).
pub(crate) fn mixed(coded: &[(Obis, Item)]) -> bool {
    coded.iter().any(|(o, _)| *o != PUSH_SETUP)
}

/// The scale of a coded value: the frame's, else the profile's.
fn scale_of(code: Obis, item: Item, profile: Option<&Profile>) -> Scale {
    item.scale.unwrap_or_else(|| profile.map_or_else(|| Scale::plain(code), |p| p.scale(code, None)))
}

/// Maps the tree's root to objects in `r`.
pub(crate) fn map(tree: &Tree<'_>, r: &mut Reading, tz: Option<&Tz>, scratch: &mut Scratch) -> Result<(), Error> {
    let Scratch { items, coded, bare, texts, profiles, links, clock, mapped, .. } = scratch;
    links.clear();
    *clock = None;
    *mapped = false;
    let names = survey(tree, items, coded, bare)?;
    let profile = profiles.select(&facts(tree, coded, bare, names, texts));
    r.manufacturer = profile.and_then(|p| p.manufacturer);
    if !bare.is_empty() {
        let mixed = mixed(coded);
        positional::assign(tree, profile, bare, mixed, coded)?;
    }
    if coded.is_empty() {
        return Err(Error::UnknownLayout("no OBIS codes and no known positional layout"));
    }
    *mapped = true;
    r.obis.0.reserve(coded.len() + 1);
    let mut seen = Codes::of(&r.obis);
    for &(obis, item) in coded.iter() {
        let code = standard_code(obis);
        if code == PUSH_SETUP {
            if let Some(name) = obis_at(tree, item.node) {
                seen.push(&mut r.obis, Object::new(code, Value::Text(Text::new(&name.to_string())), None));
            }
            continue;
        }
        let scale = scale_of(code, item, profile);
        if let Some(o) = object(tree, code, item.node, scale, tz) {
            let obj = r.obis.len();
            if code == CLOCK {
                if let Value::Time(t) = o.value {
                    r.meter_time = Some(t);
                    *clock = Some(obj);
                }
            }
            if matches!(o.value, Value::Number(_) | Value::Float(_) | Value::Bool(_) | Value::Time(_)) {
                links.push(Link { obj, code, node: item.node, scale });
            }
            seen.push(&mut r.obis, o);
        }
    }
    let list_from_bare = names.list_from_bare.and_then(|n| text_of(tree, n));
    if let Some(id) = list_from_bare {
        r.obis.0.insert(0, Object::new(LIST_ID, Value::Text(id), None));
        seen.add(LIST_ID);
        for l in links.iter_mut() {
            l.obj += 1;
        }
        *clock = clock.map(|c| c + 1);
    }
    let get = |code| if seen.may_hold(code) { r.obis.get(code) } else { None };
    r.list = get(LIST_ID).or_else(|| get(PUSH_SETUP)).and_then(|o| text_value(&o.value));
    r.meter_id = get(METER_ID).and_then(|o| text_value(&o.value));
    r.meter_model = get(METER_MODEL).and_then(|o| text_value(&o.value));
    Ok(())
}

/// The codes among a reading's objects, as a 64-bit filter: a code whose
/// bit is clear is surely not there, so most objects skip the scan for a
/// duplicate in [`Objects::push`] and most look-ups the scan for the code.
struct Codes(u64);

impl Codes {
    fn of(objects: &Objects) -> Codes {
        let mut seen = Codes(0);
        for o in objects.iter() {
            seen.add(o.code);
        }
        seen
    }

    fn bit(code: Obis) -> u64 {
        let [a, b, c, d, e, f] = code.0;
        // The top 6 bits of a multiplicative hash of the six groups.
        1 << (u64::from_le_bytes([a, b, c, d, e, f, 0, 0]).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58)
    }

    fn may_hold(&self, code: Obis) -> bool {
        self.0 & Codes::bit(code) != 0
    }

    fn add(&mut self, code: Obis) {
        self.0 |= Codes::bit(code);
    }

    /// [`Objects::push`]: the object under its code, or the next free F
    /// group when the code is taken.
    #[inline]
    fn push(&mut self, objects: &mut Objects, o: Object) {
        if self.may_hold(o.code) {
            objects.push(o);
        } else {
            objects.0.push(o);
        }
        if let Some(o) = objects.0.last() {
            self.add(o.code);
        }
    }
}

fn text_value(v: &Value) -> Option<Text> {
    match v {
        Value::Text(s) => Some(s.clone()),
        Value::Bytes(b) => Some(Text::new(&crate::reading::value::Hex(b).to_string())),
        _ => None,
    }
}

fn is_list_id(s: &str) -> bool {
    s.len() >= 4 && s.bytes().all(|b| b.is_ascii_graphic()) && s.bytes().any(|b| b.is_ascii_alphabetic())
}

/// The six bytes of an OBIS code, when the node is a 6-byte octet string.
fn obis_at(tree: &Tree<'_>, i: usize) -> Option<Obis> {
    match tree.node(i)?.data {
        Data::Octets(_, 6) => Obis::from_slice(tree.bytes_of(i)?),
        _ => None,
    }
}

/// `structure{int8 scaler, enum unit}`.
fn scaler_unit(tree: &Tree<'_>, i: usize) -> Option<Scale> {
    let Data::Structure(2) = tree.node(i)?.data else { return None };
    let mut c = tree.children(i);
    let (s, u) = (tree.node(c.next()?)?, tree.node(c.next()?)?);
    match (s.data, u.data) {
        (Data::Int(s), Data::Enum(u)) => Some(Scale { scaler: i8::try_from(s).ok()?, unit: unit_name(u) }),
        _ => None,
    }
}

/// The self-describing shapes; values with no code go to `bare`.
fn walk(tree: &Tree<'_>, items: &[usize], coded: &mut Vec<(Obis, Item)>, bare: &mut Vec<usize>) {
    let mut k = 0;
    while let Some(&it) = items.get(k) {
        // Only a structure or an OBIS code starts a coded value: anything
        // else is bare at once (most of a positional list).
        if !matches!(tree.node(it).map(|n| n.data), Some(Data::Structure(_) | Data::Octets(_, 6))) {
            bare.push(it);
            k += 1;
            continue;
        }
        // A push setup's own name (`x-x:25.9.0`) first names the list; the
        // values after it are bare (Iskraemeco, Landis+Gyr in Austria).
        if k == 0 && obis_at(tree, it).is_some_and(|o| o.c() == 25 && o.d() == 9) {
            coded.push((PUSH_SETUP, Item { node: it, scale: None }));
            k += 1;
            continue;
        }
        // structure{OBIS, value[, scaler-unit]}
        if let Some(Data::Structure(n)) = tree.node(it).map(|n| n.data) {
            let mut c = tree.children(it);
            if let (Some(o), Some(v)) = (c.next().and_then(|i| obis_at(tree, i)), c.next()) {
                if n <= 3 {
                    let su = c.next().and_then(|i| scaler_unit(tree, i));
                    coded.push((o, Item { node: v, scale: su }));
                    k += 1;
                    continue;
                }
            }
        }
        // OBIS, value[, scaler-unit]
        if let (Some(o), Some(&v)) = (obis_at(tree, it), items.get(k + 1)) {
            let su = items.get(k + 2).and_then(|&i| scaler_unit(tree, i));
            coded.push((o, Item { node: v, scale: su }));
            k += if su.is_some() { 3 } else { 2 };
            continue;
        }
        bare.push(it);
        k += 1;
    }
}

/// A capture-object list (`array of structure{class, OBIS, attribute,
/// data index}`) first, then the values it describes, one per item; and
/// the push setup the list names (its first descriptor, whose value is the
/// list itself).
#[allow(clippy::type_complexity)]
fn descriptors(tree: &Tree<'_>, items: &[usize]) -> Option<(Vec<(Obis, i64, Item)>, Option<Obis>)> {
    let (&first, _) = items.split_first()?;
    let Data::Array(n) = tree.node(first)?.data else { return None };
    if n as usize != items.len() || n < 2 {
        return None;
    }
    let mut out = Vec::with_capacity(items.len());
    let mut push_setup = None;
    for (d, &value) in tree.children(first).zip(items) {
        let Data::Structure(4) = tree.node(d)?.data else { return None };
        let mut c = tree.children(d);
        let (_class, obis, attr) = (c.next()?, c.next()?, c.next()?);
        let obis = obis_at(tree, obis)?;
        let Data::Int(attr) = tree.node(attr)?.data else { return None };
        if value != first {
            out.push((obis, attr, Item { node: value, scale: None }));
        } else if obis.c() == 25 && obis.d() == 9 {
            push_setup = Some(obis);
        }
    }
    Some((out, push_setup))
}

/// The standard form of a code: Kamstrup's `1-1:` electricity codes are
/// `1-0:`, its meter id `1-1:0.0.5` and type `1-1:96.1.1` are `0-0:96.1.0`
/// and `0-0:96.1.7`, its clock `0-1:1.0.0` is `0-0:1.0.0`; the list id is
/// always `1-1:0.2.129`.
pub(crate) fn standard_code(o: Obis) -> Obis {
    // Almost every code keeps its form: only `1-1:`, `1-x:0.` and `0-1:1.`
    // codes are looked at further.
    if !matches!((o.a(), o.b(), o.c()), (1, 1, _) | (1, _, 0) | (0, 1, 1)) {
        return o;
    }
    match o.0 {
        [1, _, 0, 2, 129, 255] => LIST_ID,
        [1, 1, 0, 0, 5, 255] => METER_ID,
        [1, 1, 96, 1, 1, 255] => METER_MODEL,
        [0, 1, 1, 0, 0, 255] => CLOCK,
        [1, 1, ..] => o.with_b(0),
        _ => o,
    }
}

fn text_of(tree: &Tree<'_>, i: usize) -> Option<Text> {
    let b = tree.bytes_of(i)?;
    printable(b)
}

/// Bytes as text when every byte is printable ASCII (ids, list names).
fn printable(b: &[u8]) -> Option<Text> {
    if b.is_empty() || !b.iter().all(|c| (0x20..0x7F).contains(c)) {
        return None;
    }
    // Printable ASCII is UTF-8: a text seen before is taken as it is,
    // without checking it again.
    Some(Text::from_utf8_lossy(b))
}

/// Turns a value node into an object: scaled number with unit, text, time.
pub(crate) fn object(tree: &Tree<'_>, code: Obis, at: usize, scale: Scale, tz: Option<&Tz>) -> Option<Object> {
    let node = tree.node(at)?;
    let value = match node.data {
        Data::Null => return None,
        // Integers as [`number`] makes them, written out: most values are.
        Data::Int(v) => {
            let value = Value::Number(Decimal::int(v).scaled(scale.scaler));
            return Some(Object::new(code, value, scale.unit.map(Unit::known)));
        }
        Data::UInt(v) => {
            // Beyond i64: the raw count, unscaled, as a float.
            let Ok(v) = i64::try_from(v) else { return Some(Object::new(code, Value::Float(v as f64), None)) };
            let value = Value::Number(Decimal::int(v).scaled(scale.scaler));
            return Some(Object::new(code, value, scale.unit.map(Unit::known)));
        }
        Data::Float(_) => {
            return Some(Object::new(code, number(node.data, scale.scaler)?, scale.unit.map(Unit::known)));
        }
        Data::Enum(v) => Value::Number(Decimal::int(i64::from(v))),
        Data::Bool(b) => Value::Bool(b),
        Data::Bcd(v) => Value::Number(Decimal::int(i64::from(v))),
        Data::DateTime(_) => time_value(tree.bytes_of(at)?, tz)?,
        Data::Octets(..) => {
            let b = tree.bytes_of(at)?;
            if b.len() == 12 && (code == CLOCK || code.c() == 1 && code.d() == 0) {
                time_value(b, tz)?
            } else {
                printable(b).map_or_else(|| Value::Bytes(b.into()), Value::Text)
            }
        }
        Data::Visible(..) | Data::Utf8(..) => {
            let b = tree.bytes_of(at)?;
            Value::Text(std::str::from_utf8(b).map_or_else(|_| Text::new(&String::from_utf8_lossy(b)), Text::new))
        }
        _ => return None,
    };
    Some(Object::new(code, value, None))
}

/// A number node's value scaled by `10^scaler`: exact for integers (an
/// unsigned one beyond i64 is the raw count as a float, unscaled). `None`
/// for other nodes.
pub(crate) fn number(data: Data, scaler: i8) -> Option<Value> {
    Some(match data {
        Data::Int(v) => Value::Number(Decimal::int(v).scaled(scaler)),
        Data::UInt(v) => match i64::try_from(v) {
            Ok(v) => Value::Number(Decimal::int(v).scaled(scaler)),
            Err(_) => Value::Float(v as f64),
        },
        Data::Float(f) => Value::Float(f * Decimal::new(1, scaler).to_f64()),
        _ => return None,
    })
}

fn time_value(b: &[u8], tz: Option<&Tz>) -> Option<Value> {
    let c = cosem_datetime(b)?;
    c.time.map(|t| Value::Time(t.with_zone(tz, c.dst)))
}

#[cfg(test)]
mod tests {
    use crate::encode::{Axdr, data_notification, hdlc_push};
    use crate::{Config, Obis, decode_message};

    fn kamstrup_hourly(meter_type: &str) -> Vec<u8> {
        let mut a = Axdr::new();
        a.structure(7).visible("Kamstrup_V0001");
        a.obis(Obis::new(1, 1, 96, 1, 1, 255)).visible(meter_type);
        a.obis(Obis::new(1, 1, 1, 8, 0, 255)).u32(8_582_328);
        a.obis(Obis::new(1, 1, 13, 7, 0, 255)).u16(98);
        hdlc_push(&data_notification(0, None, &a.0))
    }

    fn energy_wh(frame: &[u8]) -> f64 {
        let r = decode_message(frame, &Config::default()).unwrap();
        assert_eq!(r.quantities.power_factor, Some(0.98));
        r.obis.get(Obis::new(1, 0, 1, 8, 0, 255)).and_then(|o| o.value.as_f64()).unwrap()
    }

    #[test]
    fn kamstrup_energy_scale_by_country_variant() {
        assert_eq!(energy_wh(&kamstrup_hourly("6841131BN243101040")), 85_823_280.0);
        assert_eq!(energy_wh(&kamstrup_hourly("6841131BN245101092")), 8_582_328.0);
    }

    #[test]
    fn kaifa_positional_lists_by_length() {
        let mut a = Axdr::new();
        a.structure(9).octets(b"KFM_001").octets(b"7340157010120038").octets(b"MA105H2E");
        for v in [1200, 0, 10, 0, 5_432, 2_301] {
            a.u32(v);
        }
        let r = decode_message(&hdlc_push(&data_notification(0x4000_0000, None, &a.0)), &Config::default()).unwrap();
        let q = &r.quantities;
        assert_eq!((q.power_import_w, q.current_l1_a, q.voltage_l1_v), (Some(1200.0), Some(5.432), Some(230.1)));
        assert_eq!((q.current_l2_a, q.voltage_l2_v), (None, None), "1-phase: absent, never zero");
        assert_eq!(r.meter_model.as_deref(), Some("MA105H2E"));
    }
}
