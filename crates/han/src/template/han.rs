//! DLMS data-notifications against the last one of their layout.

use std::mem::discriminant;
use std::ops::Range;

use chrono_tz::Tz;

use super::{
    Base, FIXED, FREE, Runs, Slot, Templates, candidates, changed, first_difference, owner_map, runs, slot_for,
};
use crate::dlms::axdr::{self, Data, Node, Tree};
use crate::dlms::lists::{self, Link};
use crate::reading::normalise::{self, Summed};
use crate::reading::time::MeterTime;
use crate::reading::value::Value;
use crate::reading::{Framing, Reading};

/// One remembered data-notification.
#[derive(Debug)]
pub(super) struct Han {
    /// The APDU, its bytes owned by [`FIXED`], [`FREE`] or the index of the
    /// link they feed.
    pub(super) base: Base,
    /// Its A-XDR nodes, kept current.
    nodes: Vec<Node>,
    /// The objects made from one node each, as the full decode left them
    /// (moved in, not copied); a run's owner is its index here.
    links: Vec<Link>,
    /// Each object's quantity rule, by index, as the full decode's
    /// normalise found it.
    rules: Vec<Option<normalise::Rule>>,
    /// The links as a patch reads them, with the scaler of a number and
    /// the object's quantity rule (neither depends on the value): made at
    /// the first patch, so a layout seen once pays nothing for them.
    patched: Vec<(Link, i8, Option<normalise::Rule>)>,
    /// Whether `patched` is made for these links.
    made: bool,
    /// The object that sets the meter time.
    clock: Option<usize>,
    /// The manufacturer the list named.
    manufacturer: Option<&'static str>,
    /// A fixed byte where the last message this template failed on
    /// differed: looked at first, a message that differs there too is
    /// another meter's at once (several meters of one layout take turns).
    probe: Option<usize>,
}

impl Templates {
    /// The reading of `apdu` made in place from a remembered message of
    /// the same layout, or `None` when there is none or more than values
    /// changed.
    pub(crate) fn han(
        &mut self,
        apdu: &[u8],
        framing: Framing,
        header_time: Option<MeterTime>,
        tz: Option<&Tz>,
    ) -> Option<Slot> {
        let Templates { han, dirty, tried, clock, hits, .. } = self;
        candidates(han, apdu.len(), |t| &t.base, tried);
        for &slot in tried.iter() {
            let Some(t) = han.get_mut(slot) else { continue };
            if t.probe.is_some_and(|p| t.base.bytes.get(p) != apdu.get(p)) {
                continue;
            }
            if let Err(fixed) = changed(&t.base.bytes, apdu, &t.base.runs, dirty, None::<fn(u8) -> bool>) {
                t.probe = fixed.and_then(|r| {
                    let range = r.start as usize..r.end as usize;
                    let at = first_difference(t.base.bytes.get(range.clone())?, apdu.get(range)?)?;
                    Some(r.start as usize + at)
                });
                continue;
            }
            *clock += 1;
            t.base.used = *clock;
            if t.patch(apdu, header_time, tz, dirty).is_none() {
                // Perhaps half patched: forget it; the full decode makes a new one.
                t.base.forget();
                return None;
            }
            t.base.bytes.copy_from_slice(apdu);
            *hits += 1;
            let r = &mut *t.base.reading;
            r.json.reused();
            t.base.summed.undo(&mut r.quantities);
            normalise::finish(r);
            // What the caller changes after a message (decrypted or not).
            r.framing = framing;
            r.encrypted = false;
            r.manufacturer = t.manufacturer;
            return Some(Slot::Han(slot));
        }
        None
    }

    /// Remembers a message that the full decode just read into `r`;
    /// `free`: its header bytes no reading depends on or that are always
    /// read again (the invoke id, the header's date-time). The template
    /// that now holds the reading (`r` gets a spent one), or `None`.
    pub(crate) fn learn_han(
        &mut self,
        apdu: &[u8],
        free: &[Range<usize>],
        nodes: &[Node],
        scratch: &mut lists::Scratch,
        r: &mut Box<Reading>,
        summed: Summed,
    ) -> Option<Slot> {
        if !scratch.mapped || nodes.len() >= usize::from(FREE) {
            return None;
        }
        let now = self.tick();
        let make = || Han {
            base: Base::new(r),
            nodes: Vec::new(),
            links: Vec::new(),
            rules: Vec::new(),
            patched: Vec::new(),
            made: false,
            clock: None,
            manufacturer: None,
            probe: None,
        };
        let slot = slot_for(&mut self.han, apdu.len(), now, |t| &t.base, make);
        let Templates { han, owner, .. } = self;
        let i = slot?;
        let t = han.get_mut(i)?;
        t.clock = scratch.clock;
        t.probe = None;
        t.made = false;
        t.nodes.clear();
        t.nodes.extend_from_slice(nodes);
        t.manufacturer = r.manufacturer;
        if !runs_in_order(apdu, free, nodes, &scratch.links, &mut t.base.runs) {
            by_owner_map(owner, apdu, free, nodes, &scratch.links, &mut t.base.runs);
        } else if cfg!(debug_assertions) {
            // The owner map is the reference: the same runs.
            let mut runs = Vec::new();
            by_owner_map(owner, apdu, free, nodes, &scratch.links, &mut runs);
            debug_assert_eq!(format!("{runs:?}"), format!("{:?}", t.base.runs));
        }
        // The links and rules move here; the decoder gets the old ones to
        // reuse (it clears them first).
        std::mem::swap(&mut t.links, &mut scratch.links);
        std::mem::swap(&mut t.rules, &mut scratch.rules);
        t.base.learn_boxed(apdu, r, summed, now);
        Some(Slot::Han(i))
    }
}

