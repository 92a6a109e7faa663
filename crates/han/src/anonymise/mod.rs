//! Anonymising a capture (`han-read --anonymise`): the same bytes with the
//! meter's ids rewritten, so a capture can be shared.
//!
//! The [`Anonymiser`] finds frames in a byte stream the way the
//! [`Decoder`] does (HDLC, wired M-Bus, DSMR telegrams,
//! bare LLC PDUs and APDUs, ciphered envelopes), reassembles segmented
//! messages (HDLC segments, M-Bus segments, General Block Transfer), and
//! has each message decoded by the decoder itself. A message that decodes
//! is written back with every id rewritten ([`is_id_code`]; rule in
//! `ids.rs`: same length and characters, a keyed hash of the original, the
//! same id always the same, never itself) and its checksums computed again
//! (HCS, FCS, M-Bus sum, DSMR CRC), everything else as it was. An
//! encrypted message is written decrypted: the plain APDU in the frames it
//! came in (segments and blocks of at most the sizes they had, fewer when
//! the plaintext needs fewer), without the security header, system title
//! and tag; a Luxembourg Smarty frame becomes the telegram it carries.
//!
//! What does not decode (a bad checksum, a truncated or broken-off frame,
//! an encrypted frame without its key, a layout the decoder does not know)
//! and noise between frames are left out, since nothing there can be told
//! to be free of an id; only the flags and line ends between frames are
//! kept. Each message is decoded again after it is rewritten, and it is
//! written only when the result has the same values but for the ids, and
//! every id differs from the original.

mod framing;
mod ids;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use crate::framing::bare::{Bare, bare_len, envelope_len};
use crate::framing::telegram::{self, MAX_TELEGRAM};
use crate::framing::{LLC, MAX_MESSAGE};
use crate::framing::{gbt, hdlc, mbus};
use crate::reading::{Framing, Reading};
use crate::stream::{Config, Decoder, Event, FramingMode, Seen};
use framing::dsmr_start;

pub use ids::is_id_code;

/// The most output held back for a message whose frames have not all come.
const MAX_HELD: usize = 256 * 1024;
/// The most distinct reasons kept in a [`Report`].
const MAX_REASONS: usize = 8;

/// What an [`Anonymiser`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Messages (frames, multi-frame messages, telegrams) written.
    pub messages: u64,
    /// Id values rewritten in them.
    pub ids: u64,
    /// Encrypted messages written decrypted.
    pub decrypted: u64,
    /// Frames and telegrams left out: they did not decode.
    pub left_out_frames: u64,
    /// Bytes left out: those frames and the noise between frames.
    pub left_out_bytes: u64,
    /// Why frames were left out: the first few distinct reasons.
    pub reasons: Vec<String>,
}

impl Report {
    fn reason(&mut self, why: &str) {
        if self.reasons.len() < MAX_REASONS && !self.reasons.iter().any(|r| r == why) {
            self.reasons.push(why.to_owned());
        }
    }
}

/// Rewrites the ids of a whole capture; see the module docs. `secret` keys
/// the hash the new ids come from: the same secret gives the same ids.
pub fn anonymise(bytes: &[u8], cfg: &Config, secret: [u8; 16]) -> (Vec<u8>, Report) {
    let mut a = Anonymiser::new(cfg.clone(), secret);
    a.push(bytes);
    a.finish();
    let mut out = Vec::with_capacity(bytes.len());
    a.take_output(&mut out);
    (out, a.report().clone())
}

/// A streaming anonymiser: bytes in any chunks ([`push`](Self::push),
/// [`finish`](Self::finish)), anonymised bytes out
/// ([`take_output`](Self::take_output)). Output is held back only while a
/// message's frames have not all come.
#[derive(Debug)]
pub struct Anonymiser {
    cfg: Config,
    map: ids::Mapper,
    buf: Vec<u8>,
    start: usize,
    /// Bytes drained from the front of `buf` so far.
    drained: u64,
    eof: bool,
    /// Bare messages only at the start or right after another (as the decoder).
    bare_ok: bool,
    /// Where the last good HDLC frame's closing flag is (in the input): it
    /// is kept whatever follows it.
    closing_flag: Option<u64>,
    /// Where the last flag written is (in the input), so it goes out once.
    flag_out: Option<u64>,
    /// Where the last DSMR telegram left out ended, so it counts once.
    dsmr_left_end: Option<u64>,
    out: Out,
    hdlc: Option<Link>,
    mbus: Option<(u8, Link)>,
    gbt: Option<Gbt>,
    report: Report,
}

