//! Reassembly: the pieces of one message (HDLC segments, M-Bus segment
//! sequences, General Block Transfer blocks) into one APDU, and the APDU
//! to the message decoder.

use super::message::{self, Context, Outcome};
use super::{Decoder, Event, Queued};
use crate::dlms::apdu::BLOCK_TRANSFER;
use crate::error::Error;
use crate::framing::{LLC, MAX_MESSAGE, gbt};
use crate::reading::Framing;

impl Decoder {
    /// At the end of the data: an unfinished reassembly is reported.
    pub(super) fn end_of_data(&mut self) {
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

    pub(super) fn on_hdlc(&mut self, segmented: bool, info: &[u8], raw: &[u8]) {
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

    pub(super) fn on_mbus(&mut self, seq: u8, last: bool, payload: &[u8], raw: &[u8]) {
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

    /// A complete APDU (after framing, segments and LLC).
    pub(super) fn on_apdu(&mut self, apdu: &[u8], framing: Framing, raw: &[u8]) {
        if apdu.first() == Some(&BLOCK_TRANSFER) {
            return self.on_block(apdu, framing, raw);
        }
        self.decode(apdu, framing, raw, false);
    }

    /// `in_block`: the APDU was reassembled from a block transfer, so it may
    /// not decipher to another block (that would recurse once per nesting,
    /// as deep as the message is long, and overflow the stack).
    pub(super) fn decode(&mut self, apdu: &[u8], framing: Framing, raw: &[u8], in_block: bool) {
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
        let decoded = message::decode(apdu, framing, &mut ctx);
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

    pub(super) fn on_block(&mut self, apdu: &[u8], framing: Framing, raw: &[u8]) {
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