/// The runs of a message by a per-byte owner map: the bytes of each
/// link's value owned by its index (a later link's over an earlier one's).
fn by_owner_map(
    owner: &mut Vec<u16>,
    apdu: &[u8],
    free: &[Range<usize>],
    nodes: &[Node],
    links: &[Link],
    out: &mut Vec<super::Run>,
) {
    let owner = owner_map(owner, apdu.len(), free);
    for (k, link) in links.iter().enumerate() {
        let Ok(k) = u16::try_from(k) else { break };
        let Some(node) = nodes.get(link.node) else { continue };
        let Some(range) = value_bytes(node, apdu) else { continue };
        if let Some(o) = owner.get_mut(range) {
            o.fill(k);
        }
    }
    runs(owner, out);
}

/// Makes the runs straight from the free ranges and the links' value bytes
/// when they come in order without overlapping (a list's values follow
/// each other, after the header): no per-byte owner map to fill and read
/// back. `false` when they do not: the owner map decides which owns what.
fn runs_in_order(
    apdu: &[u8],
    free: &[Range<usize>],
    nodes: &[Node],
    links: &[Link],
    out: &mut Vec<super::Run>,
) -> bool {
    let mut runs = Runs::new(out);
    for range in free.iter().filter(|r| !r.is_empty()) {
        if range.start < runs.at || range.end > apdu.len() {
            return false;
        }
        runs.to(range.start, FIXED);
        runs.to(range.end, FREE);
    }
    for (k, link) in links.iter().enumerate() {
        let Ok(k) = u16::try_from(k) else { break };
        let Some(node) = nodes.get(link.node) else { continue };
        let Some(range) = value_bytes(node, apdu) else { continue };
        if range.end > apdu.len() {
            continue;
        }
        if range.start < runs.at {
            return false;
        }
        runs.to(range.start, FIXED);
        runs.to(range.end, k);
    }
    runs.to(apdu.len(), FIXED);
    true
}

/// The bytes of a number or time node that may change without changing
/// anything but its object's value. A time's first byte (the high byte of
/// the year) stays fixed: it keeps the bytes from ever reading as text.
fn value_bytes(node: &Node, apdu: &[u8]) -> Option<Range<usize>> {
    let at = node.at as usize;
    let width = match node.data {
        Data::Int(_) | Data::UInt(_) | Data::Float(_) | Data::Enum(_) | Data::Bool(_) | Data::Bcd(_) => {
            match node.tag {
                0x03 | 0x0D | 0x0F | 0x11 | 0x16 => 1,
                0x10 | 0x12 => 2,
                0x05 | 0x06 | 0x17 => 4,
                0x14 | 0x15 | 0x18 => 8,
                _ => return None,
            }
        }
        Data::DateTime(s) | Data::Octets(s, 12) => {
            let s = s as usize;
            let first = *apdu.get(s)?;
            return (first < 0x20).then_some(s + 1..s + 12);
        }
        _ => return None,
    };
    Some(at + 1..at + 1 + width)
}

impl Han {
    /// Makes [`Han::patched`] from the links and rules.
    #[cold]
    fn make_patched(&mut self) {
        let rules = &self.rules;
        self.patched.clear();
        self.patched.extend(self.links.iter().map(|l| (*l, l.scale.scaler, rules.get(l.obj).copied().flatten())));
        self.made = true;
    }

    fn patch(&mut self, apdu: &[u8], header_time: Option<MeterTime>, tz: Option<&Tz>, dirty: &[u16]) -> Option<()> {
        if !self.made {
            self.make_patched();
        }
        let r = &mut *self.base.reading;
        for &k in dirty.iter() {
            let (link, scaler, rule) = self.patched.get(usize::from(k))?;
            let node = self.nodes.get_mut(link.node)?;
            // A time names its bytes by offset: nothing to read again.
            if !matches!(node.data, Data::DateTime(_) | Data::Octets(..)) {
                node.data = axdr::scalar_at(apdu, node.at as usize)?;
            }
            // A number is scaled as when it was learnt (the scaler and unit
            // depend on the code and the list, not the value); anything
            // else becomes an object as in the full decode.
            let value = match node.data {
                Data::Int(_) | Data::UInt(_) | Data::Float(_) => lists::number(node.data, *scaler)?,
                _ => {
                    lists::object(&Tree { bytes: apdu, nodes: &self.nodes }, link.code, link.node, link.scale, tz)?
                        .value
                }
            };
            let slot = r.obis.0.get_mut(link.obj)?;
            // The same kind of value, or the full decode decides.
            if discriminant(&value) != discriminant(&slot.value) {
                return None;
            }
            slot.value = value;
            r.json.touch_value(link.obj);
            if let Some(rule) = rule {
                normalise::set(&mut r.quantities, *rule, slot);
            }
        }
        r.meter_time = match self.clock {
            Some(c) => match r.obis.0.get(c)?.value {
                Value::Time(t) => Some(t),
                _ => return None,
            },
            None => header_time,
        };
        Some(())
    }
}
