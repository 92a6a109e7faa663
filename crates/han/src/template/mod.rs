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
            Slot::Han(i) => self.han.get(i).map(|t| &t.reading),
            Slot::Dsmr(i) => self.dsmr.get(i).map(|t| &t.reading),
        }
    }

    /// The reading a HAN template made, to mark it as decrypted.
    pub(crate) fn reading_mut(&mut self, slot: Slot) -> Option<&mut Reading> {
        match slot {
            Slot::Han(i) => self.han.get_mut(i).map(|t| &mut t.reading),
            Slot::Dsmr(i) => self.dsmr.get_mut(i).map(|t| &mut t.reading),
        }
    }

    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }
}

/// The slot to learn a message of `len` bytes into: the one of that length,
/// a new one, or the least recently used; none for a message too long.
fn slot_for<T>(
    slots: &mut Vec<T>,
    len: usize,
    of: impl Fn(&T) -> (usize, u64),
    make: impl FnOnce() -> T,
) -> Option<usize> {
    if len > MAX_LEN {
        return None;
    }
    if let Some(i) = slots.iter().position(|t| of(t).0 == len) {
        return Some(i);
    }
    if slots.len() < SLOTS {
        slots.push(make());
        return Some(slots.len() - 1);
    }
    slots.iter().enumerate().min_by_key(|(_, t)| of(t).1).map(|(i, _)| i)
}

/// Notes in `dirty` the owners of the bytes that differ between `old` and
/// `new` (each once, in order), and makes `old` the new bytes; `None` (and
/// `old` half made) when one is [`FIXED`] or the new byte is not `allowed`.
fn changed(old: &mut [u8], new: &[u8], owner: &[u16], dirty: &mut Vec<u16>, allowed: impl Fn(u8) -> bool) -> Option<()> {
    dirty.clear();
    // 32 bytes at a time (most are equal), then the words that differ,
    // then the bytes.
    let mut a = old.chunks_exact_mut(32);
    let mut b = new.chunks_exact(32);
    let mut base = 0;
    for (x, y) in (&mut a).zip(&mut b) {
        let (wx, wy) = (words(x), words(y));
        if wx != wy {
            for (k, (wx, wy)) in wx.iter().zip(&wy).enumerate() {
                bytes(*wx ^ *wy, base + 8 * k, y_byte(*wy), owner, dirty, &allowed)?;
            }
            x.copy_from_slice(y);
        }
        base += 32;
    }
    for (i, (x, y)) in a.into_remainder().iter_mut().zip(b.remainder()).enumerate() {
        if x != y {
            note(base + i, *y, owner, dirty, &allowed)?;
            *x = *y;
        }
    }
    Some(())
}

/// Four little-endian words of 32 bytes.
#[inline(always)]
fn words(c: &[u8]) -> [u64; 4] {
    let w = |i: usize| c.get(i..i + 8).and_then(|s| <[u8; 8]>::try_from(s).ok()).map_or(0, u64::from_le_bytes);
    [w(0), w(8), w(16), w(24)]
}

/// The byte `i` of a little-endian word.
#[inline(always)]
fn y_byte(w: u64) -> impl Fn(usize) -> u8 {
    move |i| (w >> (8 * i)) as u8
}

/// Notes each byte of a word whose `diff` bits are set.
#[inline(always)]
fn bytes(
    mut diff: u64,
    base: usize,
    new: impl Fn(usize) -> u8,
    owner: &[u16],
    dirty: &mut Vec<u16>,
    allowed: &impl Fn(u8) -> bool,
) -> Option<()> {
    while diff != 0 {
        let i = (diff.trailing_zeros() / 8) as usize;
        diff &= !(0xFF << (8 * i));
        note(base + i, new(i), owner, dirty, allowed)?;
    }
    Some(())
}

/// A byte at `at` that is now `new`.
#[inline(always)]
fn note(at: usize, new: u8, owner: &[u16], dirty: &mut Vec<u16>, allowed: &impl Fn(u8) -> bool) -> Option<()> {
    match *owner.get(at)? {
        FIXED => return None,
        _ if !allowed(new) => return None,
        FREE => {}
        k if dirty.last() != Some(&k) => dirty.push(k),
        _ => {}
    }
    Some(())
}
