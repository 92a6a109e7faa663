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

/// How many layouts of each kind are remembered at once (Aidon alternates
/// lists 1, 2 and 3; interleaved meters add more).
const SLOTS: usize = 4;

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

impl Templates {
    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }
}

/// The slot to learn a message of `len` bytes into: the one of that length,
/// a new one, or the least recently used.
fn slot_for<T>(slots: &mut Vec<T>, len: usize, of: impl Fn(&T) -> (usize, u64), make: impl FnOnce() -> T) -> usize {
    if let Some(i) = slots.iter().position(|t| of(t).0 == len) {
        return i;
    }
    if slots.len() < SLOTS {
        slots.push(make());
        return slots.len() - 1;
    }
    slots.iter().enumerate().min_by_key(|(_, t)| of(t).1).map_or(0, |(i, _)| i)
}

/// Notes in `dirty` the owners of the bytes that differ between `old` and
/// `new` (each once, in order); `None` when one is [`FIXED`] or the new
/// byte is not `allowed`.
fn changed(old: &[u8], new: &[u8], owner: &[u16], dirty: &mut Vec<u16>, allowed: impl Fn(u8) -> bool) -> Option<()> {
    dirty.clear();
    let mut a = old.chunks_exact(8);
    let mut b = new.chunks_exact(8);
    let mut base = 0;
    for (x, y) in (&mut a).zip(&mut b) {
        if x != y {
            let word = |c: &[u8]| <[u8; 8]>::try_from(c).map_or(0, u64::from_le_bytes);
            // One byte set per byte that differs, the lowest first.
            let mut diff = word(x) ^ word(y);
            while diff != 0 {
                let i = (diff.trailing_zeros() / 8) as usize;
                diff &= !(0xFF << (8 * i));
                note(base + i, *y.get(i)?, owner, dirty, &allowed)?;
            }
        }
        base += 8;
    }
    for (i, (x, y)) in a.remainder().iter().zip(b.remainder()).enumerate() {
        if x != y {
            note(base + i, *y, owner, dirty, &allowed)?;
        }
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
