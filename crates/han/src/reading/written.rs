//! What of a reading's `obis` JSON was last written, for the JSON writer
//! ([`super::json`]) to copy what did not change: the cache lives with the
//! reading (a template marks what it patched), the writer reads it.

use std::cell::RefCell;

use crate::reading::value::Text;
use crate::reading::{Framing, Protocol, Reading};

/// The `obis` object of a template's reading as last written, object by
/// object: a meter's next message changes a few values, so the next line
/// writes those values again and copies the rest, keys and units included
/// (for a DSMR 5 telegram, 14 values of 37 objects). Kept only for a reading
/// a template holds once the template is used again (the first patch turns
/// it on), which changes only through [`ObisJson::touch`] and
/// [`ObisJson::touch_value`]; any other reading, and a copy, writes every
/// object.
#[derive(Default)]
pub(crate) struct ObisJson(pub(crate) RefCell<Written>);

#[derive(Default)]
pub(crate) struct Written {
    /// Kept for this reading (a template's, patched at least once).
    pub(crate) on: bool,
    /// `bytes` and `parts` are the reading's objects as they are now, but
    /// for those `dirty` marks.
    pub(crate) valid: bool,
    /// The objects as last written, from the first key to the last `}`.
    pub(crate) bytes: Vec<u8>,
    /// Where each object's value starts and ends, and where the object ends.
    pub(crate) parts: Vec<[u32; 3]>,
    /// What changed in each object since.
    pub(crate) dirty: Vec<Dirty>,
    /// The line's head as last written (`,"protocol":` through the list
    /// id), and what it was written from.
    pub(crate) head: Vec<u8>,
    pub(crate) head_of: Option<Head>,
}

/// What a line's head says: a template's reading keeps it from one message
/// to the next (a DSMR patch may change the meter id; a HAN message may come
/// encrypted or in another framing), so it is compared, not assumed. Texts
/// compare by pointer first: a template's are shared.
#[derive(PartialEq)]
pub(crate) struct Head {
    protocol: Protocol,
    framing: Framing,
    encrypted: bool,
    manufacturer: Option<&'static str>,
    meter_id: Option<Text>,
    meter_model: Option<Text>,
    list: Option<Text>,
}

impl Head {
    pub(crate) fn of(r: &Reading) -> Head {
        Head {
            protocol: r.protocol,
            framing: r.framing,
            encrypted: r.encrypted,
            manufacturer: r.manufacturer,
            meter_id: r.meter_id.clone(),
            meter_model: r.meter_model.clone(),
            list: r.list.clone(),
        }
    }

    /// Whether `r`'s head is this one.
    pub(crate) fn is(&self, r: &Reading) -> bool {
        self.protocol == r.protocol
            && self.framing == r.framing
            && self.encrypted == r.encrypted
            && self.manufacturer == r.manufacturer
            && self.meter_id == r.meter_id
            && self.meter_model == r.meter_model
            && self.list == r.list
    }
}

#[derive(Copy, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Dirty {
    #[default]
    Clean,
    /// Only its value: its key, unit, time, text and entries are as written.
    Value,
    /// Anything.
    Whole,
}

impl ObisJson {
    /// Forgets what was written, keeping the buffers (a reading reused).
    pub(crate) fn forget(&mut self) {
        let w = self.0.get_mut();
        w.on = false;
        w.valid = false;
        w.head_of = None;
    }

    /// Object `i` changed: written again next time.
    pub(crate) fn touch(&mut self, i: usize) {
        self.mark(i, Dirty::Whole);
    }

    /// Only object `i`'s value changed: it alone is written again.
    pub(crate) fn touch_value(&mut self, i: usize) {
        self.mark(i, Dirty::Value);
    }

    /// A template made this reading again: its layout came again, so its
    /// lines are worth keeping (one seen once costs nothing), whether or
    /// not an object changed (a frame whose only change is the clock in
    /// its header touches none).
    pub(crate) fn reused(&mut self) {
        let w = self.0.get_mut();
        if !w.on {
            w.on = true;
            w.valid = false;
        }
    }

    fn mark(&mut self, i: usize, how: Dirty) {
        let w = self.0.get_mut();
        if !w.on {
            self.reused();
        } else if w.valid {
            match w.dirty.get_mut(i) {
                Some(d) => *d = (*d).max(how),
                None => w.valid = false,
            }
        }
    }
}

impl Clone for ObisJson {
    /// A copy writes its objects afresh.
    fn clone(&self) -> Self {
        ObisJson::default()
    }
}

impl PartialEq for ObisJson {
    /// Not part of what a reading says.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for ObisJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ObisJson")
    }
}