/// The output: bytes ready, and slots for frames whose message is not
/// complete yet, in input order.
#[derive(Debug, Default)]
struct Out {
    ready: Vec<u8>,
    slots: VecDeque<Option<Vec<u8>>>,
    /// The id of `slots[0]`.
    base: u64,
    /// Bytes in `slots`.
    held: usize,
}

impl Out {
    fn keep(&mut self, b: &[u8]) {
        if b.is_empty() {
            return;
        }
        if self.slots.is_empty() {
            self.ready.extend_from_slice(b);
            return;
        }
        self.held += b.len();
        match self.slots.back_mut() {
            Some(Some(last)) => last.extend_from_slice(b),
            _ => self.slots.push_back(Some(b.to_vec())),
        }
    }

    fn hold(&mut self) -> u64 {
        let id = self.base + self.slots.len() as u64;
        self.slots.push_back(None);
        id
    }

    fn set(&mut self, id: u64, b: Vec<u8>) {
        let slot = id.checked_sub(self.base).and_then(|i| usize::try_from(i).ok()).and_then(|i| self.slots.get_mut(i));
        if let Some(slot) = slot {
            self.held += b.len();
            *slot = Some(b);
        }
        while let Some(Some(_)) = self.slots.front() {
            if let Some(Some(b)) = self.slots.pop_front() {
                self.ready.extend_from_slice(&b);
            }
            self.base += 1;
        }
        if self.slots.is_empty() {
            self.held = 0;
        }
    }
}

/// One frame of a message, as it came.
#[derive(Debug)]
struct Rec {
    /// Its output slot.
    slot: u64,
    /// The frame as the decoder is given it (an HDLC frame with both flags).
    wire: Vec<u8>,
    kind: Kind,
    /// What it carries, in `wire`.
    payload: std::ops::Range<usize>,
}

#[derive(Debug, Clone)]
enum Kind {
    Hdlc {
        dst: Vec<u8>,
        src: Vec<u8>,
        control: u8,
        /// Whether its opening flag is its own, not the last frame's closing flag.
        own_flag: bool,
    },
    Mbus {
        c: u8,
        a: u8,
        tsap: [u8; 2],
    },
    /// A bare LLC PDU or APDU.
    Bare,
    /// A ciphered APDU found between frames (Luxembourg Smarty).
    Envelope,
}

impl Rec {
    fn payload(&self) -> &[u8] {
        self.wire.get(self.payload.clone()).unwrap_or_default()
    }

    /// The bytes it takes in the output when written as it came.
    fn as_came(&self) -> Vec<u8> {
        match &self.kind {
            Kind::Hdlc { own_flag, .. } => {
                let end = self.wire.len().saturating_sub(1);
                let from = usize::from(!own_flag);
                self.wire.get(from..end).unwrap_or_default().to_vec()
            }
            _ => self.wire.clone(),
        }
    }
}

/// The frames of one link-layer message (HDLC segments, M-Bus segments, or
/// one bare message).
#[derive(Debug, Default)]
struct Link {
    recs: Vec<Rec>,
}

impl Link {
    fn payload(&self) -> Vec<u8> {
        self.recs.iter().flat_map(|r| r.payload().iter().copied()).collect()
    }

    fn len(&self) -> usize {
        self.recs.iter().map(|r| r.payload.len()).sum()
    }
}

/// A General Block Transfer block: the link message it came in and its header.
#[derive(Debug)]
struct Block {
    link: Link,
    ctrl: u8,
    number: u16,
    ack: [u8; 2],
    llc: bool,
    data_len: usize,
}

/// Blocks of a block transfer so far.
#[derive(Debug, Default)]
struct Gbt {
    next: u16,
    blocks: Vec<Block>,
    len: usize,
}

enum Step {
    Wait,
    Advance(usize),
}

/// What the decoder made of some bytes.
#[derive(Default)]
struct Observed {
    readings: Vec<Reading>,
    errors: Vec<String>,
    /// The last complete APDU it saw (decrypted, reassembled).
    apdu: Option<Vec<u8>>,
    /// The last DSMR telegram it saw (one a ciphered frame carried).
    telegram: Option<Vec<u8>>,
}

impl Observed {
    fn only_reading(&self) -> Result<&Reading, String> {
        if let Some(e) = self.errors.first() {
            return Err(e.clone());
        }
        match self.readings.as_slice() {
            [r] => Ok(r),
            [] => Err("no reading".into()),
            _ => Err("more than one reading in one message".into()),
        }
    }

