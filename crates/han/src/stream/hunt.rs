//! Hunting: finding the frame or telegram that starts in the buffered
//! bytes (HDLC `7E Ax`, M-Bus `68 L L 68`, a DSMR identification line
//! `/...` followed by data lines, a Smarty `DB 08` envelope, a bare
//! message), checking it, and on any failure moving one byte on to hunt
//! again.

use super::{Decoder, Event, FramingMode, Queued, Seen, Step};
use crate::dlms::apdu::GLO_CIPHERING;
use crate::error::Error;
use crate::framing::bare::{Bare, bare_len, dsmr_plausible, envelope_len};
use crate::framing::telegram::{self, MAX_TELEGRAM};
use crate::framing::{LLC, hdlc, mbus};
use crate::p1;
use crate::reading::{Framing, Protocol, Reading};

impl Decoder {
    pub(super) fn skip(&mut self, n: usize) -> Step {
        self.stats.resyncs += 1;
        self.stats.skipped_bytes += n as u64;
        self.bare_ok = false;
        Step::Advance(n)
    }

    /// One step at `start`: hunt, or check the frame that starts there.
    /// The buffer is taken out for the step, so frames are decoded where
    /// they lie instead of being copied.
    pub(super) fn step(&mut self) -> Step {
        let buf = std::mem::take(&mut self.buf);
        let step = self.step_on(buf.get(self.start..).unwrap_or(&[]));
        self.buf = buf;
        step
    }

    pub(super) fn step_on(&mut self, avail: &[u8]) -> Step {
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

    pub(super) fn at_flag(&mut self, avail: &[u8]) -> Step {
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

    pub(super) fn at_mbus(&mut self, avail: &[u8]) -> Step {
        if avail.len() < 4 && !self.eof {
            return Step::Wait;
        }
        if !mbus::is_start(avail) {
            return self.skip(1);
        }
        match mbus::parse(avail) {
            mbus::Parse::NeedMore => Step::Wait,
            mbus::Parse::Bad(error, n) => {
                // An `h..h` inside a telegram already rejected is part of
                // bytes reported once already, not a frame of its own.
                if !self.in_rejected_telegram() {
                    let bytes = avail.get(..n.min(avail.len())).unwrap_or(&[]).to_vec();
                    self.reject(error, bytes);
                }
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

    /// Whether the hunt is inside the bytes of the last DSMR telegram
    /// rejected (it looks for frames there again, from the next byte).
    pub(super) fn in_rejected_telegram(&self) -> bool {
        self.dsmr_rejected_end.is_some_and(|end| self.drained + (self.start as u64) < end)
    }

    pub(super) fn at_slash(&mut self, avail: &[u8]) -> Step {
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
                let tz = self.cfg.tz.as_ref();
                let decoded = if self.cfg.full_decode {
                    p1::decode_telegram_into(t, tz, &mut r).map(|()| None)
                } else {
                    self.templates.telegram(t, tz, &mut r)
                };
                match decoded {
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
    pub(super) fn at_envelope(&mut self, avail: &[u8]) -> Step {
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
}
