//! The previous message of a layout as a template for the next one.
//!
//! A meter sends the same list every few seconds: the same tags, lengths,
//! codes, scalers, units and texts; only the numbers and clocks differ. So
//! a message of the same length as one decoded before is compared with it
//! byte for byte; when every byte that differs lies inside a value that
//! became objects on its own (an A-XDR number or time, a DSMR line's
//! values), only those objects are decoded again, by the same functions the
//! full decode uses, and the rest is copied. Any other difference (a tag, a
//! length, a code, a scaler, a text, a line break) means a full decode,
//! which then becomes the template. The results are the same either way;
//! `Config::full_decode` turns this off, for the tests that check that.

mod dsmr;
mod han;

use crate::reading::Reading;

/// How many layouts of each kind are remembered at once (Aidon alternates
/// lists 1, 2 and 3; interleaved meters add more).
const SLOTS: usize = 4;

/// The longest message remembered: bigger ones (rare profile readouts)
/// are always decoded in full, which bounds the memory templates take.
const MAX_LEN: usize = 8192;

/// A byte whose change needs a full decode.
const FIXED: u16 = u16::MAX;
/// A byte that no output depends on, or whose output is always recomputed
/// (the invoke id, the header time).
const FREE: u16 = u16::MAX - 1;

/// The remembered layouts of one decoder.
#[derive(Debug, Default)]
pub(crate) struct Templates {
    han: Vec<han::Han>,
    dsmr: Vec<dsmr::Dsmr>,
    /// Counts uses, to replace the least recently used slot.
    clock: u64,
    /// Scratch: what changed.
    dirty: Vec<u16>,
    /// Scratch: the records of the telegram being decoded in full.
    spans: Vec<crate::dsmr::Span>,
    /// Scratch: per byte of a message being learnt, [`FIXED`], [`FREE`] or
    /// what it feeds (kept as [`Run`]s).
    owner: Vec<u16>,
}

/// What every template holds besides its kind's own.
#[derive(Debug)]
struct Base {
    /// The message as last decoded.
    bytes: Vec<u8>,
    /// Who owns its bytes, run by run.
    runs: Vec<Run>,
    /// The reading it decoded to, kept current.
    reading: Reading,
    /// The totals its quantities sum from tariffs.
    summed: crate::normalise::Summed,
    /// Use count stamp, to replace the least recently used slot.
    used: u64,
}

impl Base {
    fn new(r: &Reading) -> Base {
        Base {
            bytes: Vec::new(),
            runs: Vec::new(),
            reading: Reading::new(r.protocol, r.framing),
            summed: crate::normalise::Summed::default(),
            used: 0,
        }
    }

    /// Becomes the template of `msg`, decoded in full into `r`, with its
    /// bytes owned as `owner` says.
    fn learn(&mut self, msg: &[u8], r: &Reading, owner: &[u16], now: u64) {
        self.used = now;
        self.bytes.clear();
        self.bytes.extend_from_slice(msg);
        self.reading.clone_from_reusing(r);
        self.summed = crate::normalise::Summed::of(r);
        runs(owner, &mut self.runs);
    }
}

/// Starts the owner map of a message of `len` bytes: all [`FIXED`] but the
/// `free` ranges.
fn owner_map<'a>(owner: &'a mut Vec<u16>, len: usize, free: &[std::ops::Range<usize>]) -> &'a mut Vec<u16> {
    owner.clear();
    owner.resize(len, FIXED);
    for range in free {
        if let Some(o) = owner.get_mut(range.clone()) {
            o.fill(FREE);
        }
    }
    owner
}

/// Where a reading made from a template is: it stays there, current,
/// until the decoder decodes the next message.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Slot {
    Han(usize),
    Dsmr(usize),
}

impl Templates {
    /// The reading a template made.
    pub(crate) fn reading(&self, slot: Slot) -> Option<&Reading> {
        match slot {
            Slot::Han(i) => self.han.get(i).map(|t| &t.base.reading),
            Slot::Dsmr(i) => self.dsmr.get(i).map(|t| &t.base.reading),
        }
    }

    /// The reading a HAN template made, to mark it as decrypted.
    pub(crate) fn reading_mut(&mut self, slot: Slot) -> Option<&mut Reading> {
        match slot {
            Slot::Han(i) => self.han.get_mut(i).map(|t| &mut t.base.reading),
            Slot::Dsmr(i) => self.dsmr.get_mut(i).map(|t| &mut t.base.reading),
        }
    }

    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }
}

/// The slot to learn a message of `len` bytes into: the one of that length,
/// a new one, or the least recently used; none for a message too long.
fn slot_for<T>(slots: &mut Vec<T>, len: usize, base: impl Fn(&T) -> &Base, make: impl FnOnce() -> T) -> Option<usize> {
    if len > MAX_LEN {
        return None;
    }
    if let Some(i) = find(slots, len, &base) {
        return Some(i);
    }
    if slots.len() < SLOTS {
        slots.push(make());
        return Some(slots.len() - 1);
    }
    slots.iter().enumerate().min_by_key(|(_, t)| base(t).used).map(|(i, _)| i)
}

/// The slot of a message of `len` bytes, if one is remembered.
fn find<T>(slots: &[T], len: usize, base: impl Fn(&T) -> &Base) -> Option<usize> {
    slots.iter().position(|t| base(t).bytes.len() == len)
}

/// Bytes `start..end` of a message, with one owner: [`FIXED`], [`FREE`] or
/// what they feed. A template compares a message with the last one run by
/// run: a few predictable comparisons, not one per byte.
#[derive(Copy, Clone, Debug)]
struct Run {
    start: u32,
    end: u32,
    owner: u16,
}

/// The runs of a per-byte owner map, into `out`.
fn runs(owner: &[u16], out: &mut Vec<Run>) {
    out.clear();
    let mut start = 0;
    while let Some(&k) = owner.get(start) {
        let len = owner.get(start..).unwrap_or_default().iter().take_while(|o| **o == k).count();
        let (Ok(s), Ok(e)) = (u32::try_from(start), u32::try_from(start + len)) else { return };
        out.push(Run { start: s, end: e, owner: k });
        start += len;
    }
}

/// Notes in `dirty` the owners of the runs that differ between `old` and
/// `new` (each once, in order), and makes `old` the new bytes; `None` (and
/// `old` half made) when a [`FIXED`] run differs or a changed run's new
/// bytes are not all `allowed`.
fn changed(old: &mut [u8], new: &[u8], runs: &[Run], dirty: &mut Vec<u16>, allowed: impl Fn(u8) -> bool) -> Option<()> {
    dirty.clear();
    if old.len() != new.len() {
        return None;
    }
    for r in runs {
        let range = r.start as usize..r.end as usize;
        let (o, n) = (old.get_mut(range.clone())?, new.get(range)?);
        if o == n {
            continue;
        }
        match r.owner {
            FIXED => return None,
            _ if !n.iter().all(|b| allowed(*b)) => return None,
            FREE => {}
            k if dirty.last() != Some(&k) => dirty.push(k),
            _ => {}
        }
        o.copy_from_slice(n);
    }
    Some(())
}