    /// The one reading of telegram `t`, when the decoder read it from `t`
    /// whole. Its test of a telegram's start is stricter than
    /// [`dsmr_start`]: it may pass over the `/` and read a telegram that
    /// starts later in `t`. What comes before that is then no part of a
    /// message (it may be a ciphered APDU, system title and all) and,
    /// written, may run into the bytes after it and swallow the telegram.
    fn telegram_reading(&self, t: &[u8]) -> Result<&Reading, String> {
        let r = self.only_reading()?;
        if self.telegram.as_deref() != Some(t) {
            return Err("no telegram at its '/' but one later in it".into());
        }
        Ok(r)
    }
}

impl Anonymiser {
    /// An anonymiser with the decoder's settings (framing, keys, time zone,
    /// profiles) and the secret that keys the new ids.
    pub fn new(cfg: Config, secret: [u8; 16]) -> Self {
        let cfg = Config { full_decode: true, ..cfg };
        Anonymiser {
            cfg,
            map: ids::Mapper::new(secret),
            buf: Vec::new(),
            start: 0,
            drained: 0,
            eof: false,
            bare_ok: true,
            closing_flag: None,
            flag_out: None,
            dsmr_left_end: None,
            out: Out::default(),
            hdlc: None,
            mbus: None,
            gbt: None,
            report: Report::default(),
        }
    }

    /// Appends input bytes and rewrites what it can.
    pub fn push(&mut self, bytes: &[u8]) {
        crate::stream::window::append(&mut self.buf, &mut self.start, &mut self.drained, bytes);
        self.run();
    }

    /// Marks the end of input: what is left is rewritten as far as it can
    /// be, and an unfinished frame or message is left out.
    pub fn finish(&mut self) {
        self.eof = true;
        self.run();
        let rest = self.buf.len().saturating_sub(self.start);
        if rest > 0 {
            self.noise(rest);
            self.report.left_out_frames += 1;
            self.report.reason("input ended inside a frame");
            self.start = self.buf.len();
        }
        self.abandon_all("input ended inside a segmented message");
    }

    /// Moves the bytes ready so far to `out`.
    pub fn take_output(&mut self, out: &mut Vec<u8>) {
        out.append(&mut self.out.ready);
    }

    /// What was done so far.
    pub fn report(&self) -> &Report {
        &self.report
    }

    fn run(&mut self) {
        while self.start < self.buf.len() {
            match self.step() {
                Step::Advance(n) => self.start += n.max(1),
                Step::Wait => break,
            }
            if self.out.held > MAX_HELD {
                self.abandon_all("a segmented message whose frames did not all come");
            }
        }
    }

    fn pos(&self) -> u64 {
        self.drained + self.start as u64
    }

    /// Bytes that are no frame: line ends and flags are kept, the rest left out.
    fn gap(&mut self, b: &[u8]) {
        if b.iter().all(|c| matches!(c, b'\r' | b'\n')) {
            self.out.keep(b);
            return;
        }
        self.bare_ok = false;
        for &c in b {
            if matches!(c, b'\r' | b'\n' | hdlc::FLAG) {
                self.out.keep(&[c]);
            } else {
                self.report.left_out_bytes += 1;
            }
        }
    }

    /// `n` bytes left out.
    fn noise(&mut self, n: usize) {
        self.bare_ok = false;
        self.report.left_out_bytes += n as u64;
    }

    fn step(&mut self) -> Step {
        let buf = std::mem::take(&mut self.buf);
        let step = self.step_on(buf.get(self.start..).unwrap_or(&[]));
        self.buf = buf;
        step
    }

