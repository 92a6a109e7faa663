//! The streaming decoder: bytes in any chunks, events out.
//!
//! It hunts for the start of a frame (HDLC `7E Ax`, M-Bus `68 L L 68`, a
//! DSMR identification line `/...` followed by data lines, a Smarty `DB 08`
//! envelope), checks it, and on any failure moves
//! one byte on and hunts again, so a frame right after garbage or inside a
//! damaged one is still found. Segmented messages (HDLC S bit, M-Bus CI
//! sequence, General Block Transfer) are reassembled before decoding.

use std::collections::VecDeque;

use chrono_tz::Tz;

use crate::dlms::apdu::{self, BLOCK_TRANSFER, Context, GLO_CIPHERING, Outcome};
use crate::dlms::axdr::Node;
use crate::dlms::cipher::Keys;
use crate::error::Error;
use crate::reading::{Framing, Protocol, Reading};
use crate::template::Slot;

use crate::framing::bare::{Bare, bare_len, dsmr_plausible, envelope_len};
use crate::framing::telegram::{self, MAX_TELEGRAM};
use crate::framing::{LLC, MAX_MESSAGE, gbt, hdlc, mbus};
use crate::p1 as dsmr;

/// Which framing to look for.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum FramingMode {
    /// Every framing below, found by its start bytes.
    #[default]
    Auto,
    /// HDLC frames only.
    Hdlc,
    /// Wired M-Bus long frames only.
    Mbus,
    /// DSMR P1 telegrams only (plain, or Smarty-encrypted).
    Dsmr,
    /// Bare LLC PDUs (`E6 E7 00` + APDU), back to back.
    Llc,
    /// Bare APDUs, back to back.
    Apdu,
}

/// Decoder settings.
#[derive(Clone, Default)]
pub struct Config {
    /// Which framing to look for.
    pub framing: FramingMode,
    /// AES-128 encryption key (GUEK) for encrypted meters.
    pub key: Option<[u8; 16]>,
    /// AES-128 authentication key (GAK), when the meter authenticates.
    pub auth_key: Option<[u8; 16]>,
    /// Time zone for meter clocks that state no UTC offset.
    pub tz: Option<Tz>,
    /// Decode every message from scratch. By default a message that
    /// differs from one decoded before only in its numbers and clocks
    /// has just those decoded again (the results are the same; this is
    /// for the tests and benchmarks that compare).
    pub full_decode: bool,
    /// The user's meter profiles, tried before the built-in ones
    /// ([`crate::dlms::profiles`]).
    pub profiles: crate::dlms::profiles::MeterProfiles,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Keys never reach a log.
        f.debug_struct("Config")
            .field("framing", &self.framing)
            .field("key", &self.key.map(|_| "<set>"))
            .field("auth_key", &self.auth_key.map(|_| "<set>"))
            .field("tz", &self.tz)
            .field("full_decode", &self.full_decode)
            .field("profiles", &self.profiles.len())
            .finish()
    }
}

/// Counters since the decoder was made.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Readings produced.
    pub readings: u64,
    /// Frames rejected for a checksum (HCS, FCS, M-Bus sum, DSMR CRC).
    pub bad_checksum: u64,
    /// Frames with a good checksum whose content could not be decoded.
    pub unparsed: u64,
    /// Frames rejected for other reasons (framing, keys, truncation, length).
    pub rejected_other: u64,
    /// Times the decoder skipped bytes to find the next frame.
    pub resyncs: u64,
    /// Bytes skipped while hunting for a frame.
    pub skipped_bytes: u64,
    /// Frames without an information field (keep-alives), ignored.
    pub empty_frames: u64,
    /// Values left out of readings because no meter can have them
    /// ([`Warning::Implausible`]).
    pub implausible: u64,
    /// Encrypted frames that carried an authentication tag but were
    /// decrypted with the encryption key alone, the tag not checked (no
    /// authentication key given; [`Warning::Unauthenticated`]).
    pub unauthenticated: u64,
}

/// The most warnings kept for [`Decoder::next_warning`]; more are counted
/// in [`Stats`] but not kept, so a caller that never asks loses nothing
/// but them.
const MAX_WARNINGS: usize = 64;

