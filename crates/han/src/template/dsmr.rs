//! DSMR telegrams against the last one of their length.
//!
//! A byte may change when it lies inside the parentheses of a one-line
//! record (not a parenthesis, not white space, before or after): the lines,
//! the records and their codes stay where they were, and the record is read
//! again on its own. Its objects must come out as many and with the same
//! codes as before, or the telegram is decoded in full.

use std::ops::Range;

use chrono_tz::Tz;

use super::{Base, FIXED, Slot, Templates, changed, find, owner_map, slot_for};
use crate::dsmr::{self, Span};
use crate::normalise;
use crate::reading::{Object, Reading};

/// One remembered telegram.
#[derive(Debug)]
pub(super) struct Dsmr {
    /// The telegram, its bytes owned by [`FIXED`], [`FREE`] (the CRC) or
    /// the index of the record whose value they are in.
    pub(super) base: Base,
    /// Its records.
    spans: Vec<Span>,
    /// Scratch: objects of a record read again.
    redone: Vec<Object>,
}

/// A byte that may appear where a value byte was: not one that opens or
/// closes a value or ends or trims a line.
fn value_byte(b: u8) -> bool {
    b > b' ' && b != b'(' && b != b')'
}

impl Templates {
    /// Takes the buffer the full decode lists a telegram's records in.
    pub(crate) fn take_spans(&mut self) -> Vec<Span> {
        let mut s = std::mem::take(&mut self.spans);
        s.clear();
        s
    }

    /// The reading of `telegram` (its CRC checked) made in place from a
    /// remembered telegram of the same length, or `None` when there is none
    /// or more than values changed.
    pub(crate) fn dsmr(&mut self, telegram: &[u8], tz: Option<&Tz>) -> Option<Slot> {
        let slot = find(&self.dsmr, telegram.len(), |t| &t.base)?;
        let now = self.tick();
        let Templates { dsmr, dirty, .. } = self;
        let t = dsmr.get_mut(slot)?;
        t.base.used = now;
        if t.patch(telegram, tz, dirty).is_none() {
            // Perhaps half patched: forget it; the full decode makes a new one.
            dsmr.swap_remove(slot);
            return None;
        }
        t.base.summed.undo(&mut t.base.reading.quantities);
        normalise::finish(&mut t.base.reading);
        Some(Slot::Dsmr(slot))
    }

    /// Remembers a telegram that the full decode just read into `r`, with
    /// its records and where its CRC digits are.
    pub(crate) fn learn_dsmr(
        &mut self,
        telegram: &[u8],
        crc: Range<usize>,
        spans: Vec<Span>,
        r: &Reading,
        tz: Option<&Tz>,
    ) {
        let now = self.tick();
        let make = || Dsmr { base: Base::new(r), spans: Vec::new(), redone: Vec::new() };
        let slot = slot_for(&mut self.dsmr, telegram.len(), |t| &t.base, make);
        let Templates { dsmr, owner, .. } = self;
        let Some(t) = slot.and_then(|i| dsmr.get_mut(i)) else { return };
        // The CRC: checked before a template is used, and in no reading.
        let owner = owner_map(owner, telegram.len(), &[crc]);
        let mut vals = Vec::new();
        for (k, span) in spans.iter().enumerate() {
            let (Some(bytes), Some(start), Ok(k)) = (span.bytes.clone(), span.start, u16::try_from(k)) else {
                continue;
            };
            if k >= FIXED - 1 {
                break;
            }
            // Read alone, the record must give the objects it gave in the
            // telegram (no duplicate renamed, nothing taken from before).
            let Some(rec) = telegram.get(bytes.clone()) else { continue };
            let Some((alone, _)) = dsmr::redo_record(rec, start, tz, &mut vals, std::mem::take(&mut t.redone)) else {
                continue;
            };
            let before = r.obis.0.get(span.objects.clone()).unwrap_or_default();
            let same = alone.len() == before.len() && alone.iter().zip(before).all(|(a, b)| a.code == b.code);
            t.redone = alone;
            if !same {
                continue;
            }
            let values = bytes.start + start.1..bytes.end;
            let bytes = telegram.get(values.clone()).unwrap_or_default();
            for (o, b) in owner.get_mut(values).unwrap_or_default().iter_mut().zip(bytes) {
                if value_byte(*b) {
                    *o = k;
                }
            }
        }
        t.spans = spans;
        t.base.learn(telegram, r, owner, now);
    }
}

impl Dsmr {
    fn patch(&mut self, telegram: &[u8], tz: Option<&Tz>, dirty: &mut Vec<u16>) -> Option<()> {
        changed(&mut self.base.bytes, telegram, &self.base.runs, dirty, value_byte)?;
        let r = &mut self.base.reading;
        let mut vals = Vec::with_capacity(16);
        let mut more = false;
        for &k in dirty.iter() {
            let span = self.spans.get_mut(usize::from(k))?;
            let (bytes, start) = (span.bytes.clone()?, span.start?);
            let rec = telegram.get(bytes)?;
            let (mut redone, time) = dsmr::redo_record(rec, start, tz, &mut vals, std::mem::take(&mut self.redone))?;
            let slots = r.obis.0.get_mut(span.objects.clone())?;
            if redone.len() != slots.len() || redone.iter().zip(slots.iter()).any(|(a, b)| a.code != b.code) {
                return None;
            }
            for (slot, o) in slots.iter_mut().zip(redone.drain(..)) {
                *slot = o;
                normalise::apply(&mut r.quantities, slot);
            }
            self.redone = redone;
            span.time = time;
            more |= dsmr::feeds_fields(start.0);
        }
        r.meter_time = self.spans.iter().rev().find_map(|s| s.time);
        if more {
            dsmr::derive_fields(r);
        }
        Some(())
    }
}