    fn step_on(&mut self, avail: &[u8]) -> Step {
        let mode = self.cfg.framing;
        let bare_mode = matches!(mode, FramingMode::Llc | FramingMode::Apdu);
        if self.bare_ok || bare_mode {
            match bare_len(avail, mode == FramingMode::Llc) {
                Bare::Complete(n) => {
                    self.bare_ok = true;
                    let msg = avail.get(..n).unwrap_or(&[]);
                    let rec = Rec { slot: self.out.hold(), wire: msg.to_vec(), kind: Kind::Bare, payload: 0..n };
                    self.on_link(Link { recs: vec![rec] });
                    return Step::Advance(n);
                }
                Bare::NeedMore if !self.eof => return Step::Wait,
                Bare::NeedMore | Bare::No => {
                    if bare_mode {
                        self.noise(avail.len());
                        self.report.left_out_frames += 1;
                        self.report.reason("not a bare LLC PDU or APDU");
                        return Step::Advance(avail.len());
                    }
                    self.bare_ok = false;
                }
            }
        }
        let starts: &[u8] = match mode {
            FramingMode::Auto => &[hdlc::FLAG, mbus::START, b'/', crate::dlms::apdu::GLO_CIPHERING],
            FramingMode::Hdlc => &[hdlc::FLAG],
            FramingMode::Mbus => &[mbus::START],
            FramingMode::Dsmr => &[b'/', crate::dlms::apdu::GLO_CIPHERING],
            FramingMode::Llc | FramingMode::Apdu => &[],
        };
        let Some(p) = avail.iter().position(|b| starts.contains(b)) else {
            self.gap(avail);
            return Step::Advance(avail.len());
        };
        if p > 0 {
            self.gap(avail.get(..p).unwrap_or_default());
            return Step::Advance(p);
        }
        match avail.first() {
            Some(&hdlc::FLAG) => self.at_flag(avail),
            Some(&mbus::START) => self.at_mbus(avail),
            Some(&b'/') => self.at_slash(avail),
            _ => self.at_envelope(avail),
        }
    }

    /// A flag kept, once: the closing flag of a frame goes out as soon as
    /// the frame is there (a live link may not send the next for seconds),
    /// and is then also the next frame's opening flag.
    fn flag_out(&mut self) {
        let pos = self.pos();
        if self.flag_out != Some(pos) {
            self.flag_out = Some(pos);
            self.out.keep(&[hdlc::FLAG]);
        }
    }

    fn at_flag(&mut self, avail: &[u8]) -> Step {
        let shared = self.closing_flag == Some(self.pos());
        if shared {
            self.flag_out();
        }
        let flag_only = |me: &mut Self| {
            if !shared {
                me.noise(1);
            }
            Step::Advance(1)
        };
        match avail.get(1) {
            None if self.eof => {
                self.flag_out();
                return Step::Advance(1);
            }
            None => return Step::Wait,
            Some(&hdlc::FLAG) => {
                self.flag_out();
                return Step::Advance(1);
            }
            Some(_) if !hdlc::is_start(avail) => return flag_only(self),
            Some(_) => {}
        }
        match hdlc::parse(avail) {
            hdlc::Parse::NeedMore => Step::Wait,
            hdlc::Parse::Bad(error, _) => {
                self.report.left_out_frames += 1;
                self.report.reason(&error.to_string());
                flag_only(self)
            }
            hdlc::Parse::Frame { frame, len } => {
                let wire = avail.get(..len + 1).unwrap_or_default().to_vec();
                let info_at = (frame.info.as_ptr() as usize).wrapping_sub(avail.as_ptr() as usize);
                let payload = info_at..info_at + frame.info.len();
                let kind = Kind::Hdlc {
                    dst: frame.dst.to_vec(),
                    src: frame.src.to_vec(),
                    control: frame.control,
                    own_flag: !shared,
                };
                let rec = Rec { slot: self.out.hold(), wire, kind, payload };
                self.closing_flag = Some(self.pos() + len as u64);
                self.on_hdlc(rec, frame.segmented);
                Step::Advance(len)
            }
        }
    }

    fn on_hdlc(&mut self, rec: Rec, segmented: bool) {
        if rec.payload.is_empty() {
            // A frame without an information field carries nothing.
            let b = rec.as_came();
            self.out.set(rec.slot, b);
            return;
        }
        if rec.payload().starts_with(&LLC) {
            if let Some(old) = self.hdlc.take() {
                self.abandon(vec![old], "segmented HDLC message broken off by a new one");
            }
        }
        match (self.hdlc.take(), segmented) {
            (Some(mut link), seg) => {
                link.recs.push(rec);
                if link.len() > MAX_MESSAGE {
                    self.abandon(vec![link], "message too long");
                } else if seg {
                    self.hdlc = Some(link);
                } else {
                    self.on_link(link);
                }
            }
            (None, true) => self.hdlc = Some(Link { recs: vec![rec] }),
            (None, false) => self.on_link(Link { recs: vec![rec] }),
        }
    }

