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
//!
//! Several meters on one line (a data concentrator, a test bench) send
//! several layouts in turn, some of the same length: a message is compared
//! with each remembered one of its length, most recently used first, and
//! a comparison that fails leaves the template as it was. Learning costs
//! little (the full decode's reading moves into the template, which lends
//! it), so every full decode is learnt.

mod dsmr;
mod han;

use crate::reading::Reading;
use crate::reading::normalise::Summed;

/// How many layouts of each kind are remembered at once: Aidon alternates
/// lists 1, 2 and 3, and a line with several meters multiplies that. Each
/// costs its message and its reading (a few KiB for a DSMR telegram).
const SLOTS: usize = 16;

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
    /// Counts uses: the newest candidates first, and the victim's pick.
    clock: u64,
    /// Messages made from a template (not decoded in full).
    hits: u64,
    /// Scratch: what changed.
    dirty: Vec<u16>,
    /// Scratch: the slots a message may match.
    tried: Vec<usize>,
    /// Scratch: the records of the telegram being decoded in full.
    spans: Vec<crate::p1::Span>,
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
    /// The reading it decoded to, kept current (boxed: a HAN reading moves
    /// in and out by its pointer, not a copy of a kilobyte).
    reading: Box<Reading>,
    /// The totals its quantities sum from tariffs.
    summed: Summed,
    /// Use count stamp (0: forgotten, the first to be replaced).
    used: u64,
}

impl Base {
    fn new(r: &Reading) -> Base {
        Base {
            bytes: Vec::new(),
            runs: Vec::new(),
            reading: Box::new(Reading::new(r.protocol, r.framing)),
            summed: Summed::default(),
            used: 0,
        }
    }

    /// Becomes the template of `msg`, decoded in full into `r` (its runs
    /// made by the caller). The reading moves here (the
    /// template lends it from now on); `r` gets the template's old one, to
    /// reuse.
    fn learn(&mut self, msg: &[u8], r: &mut Reading, summed: Summed, now: u64) {
        self.remember(msg, summed, now);
        std::mem::swap(&mut *self.reading, r);
    }

    /// [`Base::learn`] of a boxed reading: the boxes change places.
    fn learn_boxed(&mut self, msg: &[u8], r: &mut Box<Reading>, summed: Summed, now: u64) {
        self.remember(msg, summed, now);
        std::mem::swap(&mut self.reading, r);
    }

    /// What [`Base::learn`] keeps besides the reading.
    fn remember(&mut self, msg: &[u8], summed: Summed, now: u64) {
        self.used = now;
        self.bytes.clear();
        self.bytes.extend_from_slice(msg);
        self.summed = summed;
    }

    /// Forgets the message (perhaps half patched): no message matches an
    /// empty template, and it is the first to be replaced.
    fn forget(&mut self) {
        self.bytes.clear();
        self.used = 0;
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
            Slot::Han(i) => self.han.get(i).map(|t| &*t.base.reading),
            Slot::Dsmr(i) => self.dsmr.get(i).map(|t| &*t.base.reading),
        }
    }

    /// The reading a HAN template made, to mark it as decrypted.
    pub(crate) fn reading_mut(&mut self, slot: Slot) -> Option<&mut Reading> {
        match slot {
            Slot::Han(i) => self.han.get_mut(i).map(|t| &mut *t.base.reading),
            Slot::Dsmr(i) => self.dsmr.get_mut(i).map(|t| &mut *t.base.reading),
        }
    }

    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }
}

/// The slot to learn a message into: a new one while there is room, else
/// a forgotten one, else one picked by `now` (a use count), pseudo-randomly;
/// none for a message too long. Another layout of the same length keeps its
/// slot: a line with several meters may send both.
///
/// Not the least recently used: in a round robin over more layouts than
/// slots (a concentrator, a replay of many meters) that is always the one
/// needed next, and no message would ever hit. A random victim keeps most
/// of them: 17 layouts hit 88 % of the time, 20 about 60 %, 32 about 20 %.
fn slot_for<T>(
    slots: &mut Vec<T>,
    len: usize,
    now: u64,
    base: impl Fn(&T) -> &Base,
    make: impl FnOnce() -> T,
) -> Option<usize> {
    if len > MAX_LEN {
        return None;
    }
    if slots.len() < SLOTS {
        slots.push(make());
        return Some(slots.len() - 1);
    }
    if let Some(i) = slots.iter().position(|t| base(t).used == 0) {
        return Some(i);
    }
    // splitmix64's finaliser: pure and repeatable, with no generator to keep.
    let mut z = now.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    let n = u64::try_from(slots.len()).ok()?;
    usize::try_from(z % n).ok()
}

