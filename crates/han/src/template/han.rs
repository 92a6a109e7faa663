//! DLMS data-notifications against the last one of their layout.

use std::mem::discriminant;

use chrono_tz::Tz;

use super::{FIXED, FREE, Run, Slot, Templates, changed, runs, slot_for};
use crate::axdr::{self, Data, Node, Tree};
use crate::lists::{self, Brand, Link};
use crate::normalise;
use crate::reading::{Framing, Reading};
use crate::time::MeterTime;
use crate::value::Value;

/// One remembered data-notification.
#[derive(Debug)]
pub(super) struct Han {
    /// The APDU as last decoded.
    bytes: Vec<u8>,
    /// Per byte: [`FIXED`], [`FREE`] or the index of the link it feeds.
    owner: Vec<u16>,
    /// The same, run by run.
    runs: Vec<Run>,
    /// Its A-XDR nodes, kept current.
    nodes: Vec<Node>,
    /// The objects made from one node each, with the scaler of a number
    /// and the object's quantity rule (neither depends on the value).
    links: Vec<(Link, i8, Option<normalise::Rule>)>,
    brand: Brand,
    /// The object that sets the meter time.
    clock: Option<usize>,
    /// The reading it decoded to, kept current.
    pub(super) reading: Reading,
    /// The manufacturer the list named.
    manufacturer: Option<&'static str>,
    /// The totals its quantities sum from tariffs.
    summed: normalise::Summed,
    /// Use count stamp, to replace the least recently used slot.
    used: u64,
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
        let slot = self.han.iter().position(|t| t.bytes.len() == apdu.len())?;
        let now = self.tick();
        let Templates { han, dirty, .. } = self;
        let t = han.get_mut(slot)?;
        t.used = now;
        if t.patch(apdu, header_time, tz, dirty).is_none() {
            // Perhaps half patched: forget it; the full decode makes a new one.
            han.swap_remove(slot);
            return None;
        }
        let r = &mut t.reading;
        t.summed.undo(&mut r.quantities);
        normalise::finish(r);
        // What the caller changes after a message (decrypted or not).
        r.framing = framing;
        r.encrypted = false;
        r.manufacturer = t.manufacturer;
        Some(Slot::Han(slot))
    }

    /// Remembers a message (its body at `body_at`) that the full decode
    /// just read into `r`.
    pub(crate) fn learn_han(
        &mut self,
        apdu: &[u8],
        body_at: usize,
        nodes: &[Node],
        scratch: &lists::Scratch,
        r: &Reading,
    ) {
        let Some(brand) = scratch.brand else { return };
        if nodes.len() >= usize::from(FREE) {
            return;
        }
        let now = self.tick();
        let make = || Han {
            bytes: Vec::new(),
            owner: Vec::new(),
            runs: Vec::new(),
            nodes: Vec::new(),
            links: Vec::new(),
            brand,
            clock: None,
            reading: Reading::new(r.protocol, r.framing),
            manufacturer: None,
            summed: normalise::Summed::default(),
            used: 0,
        };
        let slot = slot_for(&mut self.han, apdu.len(), |t| (t.bytes.len(), t.used), make);
        let Some(t) = slot.and_then(|i| self.han.get_mut(i)) else { return };
        t.used = now;
        t.brand = brand;
        t.clock = scratch.clock;
        t.bytes.clear();
        t.bytes.extend_from_slice(apdu);
        t.nodes.clear();
        t.nodes.extend_from_slice(nodes);
        t.reading.clone_from_reusing(r);
        t.manufacturer = r.manufacturer;
        t.summed = normalise::Summed::of(r);
        t.owner.clear();
        t.owner.resize(apdu.len(), FIXED);
        // The invoke id and the header's date-time.
        for range in [1..5, 7.min(body_at)..body_at] {
            if let Some(o) = t.owner.get_mut(range) {
                o.fill(FREE);
            }
        }
        t.links.clear();
        for link in &scratch.links {
            let Some(node) = nodes.get(link.item.node) else { continue };
            let Some(range) = value_bytes(node, apdu) else { continue };
            let Ok(k) = u16::try_from(t.links.len()) else { break };
            if let Some(o) = t.owner.get_mut(range) {
                o.fill(k);
                let rule = r.obis.0.get(link.obj).and_then(normalise::rule);
                t.links.push((*link, lists::scaler(link.code, link.item, brand), rule));
            }
        }
        runs(&t.owner, &mut t.runs);
    }
}

/// The bytes of a number or time node that may change without changing
/// anything but its object's value. A time's first byte (the high byte of
/// the year) stays fixed: it keeps the bytes from ever reading as text.
fn value_bytes(node: &Node, apdu: &[u8]) -> Option<std::ops::Range<usize>> {
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
    fn patch(
        &mut self,
        apdu: &[u8],
        header_time: Option<MeterTime>,
        tz: Option<&Tz>,
        dirty: &mut Vec<u16>,
    ) -> Option<()> {
        changed(&mut self.bytes, apdu, &self.runs, dirty, |_| true)?;
        let r = &mut self.reading;
        for &k in dirty.iter() {
            let (link, scaler, rule) = self.links.get(usize::from(k))?;
            let node = self.nodes.get_mut(link.item.node)?;
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
                    lists::object(&Tree { bytes: apdu, nodes: &self.nodes }, link.code, link.item, self.brand, tz)?
                        .value
                }
            };
            let slot = r.obis.0.get_mut(link.obj)?;
            // The same kind of value, or the full decode decides.
            if discriminant(&value) != discriminant(&slot.value) {
                return None;
            }
            slot.value = value;
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