    fn at_mbus(&mut self, avail: &[u8]) -> Step {
        if avail.len() < 4 && !self.eof {
            return Step::Wait;
        }
        if !mbus::is_start(avail) {
            self.noise(1);
            return Step::Advance(1);
        }
        match mbus::parse(avail) {
            mbus::Parse::NeedMore => Step::Wait,
            mbus::Parse::Bad(error, _) => {
                self.report.left_out_frames += 1;
                self.report.reason(&error.to_string());
                self.noise(1);
                Step::Advance(1)
            }
            mbus::Parse::Frame { frame, len } => {
                let wire = avail.get(..len).unwrap_or_default().to_vec();
                let tsap = [frame.data.first().copied().unwrap_or(0), frame.data.get(1).copied().unwrap_or(0)];
                // C A CI STSAP DTSAP after `68 L L 68`.
                let payload = (9.min(len.saturating_sub(2)))..len.saturating_sub(2);
                let rec = Rec {
                    slot: self.out.hold(),
                    wire,
                    kind: Kind::Mbus { c: frame.control, a: frame.address, tsap },
                    payload,
                };
                if !frame.is_dlms_segment() {
                    // Other M-Bus data names its meter in its secondary address.
                    self.abandon_recs(vec![rec], "M-Bus frame that carries no DLMS");
                } else {
                    self.on_mbus(rec, frame.sequence(), frame.is_last());
                }
                Step::Advance(len)
            }
        }
    }

    fn on_mbus(&mut self, rec: Rec, seq: u8, last: bool) {
        let mut link = match self.mbus.take() {
            Some((next, link)) if next == seq && seq != 0 => link,
            Some((_, old)) => {
                self.abandon(vec![old], "M-Bus segment missing");
                if seq != 0 {
                    self.abandon_recs(vec![rec], "M-Bus segment without its first part");
                    return;
                }
                Link::default()
            }
            None if seq != 0 => {
                self.abandon_recs(vec![rec], "M-Bus segment without its first part");
                return;
            }
            None => Link::default(),
        };
        link.recs.push(rec);
        if !last {
            if link.len() > MAX_MESSAGE {
                self.abandon(vec![link], "message too long");
            } else {
                self.mbus = Some(((seq + 1) & 0x0F, link));
            }
            return;
        }
        self.on_link(link);
    }

    fn at_slash(&mut self, avail: &[u8]) -> Step {
        match dsmr_start(avail) {
            None if !self.eof => return Step::Wait,
            Some(true) => {}
            _ => {
                self.noise(1);
                return Step::Advance(1);
            }
        }
        match telegram::scan(avail, self.eof, MAX_TELEGRAM) {
            telegram::Scan::NeedMore => Step::Wait,
            telegram::Scan::Complete(n) => {
                let t = avail.get(..n).unwrap_or_default();
                match self.telegram(t) {
                    Ok((new, ids)) => {
                        self.out.keep(&new);
                        self.report.messages += 1;
                        self.report.ids += ids as u64;
                        Step::Advance(n)
                    }
                    Err(why) => {
                        let end = self.pos() + n as u64;
                        if self.dsmr_left_end != Some(end) {
                            self.dsmr_left_end = Some(end);
                            self.report.left_out_frames += 1;
                            self.report.reason(&why);
                        }
                        // A false start in noise may run into a real telegram.
                        self.noise(1);
                        Step::Advance(1)
                    }
                }
            }
            telegram::Scan::Restart(off) => {
                self.report.left_out_frames += 1;
                self.report.reason("DSMR telegram broken off by the next one");
                self.noise(off);
                Step::Advance(off)
            }
            telegram::Scan::TooLong => {
                self.noise(1);
                Step::Advance(1)
            }
        }
    }

    /// A DSMR telegram with its ids rewritten and its CRC computed again.
    /// Judged by the decoder as a stream, not by the telegram decoder alone:
    /// the stream also asks that it look like a telegram (its lines), and
    /// what is written must read in a stream.
    fn telegram(&self, t: &[u8]) -> Result<(Vec<u8>, usize), String> {
        let seen = observe(t, &self.cfg);
        let before = seen.telegram_reading(t)?;
        let (new, n) = ids::rewrite_telegram(t, &self.map)?;
        let after = observe(&new, &self.cfg);
        same_but_ids(before, after.telegram_reading(&new).map_err(|e| format!("rewritten, {e}"))?, false)?;
        Ok((new, n))
    }

    fn at_envelope(&mut self, avail: &[u8]) -> Step {
        match envelope_len(avail) {
            Bare::NeedMore if !self.eof => Step::Wait,
            Bare::Complete(n) => {
                let wire = avail.get(..n).unwrap_or_default().to_vec();
                let rec = Rec { slot: self.out.hold(), wire, kind: Kind::Envelope, payload: 0..n };
                self.complete(vec![Link { recs: vec![rec] }], None);
                Step::Advance(n)
            }
            _ => {
                self.noise(1);
                Step::Advance(1)
            }
        }
    }