/// Something the decoder says about what it decoded: the readings came
/// out, but not quite as the meter sent them, or not vouched for. Taken
/// with [`Decoder::next_warning`] after each event.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Warning {
    /// Frames carry an authentication tag (security control `0x30`) but no
    /// authentication key was given: they were decrypted with the
    /// encryption key alone and their authenticity was not checked. Said
    /// once per decoder; every such frame counts in
    /// [`Stats::unauthenticated`].
    Unauthenticated {
        /// The security control byte of the first such frame.
        security_control: u8,
    },
    /// A value no meter can have, left out of the reading it came in.
    Implausible(crate::reading::plausible::Implausible),
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Warning::Unauthenticated { security_control } => write!(
                f,
                "frames are authenticated (security control 0x{security_control:02X}) but no authentication key \
                 was given: decrypted with the encryption key alone, their authenticity is not checked"
            ),
            Warning::Implausible(i) => write!(f, "implausible value left out of a reading: {i}"),
        }
    }
}

/// What the decoder produced.
#[derive(Debug)]
pub enum Event {
    /// A decoded reading.
    Reading(Box<Reading>),
    /// A frame or telegram that was rejected, with its bytes.
    Rejected {
        /// Why.
        error: Error,
        /// The bytes (the frame as far as it could be delimited).
        bytes: Vec<u8>,
    },
}

/// What the decoder produced, with the reading lent
/// ([`Decoder::next_event_ref`]).
#[derive(Debug)]
pub enum EventRef<'a> {
    /// A decoded reading, valid until the decoder is used again.
    Reading(&'a Reading),
    /// A frame or telegram that was rejected, with its bytes.
    Rejected {
        /// Why.
        error: Error,
        /// The bytes (the frame as far as it could be delimited).
        bytes: Vec<u8>,
    },
}

/// What the decoder saw on its way to a reading, for tools that show
/// frames (`han-read --hexdump`, `--structure`).
#[derive(Debug, Clone, Copy)]
pub enum Seen<'a> {
    /// A frame whose checksum held (HDLC, M-Bus), a complete DSMR telegram
    /// (before its CRC is checked), or a bare message.
    Frame {
        /// How it was framed.
        framing: Framing,
        /// Its bytes, flags and checksums included.
        bytes: &'a [u8],
    },
    /// A complete APDU, after reassembly and decryption.
    Apdu(&'a [u8]),
}

/// A callback for [`Seen`] events.
pub type Observer = Box<dyn FnMut(Seen<'_>) + Send>;

/// Holds the observer; a box of a closure has no `Debug` of its own.
#[derive(Default)]
pub(crate) struct ObserverSlot(pub Option<Observer>);

impl std::fmt::Debug for ObserverSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "Some(observer)" } else { "None" })
    }
}

