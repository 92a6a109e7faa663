//! The streaming decoder: bytes in any chunks, events out.
//!
//! It hunts for the start of a frame ([`hunt`]), checks it, and on any
//! failure moves one byte on and hunts again, so a frame right after
//! garbage or inside a damaged one is still found. Segmented messages
//! (HDLC S bit, M-Bus CI sequence, General Block Transfer) are reassembled
//! ([`reassemble`]) before the whole message is decoded ([`message`]: the
//! template first, the pure decoders on a miss).

use std::collections::VecDeque;

use crate::dlms::axdr::Node;
use crate::dlms::cipher::Keys;
use crate::error::Error;
use crate::reading::Reading;
use crate::template::Slot;

mod config;
mod events;
mod hunt;
mod message;
mod reassemble;
pub(crate) mod window;

pub use config::{Config, FramingMode};
pub(crate) use events::ObserverSlot;
pub use events::{Event, EventRef, Observer, Seen, Stats, Warning};

/// The most warnings kept for [`Decoder::next_warning`]; more are counted
/// in [`Stats`] but not kept, so a caller that never asks loses nothing
/// but them.
const MAX_WARNINGS: usize = 64;

/// The streaming decoder. See the crate docs.
#[derive(Debug)]
pub struct Decoder {
    cfg: Config,
    keys: Keys,
    buf: Vec<u8>,
    start: usize,
    /// Bytes drained from the front of `buf` so far: `drained + start` is
    /// the position in the whole input.
    drained: u64,
    /// Where the last rejected DSMR telegram ended (position in the input):
    /// a `/` inside its identification line starts a candidate that ends
    /// there too, the same telegram seen from inside, not another one.
    dsmr_rejected_end: Option<u64>,
    eof: bool,
    /// Bare messages are accepted only at the start of input or right after
    /// another bare message: without a checksum, anywhere else is a guess.
    bare_ok: bool,
    nodes: Vec<Node>,
    scratch: crate::dlms::lists::Scratch,
    hdlc_segments: Option<Vec<u8>>,
    mbus_segments: Option<(u8, Vec<u8>)>,
    gbt_blocks: Option<(u16, Vec<u8>)>,
    pending: VecDeque<Queued>,
    /// The reading [`Decoder::next_event_ref`] lent last.
    lent: Option<Box<Reading>>,
    stats: Stats,
    observer: ObserverSlot,
    /// Readings handed back for reuse (boxed: they leave as boxed events).
    #[allow(clippy::vec_box)]
    spare: Vec<Box<Reading>>,
    templates: crate::template::Templates,
    /// Warnings not taken yet.
    warnings: VecDeque<Warning>,
    /// Whether [`Warning::Unauthenticated`] was given.
    said_unauthenticated: bool,
    /// Scratch: the implausible values of the reading being handed out.
    implausible: Vec<crate::reading::plausible::Implausible>,
}

/// An event waiting to be handed out.
#[derive(Debug)]
enum Queued {
    Event(Event),
    /// A reading a template made; it stays there until the next decode,
    /// which only comes once the queue is empty.
    Template(Slot),
}

enum Step {
    /// Need more bytes.
    Wait,
    /// Consumed this many bytes.
    Advance(usize),
}