    /// A complete link message: an APDU, or a block of a block transfer.
    fn on_link(&mut self, link: Link) {
        let payload = link.payload();
        let (llc, apdu) = match payload.strip_prefix(&LLC[..]) {
            Some(a) => (true, a),
            None => (false, &payload[..]),
        };
        if apdu.first() != Some(&crate::dlms::apdu::BLOCK_TRANSFER) {
            return self.complete(vec![link], None);
        }
        let block = match gbt::parse(apdu) {
            Ok(b) => b,
            Err(e) => return self.abandon(vec![link], &e.to_string()),
        };
        let mut acc = match self.gbt.take() {
            Some(g) if g.next == block.number => g,
            Some(g) => {
                self.abandon(g.blocks.into_iter().map(|b| b.link).collect(), "block transfer block missing");
                Gbt::default()
            }
            None => Gbt::default(),
        };
        if acc.blocks.is_empty() && block.number > 1 {
            return self.abandon(vec![link], "block transfer block without the blocks before it");
        }
        let (last, number, data_len) = (block.last, block.number, block.data.len());
        let ctrl = apdu.get(1).copied().unwrap_or(0);
        let ack = [apdu.get(4).copied().unwrap_or(0), apdu.get(5).copied().unwrap_or(0)];
        acc.len += data_len;
        acc.blocks.push(Block { link, ctrl, number, ack, llc, data_len });
        if !last {
            if acc.len > MAX_MESSAGE {
                self.abandon(acc.blocks.into_iter().map(|b| b.link).collect(), "message too long");
            } else {
                acc.next = number.wrapping_add(1);
                self.gbt = Some(acc);
            }
            return;
        }
        let mut links = Vec::with_capacity(acc.blocks.len());
        let mut headers = Vec::with_capacity(acc.blocks.len());
        for b in acc.blocks {
            headers.push(BlockHeader { ctrl: b.ctrl, number: b.number, ack: b.ack, llc: b.llc, data_len: b.data_len });
            links.push(b.link);
        }
        self.complete(links, Some(headers));
    }

    /// A whole message: decoded, rewritten, decoded again, written; or left out.
    fn complete(&mut self, links: Vec<Link>, blocks: Option<Vec<BlockHeader>>) {
        match self.rewrite(&links, blocks.as_deref()) {
            Ok(done) => {
                self.report.messages += 1;
                self.report.ids += done.ids as u64;
                self.report.decrypted += u64::from(done.decrypted);
                let recs = links.iter().flat_map(|l| l.recs.iter());
                for (rec, bytes) in recs.zip(done.outputs) {
                    self.out.set(rec.slot, bytes);
                }
            }
            Err(why) => self.abandon(links, &why),
        }
    }

    fn rewrite(&self, links: &[Link], blocks: Option<&[BlockHeader]>) -> Result<Rewritten, String> {
        let wire: Vec<u8> = links.iter().flat_map(|l| l.recs.iter()).flat_map(|r| r.wire.iter().copied()).collect();
        let seen = observe(&wire, &self.cfg);
        let before = seen.only_reading()?;
        let decrypted = before.encrypted;
        let recs: Vec<&Rec> = links.iter().flat_map(|l| l.recs.iter()).collect();
        if let (Some(t), crate::Protocol::P1) = (&seen.telegram, before.protocol) {
            // Smarty: the telegram takes the place of its envelope.
            let [rec] = recs.as_slice() else { return Err("a telegram carried in several frames".into()) };
            if !matches!(rec.kind, Kind::Bare | Kind::Envelope) {
                return Err("a telegram inside HAN frames".into());
            }
            let (mut new, ids) = ids::rewrite_telegram(t, &self.map)?;
            new.extend_from_slice(b"\r\n");
            let after = observe(&new, &self.cfg);
            same_but_ids(before, after.only_reading().map_err(|e| format!("rewritten, {e}"))?, decrypted)?;
            return Ok(Rewritten { outputs: vec![new], ids, decrypted });
        }
        let apdu = seen.apdu.as_deref().ok_or("no APDU")?;
        let (apdu, ids) = ids::rewrite_apdu(apdu, before, &self.map)?;
        if decrypted && recs.iter().any(|r| matches!(r.kind, Kind::Envelope)) {
            // The decoder looks for a bare APDU only at the start of the
            // input or after another: between frames it would be lost.
            return Err("a ciphered APDU between frames: decrypted, it has no frame to go in".into());
        }
        let outputs = distribute(links, blocks, &apdu);
        let new_wire: Vec<u8> = outputs.iter().flat_map(|(_, w)| w.iter().copied()).collect();
        let after = observe(&new_wire, &self.cfg);
        same_but_ids(before, after.only_reading().map_err(|e| format!("rewritten, {e}"))?, decrypted)?;
        Ok(Rewritten { outputs: outputs.into_iter().map(|(o, _)| o).collect(), ids, decrypted })
    }