impl ObserverSlot {
    pub(crate) fn see(&mut self, seen: Seen<'_>) {
        if let Some(f) = &mut self.0 {
            f(seen);
        }
    }
}

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
        if self.start > 0 && self.start >= self.buf.len() / 2 {
            self.buf.drain(..self.start);
            self.drained += self.start as u64;
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
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
                        self.start = self.buf.len();
                        self.reject(Error::Truncated(rest.len()), rest);
                        continue;
                    }
                    return None;
                }
            }
        }
    }

    /// At the end of the data: an unfinished reassembly is reported.
    fn end_of_data(&mut self) {
        if !self.eof {
            return;
        }
        for (what, bytes) in [
            ("input ended inside a segmented HDLC message", self.hdlc_segments.take()),
            ("input ended inside an M-Bus segment sequence", self.mbus_segments.take().map(|s| s.1)),
            ("input ended inside a block transfer", self.gbt_blocks.take().map(|s| s.1)),
        ] {
            if let Some(bytes) = bytes {
                self.reject(Error::Segment(what), bytes);
            }
        }
    }

    fn reject(&mut self, error: Error, bytes: Vec<u8>) {
        self.pending.push_back(Queued::Event(Event::Rejected { error, bytes }));
    }

    fn skip(&mut self, n: usize) -> Step {
        self.stats.resyncs += 1;
        self.stats.skipped_bytes += n as u64;
        self.bare_ok = false;
        Step::Advance(n)
    }

    /// One step at `start`: hunt, or check the frame that starts there.
    /// The buffer is taken out for the step, so frames are decoded where
    /// they lie instead of being copied.
    fn step(&mut self) -> Step {
        let buf = std::mem::take(&mut self.buf);
        let step = self.step_on(buf.get(self.start..).unwrap_or(&[]));
        self.buf = buf;
        step
    }

    fn step_on(&mut self, avail: &[u8]) -> Step {
        let mode = self.cfg.framing;
        if self.bare_ok || matches!(mode, FramingMode::Llc | FramingMode::Apdu) {
            match bare_len(avail, mode == FramingMode::Llc) {
                Bare::Complete(n) => {
                    let msg = avail.get(..n).unwrap_or(&[]);
                    self.bare_ok = true;
                    let (framing, apdu) = match msg.strip_prefix(&LLC[..]) {
                        Some(a) => (Framing::Llc, a),
                        None => (Framing::Apdu, msg),
                    };
                    self.observer.see(Seen::Frame { framing, bytes: msg });
                    self.on_apdu(apdu, framing, msg);
                    return Step::Advance(n);
                }
                Bare::NeedMore if !self.eof => return Step::Wait,
                Bare::NeedMore | Bare::No => {
                    if matches!(mode, FramingMode::Llc | FramingMode::Apdu) {
                        let rest = avail.to_vec();
                        let n = rest.len();
                        self.reject(Error::UnknownLayout("not a bare LLC PDU or APDU"), rest);
                        return Step::Advance(n);
                    }
                    self.bare_ok = false;
                }
            }
        }
        let starts: &[u8] = match mode {
            FramingMode::Auto => &[hdlc::FLAG, mbus::START, b'/', GLO_CIPHERING],
            FramingMode::Hdlc => &[hdlc::FLAG],
            FramingMode::Mbus => &[mbus::START],
            FramingMode::Dsmr => &[b'/', GLO_CIPHERING],
            FramingMode::Llc | FramingMode::Apdu => &[],
        };
        let Some(p) = avail.iter().position(|b| starts.contains(b)) else {
            // A chunk that ends after a telegram's closing CR LF: not noise either.
            if avail.iter().all(|b| matches!(b, b'\r' | b'\n')) {
                return Step::Advance(avail.len());
            }
            return self.skip(avail.len());
        };
        if p > 0 {
            // The CR LF ending a DSMR telegram's CRC line is not noise.
            if avail.get(..p).is_some_and(|gap| gap.iter().all(|b| matches!(b, b'\r' | b'\n'))) {
                return Step::Advance(p);
            }
            return self.skip(p);
        }
        match avail.first() {
            Some(&hdlc::FLAG) => self.at_flag(avail),
            Some(&mbus::START) => self.at_mbus(avail),
            Some(&b'/') => self.at_slash(avail),
            _ => self.at_envelope(avail),
        }
    }

    fn at_flag(&mut self, avail: &[u8]) -> Step {
        match avail.get(1) {
            // A closing flag at the very end is no frame.
            None if self.eof => return Step::Advance(1),
            None => return Step::Wait,
            // Flags between frames; the last one opens the next frame.
            Some(&hdlc::FLAG) => return Step::Advance(1),
            Some(_) if !hdlc::is_start(avail) => return self.skip(1),
            Some(_) => {}
        }
        match hdlc::parse(avail) {
            hdlc::Parse::NeedMore => Step::Wait,
            hdlc::Parse::Bad(error, n) => {
                let bytes = avail.get(..n.min(avail.len())).unwrap_or(&[]).to_vec();
                self.reject(error, bytes);
                self.skip(1)
            }
            hdlc::Parse::Frame { frame, len } => {
                self.observer.see(Seen::Frame { framing: Framing::Hdlc, bytes: avail.get(..len + 1).unwrap_or(&[]) });
                self.on_hdlc(frame.segmented, frame.info, avail.get(..len + 1).unwrap_or(&[]));
                Step::Advance(len)
            }
        }
    }

    fn on_hdlc(&mut self, segmented: bool, info: &[u8], raw: &[u8]) {
        if info.is_empty() {
            self.stats.empty_frames += 1;
            return;
        }
        let starts_message = info.starts_with(&LLC);
        if starts_message {
            if let Some(old) = self.hdlc_segments.take() {
                self.reject(Error::Segment("segmented HDLC message broken off by a new one"), old);
            }
        }
        match (self.hdlc_segments.take(), segmented) {
            (Some(mut acc), seg) => {
                acc.extend_from_slice(info);
                if acc.len() > MAX_MESSAGE {
                    self.reject(Error::TooLong(acc.len()), acc);
                } else if seg {
                    self.hdlc_segments = Some(acc);
                } else {
                    let apdu = acc.strip_prefix(&LLC[..]).unwrap_or(&acc);
                    self.on_apdu(apdu, Framing::Hdlc, &acc);
                }
            }
            (None, true) => self.hdlc_segments = Some(info.to_vec()),
            (None, false) => self.on_apdu(info.strip_prefix(&LLC[..]).unwrap_or(info), Framing::Hdlc, raw),
        }
    }

    fn at_mbus(&mut self, avail: &[u8]) -> Step {
        if avail.len() < 4 && !self.eof {
            return Step::Wait;
        }
        if !mbus::is_start(avail) {
            return self.skip(1);
        }
        match mbus::parse(avail) {
            mbus::Parse::NeedMore => Step::Wait,
            mbus::Parse::Bad(error, n) => {
                let bytes = avail.get(..n.min(avail.len())).unwrap_or(&[]).to_vec();
                self.reject(error, bytes);
                self.skip(1)
            }
            mbus::Parse::Frame { frame, len } => {
                let raw = avail.get(..len).unwrap_or(&[]);
                self.observer.see(Seen::Frame { framing: Framing::Mbus, bytes: raw });
                if !frame.is_dlms_segment() {
                    self.reject(Error::UnknownLayout("M-Bus CI field is not a DLMS segment"), raw.to_vec());
                    return Step::Advance(len);
                }
                self.on_mbus(frame.sequence(), frame.is_last(), frame.payload(), raw);
                Step::Advance(len)
            }
        }
    }

    fn on_mbus(&mut self, seq: u8, last: bool, payload: &[u8], raw: &[u8]) {
        let mut acc = match self.mbus_segments.take() {
            Some((next, acc)) if next == seq && seq != 0 => acc,
            Some((_, old)) => {
                self.reject(Error::Segment("M-Bus segment missing; message dropped"), old);
                if seq != 0 {
                    self.reject(Error::Segment("M-Bus segment without its first part"), raw.to_vec());
                    return;
                }
                Vec::new()
            }
            None if seq != 0 => {
                self.reject(Error::Segment("M-Bus segment without its first part"), raw.to_vec());
                return;
            }
            None => Vec::new(),
        };
        acc.extend_from_slice(payload);
        if !last {
            if acc.len() > MAX_MESSAGE {
                self.reject(Error::TooLong(acc.len()), acc);
            } else {
                self.mbus_segments = Some(((seq + 1) & 0x0F, acc));
            }
            return;
        }
        let apdu = acc.strip_prefix(&LLC[..]).unwrap_or(&acc);
        self.on_apdu(apdu, Framing::Mbus, raw);
    }

    fn at_slash(&mut self, avail: &[u8]) -> Step {
        match dsmr_plausible(avail) {
            None if !self.eof => return Step::Wait,
            Some(true) => {}
            _ => return self.skip(1),
        }
        match telegram::scan(avail, self.eof, MAX_TELEGRAM) {
            telegram::Scan::NeedMore => Step::Wait,
            telegram::Scan::Complete(n) => {
                let t = avail.get(..n).unwrap_or(&[]);
                self.observer.see(Seen::Frame { framing: Framing::Dsmr, bytes: t });
                let mut r = self.spare.pop().unwrap_or_else(|| Box::new(Reading::new(Protocol::P1, Framing::Dsmr)));
                let templates = (!self.cfg.full_decode).then_some(&mut self.templates);
                match dsmr::decode_telegram_with(t, self.cfg.tz.as_ref(), &mut r, templates) {
                    Ok(None) => {
                        self.pending.push_back(Queued::Event(Event::Reading(r)));
                        Step::Advance(n)
                    }
                    Ok(Some(slot)) => {
                        self.spare.push(r);
                        self.pending.push_back(Queued::Template(slot));
                        Step::Advance(n)
                    }
                    Err(e) => {
                        self.spare.push(r);
                        let end = self.drained + (self.start + n) as u64;
                        if self.dsmr_rejected_end != Some(end) {
                            self.dsmr_rejected_end = Some(end);
                            let bytes = t.to_vec();
                            self.reject(e, bytes);
                        }
                        // A false start in noise may run into a real frame:
                        // look again from the next byte.
                        self.skip(1)
                    }
                }
            }
            telegram::Scan::Restart(off) => {
                let bytes = avail.get(..off).unwrap_or(&[]).to_vec();
                self.reject(Error::DsmrFormat("telegram broken off by the next one (no '!' end line)"), bytes);
                Step::Advance(off)
            }
            telegram::Scan::TooLong => {
                let bytes = avail.get(..MAX_TELEGRAM.min(avail.len())).unwrap_or(&[]).to_vec();
                self.reject(Error::TooLong(bytes.len()), bytes);
                self.skip(1)
            }
        }
    }

    /// A raw ciphered APDU in the stream (Luxembourg Smarty P1).
    fn at_envelope(&mut self, avail: &[u8]) -> Step {
        match envelope_len(avail) {
            Bare::NeedMore if !self.eof => Step::Wait,
            Bare::Complete(n) => {
                let msg = avail.get(..n).unwrap_or(&[]);
                self.observer.see(Seen::Frame { framing: Framing::DsmrEncrypted, bytes: msg });
                self.on_apdu(msg, Framing::Dsmr, msg);
                Step::Advance(n)
            }
            _ => self.skip(1),
        }
    }

    /// A complete APDU (after framing, segments and LLC).
    fn on_apdu(&mut self, apdu: &[u8], framing: Framing, raw: &[u8]) {
        if apdu.first() == Some(&BLOCK_TRANSFER) {
            return self.on_block(apdu, framing, raw);
        }
        self.decode(apdu, framing, raw, false);
    }

    /// `in_block`: the APDU was reassembled from a block transfer, so it may
    /// not decipher to another block (that would recurse once per nesting,
    /// as deep as the message is long, and overflow the stack).
    fn decode(&mut self, apdu: &[u8], framing: Framing, raw: &[u8], in_block: bool) {
        let mut ctx = Context {
            keys: &self.keys,
            tz: self.cfg.tz.as_ref(),
            nodes: &mut self.nodes,
            scratch: &mut self.scratch,
            observer: &mut self.observer,
            spare: &mut self.spare,
            templates: (!self.cfg.full_decode).then_some(&mut self.templates),
            unauthenticated: None,
        };
        let decoded = apdu::decode(apdu, framing, &mut ctx);
        if let (Ok(_), Some(sc)) = (&decoded, ctx.unauthenticated) {
            self.unauthenticated(sc);
        }
        match decoded {
            Ok(Outcome::Reading(r)) => self.pending.push_back(Queued::Event(Event::Reading(r))),
            Ok(Outcome::Template(slot)) => self.pending.push_back(Queued::Template(slot)),
            Ok(Outcome::Block(_)) if in_block => {
                self.reject(Error::Segment("block transfer inside block transfer"), raw.to_vec())
            }
            Ok(Outcome::Block(b)) => self.on_block(&b, framing, raw),
            Err(e) => self.reject(e, raw.to_vec()),
        }
    }

    fn on_block(&mut self, apdu: &[u8], framing: Framing, raw: &[u8]) {
        let block = match gbt::parse(apdu) {
            Ok(b) => b,
            Err(e) => return self.reject(e, raw.to_vec()),
        };
        let mut acc = match self.gbt_blocks.take() {
            Some((next, acc)) if next == block.number => acc,
            Some((_, old)) => {
                self.reject(Error::Segment("block transfer block missing; message dropped"), old);
                Vec::new()
            }
            None => Vec::new(),
        };
        if acc.is_empty() && block.number > 1 {
            return self.reject(Error::Segment("block transfer block without the blocks before it"), raw.to_vec());
        }
        acc.extend_from_slice(block.data);
        if !block.last {
            if acc.len() > MAX_MESSAGE {
                self.reject(Error::TooLong(acc.len()), acc);
            } else {
                self.gbt_blocks = Some((block.number.wrapping_add(1), acc));
            }
            return;
        }
        if acc.first() == Some(&BLOCK_TRANSFER) {
            return self.reject(Error::Segment("block transfer inside block transfer"), acc);
        }
        self.decode(&acc, framing, &acc, true);
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