/// The slots holding a message of `len` bytes, into `out`: the most
/// recently used first (the meter that sent this length last is the
/// likeliest to send it again), the others in slot order (sorting them
/// cost more than it saved when no slot matches: a new meter).
fn candidates<T>(slots: &[T], len: usize, base: impl Fn(&T) -> &Base, out: &mut Vec<usize>) {
    out.clear();
    let mut newest = (0, 0);
    for (i, t) in slots.iter().enumerate() {
        let b = base(t);
        if b.bytes.len() == len {
            if b.used >= newest.1 {
                newest = (out.len(), b.used);
            }
            out.push(i);
        }
    }
    // `newest.0` is a position in `out` (set just before its push).
    if newest.0 > 0 {
        out.swap(0, newest.0);
    }
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

/// Makes a message's runs in order: [`Runs::to`] gives the bytes from
/// where the last run ended to `end` an owner (a run of the same owner
/// before them grows).
struct Runs<'a> {
    out: &'a mut Vec<Run>,
    at: usize,
}

impl<'a> Runs<'a> {
    fn new(out: &'a mut Vec<Run>) -> Self {
        out.clear();
        Runs { out, at: 0 }
    }

    fn to(&mut self, end: usize, owner: u16) {
        if end <= self.at {
            return;
        }
        let (Ok(s), Ok(e)) = (u32::try_from(self.at), u32::try_from(end)) else { return };
        match self.out.last_mut() {
            Some(last) if last.owner == owner && last.end == s => last.end = e,
            _ => self.out.push(Run { start: s, end: e, owner }),
        }
        self.at = end;
    }
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

/// Whether two runs of one length are equal: most are a few bytes (a
/// value, a line's code), compared as two overlapping words instead of by
/// a call to `memcmp`.
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
    let word =
        |s: &[u8], at: usize| s.get(at..at + 8).and_then(|w| <[u8; 8]>::try_from(w).ok()).map(u64::from_ne_bytes);
    match a.len() {
        8..=16 => {
            let last = a.len() - 8;
            word(a, 0) == word(b, 0) && word(a, last) == word(b, last)
        }
        4..8 => {
            let last = a.len() - 4;
            half(a, 0) == half(b, 0) && half(a, last) == half(b, last)
        }
        0..4 => a.iter().zip(b).all(|(x, y)| x == y),
        _ => a == b,
    }
}

/// Four bytes at `at` as a word (A-XDR values are mostly 2 or 4 bytes).
#[inline]
fn half(s: &[u8], at: usize) -> Option<u32> {
    s.get(at..at + 4).and_then(|w| <[u8; 4]>::try_from(w).ok()).map(u32::from_ne_bytes)
}

/// Notes in `dirty` the owners of the runs that differ between `old` and
/// `new` (each once, in order). `Err` when a [`FIXED`] run differs (that
/// run: [`first_difference`] tells where), or when the lengths differ or a
/// changed run's new bytes are not all `allowed` (`None`). `allowed` `None`:
/// a value may hold any byte (A-XDR), and the [`FREE`] runs are not even
/// compared. `old` is left as it was: the caller makes it the new bytes
/// once the message is taken.
fn changed<F: Fn(u8) -> bool>(
    old: &[u8],
    new: &[u8],
    runs: &[Run],
    dirty: &mut Vec<u16>,
    allowed: Option<F>,
) -> Result<(), Option<Run>> {
    dirty.clear();
    if old.len() != new.len() {
        return Err(None);
    }
    for r in runs {
        if r.owner == FREE && allowed.is_none() {
            continue;
        }
        let range = r.start as usize..r.end as usize;
        let (Some(o), Some(n)) = (old.get(range.clone()), new.get(range)) else { return Err(None) };
        if same(o, n) {
            continue;
        }
        if r.owner == FIXED {
            return Err(Some(*r));
        }
        if allowed.as_ref().is_some_and(|ok| !n.iter().all(|b| ok(*b))) {
            return Err(None);
        }
        if r.owner != FREE && dirty.last() != Some(&r.owner) {
            dirty.push(r.owner);
        }
    }
    Ok(())
}

/// Where two slices first differ, eight bytes at a time. Out of line: only
/// a failed comparison asks.
#[cold]
#[inline(never)]
pub(super) fn first_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    let mut at = 0;
    for (x, y) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        let (Ok(x), Ok(y)) = (<[u8; 8]>::try_from(x), <[u8; 8]>::try_from(y)) else { break };
        let d = u64::from_le_bytes(x) ^ u64::from_le_bytes(y);
        if d != 0 {
            return Some(at + (d.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    let (a, b) = (a.get(at..)?, b.get(at..)?);
    a.iter().zip(b).position(|(x, y)| x != y).map(|i| at + i)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod difference {
    use proptest::prelude::*;

    proptest! {
        /// Word by word, the same place as byte by byte.
        #[test]
        fn first_difference_is_the_first(a in proptest::collection::vec(0u8..3, 0..40), b in proptest::collection::vec(0u8..3, 0..40)) {
            let byte = a.iter().zip(&b).position(|(x, y)| x != y);
            prop_assert_eq!(super::first_difference(&a, &b), byte);
        }
    }
}