    fn abandon(&mut self, links: Vec<Link>, why: &str) {
        let recs = links.into_iter().flat_map(|l| l.recs).collect();
        self.abandon_recs(recs, why);
    }

    fn abandon_recs(&mut self, recs: Vec<Rec>, why: &str) {
        if recs.is_empty() {
            return;
        }
        self.report.reason(why);
        for rec in recs {
            self.report.left_out_frames += 1;
            self.report.left_out_bytes += rec.as_came().len() as u64;
            self.out.set(rec.slot, Vec::new());
        }
    }

    fn abandon_all(&mut self, why: &str) {
        let mut links: Vec<Link> = Vec::new();
        links.extend(self.hdlc.take());
        links.extend(self.mbus.take().map(|m| m.1));
        if let Some(g) = self.gbt.take() {
            links.extend(g.blocks.into_iter().map(|b| b.link));
        }
        if !links.is_empty() {
            self.abandon(links, why);
        }
    }
}

/// A block's header, for writing the block again.
#[derive(Debug, Clone, Copy)]
struct BlockHeader {
    ctrl: u8,
    number: u16,
    ack: [u8; 2],
    llc: bool,
    data_len: usize,
}

/// A message rewritten: each frame's output (empty for a frame no longer
/// needed), the ids rewritten, whether it was decrypted.
struct Rewritten {
    outputs: Vec<Vec<u8>>,
    ids: usize,
    decrypted: bool,
}

/// A BER length.
fn ber(n: usize, out: &mut Vec<u8>) {
    match n {
        0..=0x7F => out.push(n as u8),
        0x80..=0xFF => out.extend_from_slice(&[0x81, n as u8]),
        _ => out.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]),
    }
}

/// The APDU back into the frames it came in: split into blocks of the
/// sizes the block transfer had, and each link message into frames of the
/// sizes its frames had (fewer blocks and frames when it is shorter). For
/// each frame: its output bytes and its bytes as the decoder is given them.
fn distribute(links: &[Link], blocks: Option<&[BlockHeader]>, apdu: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut payloads: Vec<Option<Vec<u8>>> = Vec::with_capacity(links.len());
    match blocks {
        Some(headers) => {
            let mut rest = apdu;
            for (i, h) in headers.iter().enumerate() {
                if rest.is_empty() {
                    payloads.push(None);
                    continue;
                }
                let take = if i + 1 == headers.len() { rest.len() } else { h.data_len.min(rest.len()) };
                let (data, tail) = rest.split_at(take);
                rest = tail;
                let last = rest.is_empty();
                let mut p = Vec::with_capacity(data.len() + 12);
                if h.llc {
                    p.extend_from_slice(&LLC);
                }
                p.extend_from_slice(&[
                    crate::dlms::apdu::BLOCK_TRANSFER,
                    if last { h.ctrl | 0x80 } else { h.ctrl & 0x7F },
                ]);
                p.extend_from_slice(&h.number.to_be_bytes());
                p.extend_from_slice(&h.ack);
                ber(data.len(), &mut p);
                p.extend_from_slice(data);
                payloads.push(Some(p));
            }
        }
        None => {
            let llc = links.first().is_some_and(|l| l.payload().starts_with(&LLC));
            let mut p = Vec::with_capacity(apdu.len() + 3);
            if llc {
                p.extend_from_slice(&LLC);
            }
            p.extend_from_slice(apdu);
            payloads.push(Some(p));
        }
    }
    let mut out = Vec::new();
    for (i, link) in links.iter().enumerate() {
        match payloads.get(i).and_then(Option::as_ref) {
            Some(p) => frames(link, p, &mut out),
            None => out.extend(link.recs.iter().map(|_| (Vec::new(), Vec::new()))),
        }
    }
    out
}

