//! DSMR telegrams against the last one of their length.
//!
//! A byte may change when it lies inside the parentheses of a one-line
//! record (not a parenthesis, not white space, before or after): the lines,
//! the records and their codes stay where they were, and the record is read
//! again on its own. Its objects must come out as many, with the same codes,
//! units and kinds of value as before, or the telegram is decoded in full.

use std::mem::discriminant;
use std::ops::Range;

use chrono_tz::Tz;

use super::{Base, FIXED, FREE, Runs, Slot, Templates, candidates, changed, slot_for};
use crate::error::Error;
use crate::p1::{self, Span};
use crate::reading::normalise::{self, Summed};
use crate::reading::{Object, Reading};

/// One remembered telegram.
#[derive(Debug)]
pub(super) struct Dsmr {
    /// The telegram, its bytes owned by [`FIXED`], [`FREE`] (the CRC) or
    /// the index of the record whose value they are in.
    pub(super) base: Base,
    /// Its records.
    spans: Vec<Span>,
    /// Where its CRC digits are.
    crc: Range<usize>,
    /// Whether `base.runs` are made: only when a telegram of its length
    /// comes, so that a layout never seen again costs none.
    runs_made: bool,
    /// Scratch: objects of a record read again.
    redone: Vec<Object>,
}

/// A byte that may appear where a value byte was: not one that opens or
/// closes a value or ends or trims a line.
fn value_byte(b: u8) -> bool {
    b > b' ' && b != b'(' && b != b')'
}

impl Templates {
    /// Decodes one complete telegram ([`p1::decode_telegram`]) against the
    /// telegrams decoded before: the template that made the reading
    /// (`reading` untouched), or `None` when `reading` holds it. Only a
    /// telegram its CRC vouches for is read against a template or learnt.
    pub(crate) fn telegram(
        &mut self,
        telegram: &[u8],
        tz: Option<&Tz>,
        reading: &mut Reading,
    ) -> Result<Option<Slot>, Error> {
        let checked = crate::framing::telegram::check(telegram)?;
        if !checked.has_crc() {
            p1::decode_checked(telegram, &checked, tz, reading, None)?;
            return Ok(None);
        }
        if let Some(slot) = self.dsmr(telegram, tz) {
            return Ok(Some(slot));
        }
        // The buffer the full decode lists the telegram's records in.
        let mut spans = std::mem::take(&mut self.spans);
        spans.clear();
        let summed = p1::decode_checked(telegram, &checked, tz, reading, Some(&mut spans))?;
        // The reading moves into the template, which lends it.
        Ok(self.learn_dsmr(telegram, checked.crc, spans, reading, summed))
    }

    /// The reading of `telegram` (its CRC checked) made in place from a
    /// remembered telegram of the same length, or `None` when there is none
    /// or more than values changed.
    fn dsmr(&mut self, telegram: &[u8], tz: Option<&Tz>) -> Option<Slot> {
        let Templates { dsmr, dirty, tried, clock, hits, .. } = self;
        candidates(dsmr, telegram.len(), |t| &t.base, tried);
        for &slot in tried.iter() {
            let Some(t) = dsmr.get_mut(slot) else { continue };
            if !t.runs_made {
                // Another meter's telegram of this length differs before
                // its first value (the identification, the first code): no
                // runs needed to tell.
                let head = memchr::memchr(b'(', telegram).unwrap_or(0);
                if t.base.bytes.get(..head) != telegram.get(..head) {
                    continue;
                }
                t.make_runs();
            }
            if changed(&t.base.bytes, telegram, &t.base.runs, dirty, Some(value_byte)).is_err() {
                continue;
            }
            *clock += 1;
            t.base.used = *clock;
            if t.patch(telegram, tz, dirty).is_none() {
                // Perhaps half patched: forget it; the full decode makes a new one.
                t.base.forget();
                return None;
            }
            t.base.bytes.copy_from_slice(telegram);
            *hits += 1;
            t.base.reading.json.reused();
            t.base.summed.undo(&mut t.base.reading.quantities);
            normalise::finish(&mut t.base.reading);
            return Some(Slot::Dsmr(slot));
        }
        None
    }