impl Decoder {
    /// A decoder with these settings.
    pub fn new(cfg: Config) -> Self {
        let keys = Keys { key: cfg.key, auth_key: cfg.auth_key };
        let scratch = crate::dlms::lists::Scratch::new(cfg.profiles.clone());
        Decoder {
            cfg,
            keys,
            buf: Vec::with_capacity(4096),
            start: 0,
            drained: 0,
            dsmr_rejected_end: None,
            eof: false,
            bare_ok: true,
            nodes: Vec::with_capacity(256),
            scratch,
            hdlc_segments: None,
            mbus_segments: None,
            gbt_blocks: None,
            pending: VecDeque::new(),
            lent: None,
            stats: Stats::default(),
            observer: ObserverSlot::default(),
            spare: Vec::new(),
            templates: crate::template::Templates::default(),
            warnings: VecDeque::new(),
            said_unauthenticated: false,
            implausible: Vec::new(),
        }
    }

    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        window::append(&mut self.buf, &mut self.start, &mut self.drained, bytes);
    }

    /// Marks the end of input: what is left is decoded as far as it can be,
    /// and an unfinished frame is reported as truncated.
    pub fn finish(&mut self) {
        self.eof = true;
    }

    /// Calls `f` with every frame and APDU the decoder sees (for dumps; it
    /// costs nothing when unset).
    pub fn observe(&mut self, f: Observer) {
        self.observer.0 = Some(f);
    }

    /// Hands a reading back once it has been used (written out), so the
    /// next one reuses its memory instead of allocating. Optional.
    pub fn recycle(&mut self, reading: Box<Reading>) {
        if self.spare.len() < 4 {
            self.spare.push(reading);
        }
    }

    /// The next warning about what was decoded, oldest first, or `None`;
    /// call it after each event.
    pub fn next_warning(&mut self) -> Option<Warning> {
        self.warnings.pop_front()
    }

    fn warn(&mut self, w: Warning) {
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push_back(w);
        }
    }

    /// A frame decrypted with its tag unchecked: counted, said once.
    fn unauthenticated(&mut self, security_control: u8) {
        self.stats.unauthenticated += 1;
        if !self.said_unauthenticated {
            self.said_unauthenticated = true;
            self.warn(Warning::Unauthenticated { security_control });
        }
    }

    /// A reading about to be handed out, with the values no meter can have
    /// left out (a template's reading is copied first: the template stays
    /// as its bytes say) and reported.
    fn judge(&mut self, q: Queued) -> Queued {
        self.implausible.clear();
        let q = match q {
            Queued::Event(Event::Reading(mut r)) => {
                crate::reading::plausible::check(&r, &mut self.implausible);
                if !self.implausible.is_empty() {
                    crate::reading::plausible::leave_out(&mut r, &self.implausible);
                }
                Queued::Event(Event::Reading(r))
            }
            Queued::Template(slot) => {
                let Some(t) = self.templates.reading(slot) else { return q };
                crate::reading::plausible::check(t, &mut self.implausible);
                if self.implausible.is_empty() {
                    return q;
                }
                let mut r = self.spare.pop().unwrap_or_else(|| Box::new(Reading::new(t.protocol, t.framing)));
                r.clone_from_reusing(t);
                crate::reading::plausible::leave_out(&mut r, &self.implausible);
                Queued::Event(Event::Reading(r))
            }
            other => return other,
        };
        for i in std::mem::take(&mut self.implausible) {
            self.stats.implausible += 1;
            self.warn(Warning::Implausible(i));
        }
        q
    }

    /// The counters so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Bytes received but not yet consumed (an unfinished frame).
    pub fn buffered(&self) -> usize {
        self.buf.len().saturating_sub(self.start)
    }

    /// The next reading or rejection, or `None` when more bytes are needed.
    pub fn next_event(&mut self) -> Option<Event> {
        loop {
            return Some(match self.next_queued()? {
                Queued::Event(e) => e,
                Queued::Template(slot) => {
                    let Some(t) = self.templates.reading(slot) else { continue };
                    let mut r = self.spare.pop().unwrap_or_else(|| Box::new(Reading::new(t.protocol, t.framing)));
                    r.clone_from_reusing(t);
                    Event::Reading(r)
                }
            });
        }
    }

    /// Like [`Decoder::next_event`], but a reading is lent, not handed
    /// over: it stays valid until the next call, and nothing is copied (a
    /// reading made from the message before it is lent where it was made).
    /// The way to read a stream fastest; `han-read` does.
    ///
    /// ```
    /// let mut dec = han::Decoder::new(han::Config::default());
    /// dec.push(&han::encode::samples::kaifa_list2(1));
    /// while let Some(e) = dec.next_event_ref() {
    ///     if let han::EventRef::Reading(r) = e {
    ///         assert_eq!(r.meter_model.as_deref(), Some("MA304H3E"));
    ///     }
    /// }
    /// ```
    pub fn next_event_ref(&mut self) -> Option<EventRef<'_>> {
        if let Some(r) = self.lent.take() {
            self.recycle(r);
        }
        loop {
            match self.next_queued()? {
                Queued::Event(Event::Rejected { error, bytes }) => return Some(EventRef::Rejected { error, bytes }),
                Queued::Event(Event::Reading(r)) => {
                    let r = self.lent.insert(r);
                    return Some(EventRef::Reading(r));
                }
                Queued::Template(slot) => {
                    // Two borrows of `self` for the borrow checker: look
                    // first, then lend.
                    if self.templates.reading(slot).is_some() {
                        return self.templates.reading(slot).map(EventRef::Reading);
                    }
                }
            }
        }
    }

    /// The next event, decoding as far as needed, counted.
    fn next_queued(&mut self) -> Option<Queued> {
        loop {
            if let Some(q) = self.pending.pop_front() {
                let q = self.judge(q);
                match &q {
                    Queued::Event(Event::Reading(_)) | Queued::Template(_) => self.stats.readings += 1,
                    Queued::Event(Event::Rejected { error, .. }) => match error.kind() {
                        "checksum" => self.stats.bad_checksum += 1,
                        "unparsed" => self.stats.unparsed += 1,
                        _ => self.stats.rejected_other += 1,
                    },
                }
                return Some(q);
            }
            if self.start >= self.buf.len() {
                self.end_of_data();
                if self.pending.is_empty() {
                    return None;
                }
                continue;
            }
            match self.step() {
                Step::Advance(n) => self.start += n.max(1),
                Step::Wait => {
                    if self.eof {
                        let rest = self.buf.get(self.start..).unwrap_or(&[]).to_vec();
                        // A start found inside a telegram already rejected (an
                        // M-Bus-like `h..h` in its identification) that never
                        // completed: those bytes were reported once already
                        // (past the telegram's end, only its line end).
                        let past_end = self
                            .dsmr_rejected_end
                            .and_then(|end| usize::try_from(end.saturating_sub(self.drained + self.start as u64)).ok());
                        let reported = self.in_rejected_telegram()
                            && past_end.is_some_and(|k| {
                                rest.get(k..).is_none_or(|tail| tail.iter().all(|b| matches!(b, b'\r' | b'\n')))
                            });
                        self.start = self.buf.len();
                        if !reported {
                            self.reject(Error::Truncated(rest.len()), rest);
                        }
                        continue;
                    }
                    return None;
                }
            }
        }
    }

    fn reject(&mut self, error: Error, bytes: Vec<u8>) {
        self.pending.push_back(Queued::Event(Event::Rejected { error, bytes }));
    }
}

/// Decodes one whole message (a file's content, an MQTT payload): any
/// framing the decoder knows, or a bare LLC PDU / APDU. Returns the first
/// reading, or the first error when there is none.
pub fn decode_message(bytes: &[u8], cfg: &Config) -> Result<Reading, Error> {
    let mut d = Decoder::new(cfg.clone());
    d.push(bytes);
    d.finish();
    let mut first_err = None;
    while let Some(e) = d.next_event() {
        match e {
            Event::Reading(r) => return Ok(*r),
            Event::Rejected { error, .. } => {
                first_err.get_or_insert(error);
            }
        }
    }
    Err(first_err.unwrap_or(Error::Truncated(bytes.len())))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]
mod tests;