/// A link message's payload into frames of the sizes its frames had.
fn frames(link: &Link, payload: &[u8], out: &mut Vec<(Vec<u8>, Vec<u8>)>) {
    let mut rest = payload;
    let n = link.recs.len();
    for (i, rec) in link.recs.iter().enumerate() {
        if rest.is_empty() && i > 0 {
            out.push((Vec::new(), Vec::new()));
            continue;
        }
        let take = if i + 1 == n { rest.len() } else { rec.payload.len().min(rest.len()) };
        let (chunk, tail) = rest.split_at(take);
        rest = tail;
        let more = !rest.is_empty();
        match &rec.kind {
            Kind::Hdlc { dst, src, control, own_flag } => {
                let wire = hdlc::encode_with_control(dst, src, more, *control, chunk);
                let from = usize::from(!own_flag);
                let shown = wire.get(from..wire.len().saturating_sub(1)).unwrap_or_default().to_vec();
                out.push((shown, wire));
            }
            Kind::Mbus { c, a, tsap } => {
                let seq = u8::try_from(i).unwrap_or(0) & 0x0F;
                let ci = seq | if more { 0 } else { 0x10 };
                let mut body = vec![*c, *a, ci, tsap[0], tsap[1]];
                body.extend_from_slice(chunk);
                let l = u8::try_from(body.len()).unwrap_or(u8::MAX);
                let cs = body.iter().fold(0u8, |s, b| s.wrapping_add(*b));
                let mut f = vec![mbus::START, l, l, mbus::START];
                f.extend_from_slice(&body);
                f.extend_from_slice(&[cs, mbus::STOP]);
                out.push((f.clone(), f));
            }
            Kind::Bare | Kind::Envelope => out.push((chunk.to_vec(), chunk.to_vec())),
        }
    }
}

/// Decodes some bytes as a whole input, and keeps what the decoder saw.
fn observe(wire: &[u8], cfg: &Config) -> Observed {
    #[derive(Default)]
    struct Sink {
        apdu: Option<Vec<u8>>,
        telegram: Option<Vec<u8>>,
    }
    let sink = Arc::new(Mutex::new(Sink::default()));
    let mut d = Decoder::new(Config { framing: FramingMode::Auto, ..cfg.clone() });
    let seen = Arc::clone(&sink);
    d.observe(Box::new(move |s| {
        let Ok(mut k) = seen.lock() else { return };
        match s {
            Seen::Apdu(a) => k.apdu = Some(a.to_vec()),
            Seen::Frame { framing: Framing::Dsmr, bytes } => k.telegram = Some(bytes.to_vec()),
            Seen::Frame { .. } => {}
        }
    }));
    d.push(wire);
    d.finish();
    let mut o = Observed::default();
    while let Some(e) = d.next_event() {
        match e {
            Event::Reading(r) => o.readings.push(*r),
            Event::Rejected { error, .. } => o.errors.push(error.to_string()),
        }
    }
    drop(d);
    if let Ok(mut k) = sink.lock() {
        o.apdu = k.apdu.take();
        o.telegram = k.telegram.take();
    }
    o
}

/// Whether two readings hold the same values but for the ids, and every id
/// that tells something changed. `decrypted`: the second is the first
/// written decrypted (it is no longer `encrypted`, and a manufacturer only
/// the system title named is gone with it).
fn same_but_ids(before: &Reading, after: &Reading, decrypted: bool) -> Result<(), String> {
    for (code, v) in ids::telling_ids(before) {
        match after.obis.get(code) {
            Some(o) if &o.value != v => {}
            _ => return Err(format!("its id {code} could not be rewritten")),
        }
    }
    if before.meter_id.is_some() && after.meter_id == before.meter_id {
        return Err("its meter id could not be rewritten".into());
    }
    if masked(before, decrypted) != masked(after, decrypted) {
        return Err("rewriting its ids would change its values".into());
    }
    Ok(())
}

/// A reading as JSON without its ids (and what decryption changes).
fn masked(r: &Reading, decrypted: bool) -> serde_json::Value {
    let mut v = serde_json::to_value(r).unwrap_or_default();
    if let Some(m) = v.as_object_mut() {
        m.remove("meter_id");
        if decrypted {
            m.remove("encrypted");
            m.remove("manufacturer");
            if m.get("framing").and_then(|f| f.as_str()) == Some(Framing::DsmrEncrypted.name()) {
                m.insert("framing".into(), Framing::Dsmr.name().into());
            }
        }
        if let Some(obis) = m.get_mut("obis").and_then(|o| o.as_object_mut()) {
            for o in r.obis.iter().filter(|o| is_id_code(o.code)) {
                obis.remove(&o.code.to_string());
            }
        }
        if let Some(subs) = m.get_mut("submeters").and_then(|s| s.as_array_mut()) {
            for s in subs.iter_mut().filter_map(|s| s.as_object_mut()) {
                s.remove("id");
            }
        }
    }
    v
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]
mod tests;