    /// Remembers a telegram that the full decode just read into `r`, with
    /// its records and where its CRC digits are: the template that now
    /// holds the reading (`r` gets a spent one), or `None` (too long).
    fn learn_dsmr(
        &mut self,
        telegram: &[u8],
        crc: Range<usize>,
        spans: Vec<Span>,
        r: &mut Reading,
        summed: Summed,
    ) -> Option<Slot> {
        let now = self.tick();
        let make = || Dsmr { base: Base::new(r), spans: Vec::new(), crc: 0..0, runs_made: false, redone: Vec::new() };
        let i = slot_for(&mut self.dsmr, telegram.len(), now, |t| &t.base, make)?;
        let t = self.dsmr.get_mut(i)?;
        // The template's spans become the scratch the next full decode fills.
        let old = std::mem::replace(&mut t.spans, spans);
        t.crc = crc;
        t.runs_made = false;
        t.base.learn(telegram, r, summed, now);
        self.spans = old;
        Some(Slot::Dsmr(i))
    }
}

impl Dsmr {
    /// Makes the runs of the telegram: a record's bytes from its first `(`
    /// on are its own, but for the parentheses (the line breaks nowhere
    /// inside a record); the rest fixed but the CRC. Records come in order.
    fn make_runs(&mut self) {
        let telegram = &self.base.bytes;
        let mut runs = Runs::new(&mut self.base.runs);
        for (k, span) in self.spans.iter().enumerate() {
            let (Some(bytes), Some(start), Ok(k)) = (span.bytes.clone(), span.start, u16::try_from(k)) else {
                continue;
            };
            if k >= FIXED - 1 {
                break;
            }
            // Read alone, the record must give the objects it gave in the
            // telegram: none renamed as a duplicate.
            if !span.alone {
                continue;
            }
            let mut at = bytes.start + start.1;
            runs.to(at, FIXED);
            let values = telegram.get(at..bytes.end).unwrap_or_default();
            for (i, b) in values.iter().enumerate() {
                if matches!(b, b'(' | b')') {
                    runs.to(at + i, k);
                    runs.to(at + i + 1, FIXED);
                }
            }
            at += values.len();
            runs.to(at, k);
        }
        // The CRC: checked before a template is used, and in no reading.
        runs.to(self.crc.start, FIXED);
        runs.to(self.crc.end, FREE);
        runs.to(telegram.len(), FIXED);
        self.runs_made = true;
    }

    /// Reads again the records `dirty` names (found by [`changed`]).
    fn patch(&mut self, telegram: &[u8], tz: Option<&Tz>, dirty: &[u16]) -> Option<()> {
        let r = &mut self.base.reading;
        let mut vals = Vec::with_capacity(16);
        let mut more = false;
        for &k in dirty.iter() {
            let span = self.spans.get_mut(usize::from(k))?;
            let (bytes, start) = (span.bytes.clone()?, span.start?);
            let rec = telegram.get(bytes)?;
            let (mut redone, time) = p1::redo_record(rec, start, tz, &mut vals, std::mem::take(&mut self.redone))?;
            let slots = r.obis.0.get_mut(span.objects.clone())?;
            // The same codes, kinds of value and units: what the quantities
            // take from them (and which totals are summed) stays as learnt.
            let same = |(a, b): (&Object, &Object)| {
                a.code == b.code && a.unit == b.unit && discriminant(&a.value) == discriminant(&b.value)
            };
            if redone.len() != slots.len() || !redone.iter().zip(slots.iter()).all(same) {
                return None;
            }
            for ((slot, o), i) in slots.iter_mut().zip(redone.drain(..)).zip(span.objects.clone()) {
                // Most records change only their value: the line then
                // writes only that again.
                if o.time == slot.time && o.text == slot.text && o.entries == slot.entries {
                    r.json.touch_value(i);
                } else {
                    r.json.touch(i);
                }
                *slot = o;
                normalise::apply(&mut r.quantities, slot);
            }
            self.redone = redone;
            span.time = time;
            more |= p1::feeds_fields(start.0);
        }
        r.meter_time = self.spans.iter().rev().find_map(|s| s.time);
        if more {
            p1::derive_fields(r);
        }
        Some(())
    }
}
