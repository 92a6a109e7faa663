//! A whole message to a reading: an APDU (deciphered first when ciphered)
//! or a DSMR telegram. The template is asked first; on a miss the pure
//! decoder ([`crate::dlms::apdu`], [`crate::p1`]) reads the message in full
//! and the template learns it.

use chrono_tz::Tz;

use super::{ObserverSlot, Seen};
use crate::dlms::apdu::{self, BLOCK_TRANSFER, DATA_NOTIFICATION, DED_CIPHERING, GLO_CIPHERING};
use crate::dlms::axdr::Node;
use crate::dlms::cipher::{Check, Keys};
use crate::dlms::lists;
use crate::error::Error;
use crate::framing::{gbt, telegram};
use crate::reading::{Framing, Protocol, Reading};
use crate::template::{Slot, Templates};

/// What decoding an APDU needs besides the bytes.
#[derive(Debug)]
pub(crate) struct Context<'a> {
    pub keys: &'a Keys,
    pub tz: Option<&'a Tz>,
    /// A-XDR nodes, reused from message to message.
    pub nodes: &'a mut Vec<Node>,
    /// The list mapper's buffers, reused likewise.
    pub scratch: &'a mut lists::Scratch,
    /// Who wants to see each APDU.
    pub observer: &'a mut ObserverSlot,
    /// Readings handed back for reuse (boxed: they leave as boxed events).
    #[allow(clippy::vec_box)]
    pub spare: &'a mut Vec<Box<Reading>>,
    /// Messages decoded before, to decode only what changed; `None`
    /// decodes every message in full.
    pub templates: Option<&'a mut Templates>,
    /// Set to the security control of a frame that carried a tag but was
    /// decrypted without checking it (no authentication key given).
    pub unauthenticated: Option<u8>,
}

/// The outcome of an APDU: a reading, or a GBT block to assemble.
#[derive(Debug)]
pub(crate) enum Outcome {
    Reading(Box<Reading>),
    /// A reading a template made, where it is.
    Template(Slot),
    /// The decrypted content is a General Block Transfer block (rare: GBT
    /// normally wraps the ciphering, not the other way round).
    Block(Vec<u8>),
}

/// Decodes a complete APDU.
pub(crate) fn decode(apdu: &[u8], framing: Framing, ctx: &mut Context<'_>) -> Result<Outcome, Error> {
    match apdu.first() {
        Some(&DATA_NOTIFICATION) => {
            ctx.observer.see(Seen::Apdu(apdu));
            data_notification(apdu, framing, ctx)
        }
        Some(&GLO_CIPHERING) | Some(&DED_CIPHERING) => {
            let (title, sc, plain, check) = apdu::decipher(apdu, ctx.keys)?;
            // Decrypted with no tag to vouch for the key: only a message a
            // meter sends tells that it was the right one. Noise from a
            // wrong key is that error, never values.
            if matches!(check, Check::NoTag | Check::Unchecked) && !plausible(&plain, ctx.nodes) {
                return Err(Error::WrongKey);
            }
            if plain.first() != Some(&b'/') {
                ctx.observer.see(Seen::Apdu(&plain));
            }
            let mut out = match plain.first() {
                Some(&DATA_NOTIFICATION) => data_notification(&plain, framing, ctx)?,
                Some(&b'/') => {
                    let framing =
                        if matches!(framing, Framing::Dsmr | Framing::Apdu) { Framing::DsmrEncrypted } else { framing };
                    let t = frame_plaintext(&plain).ok_or(Error::WrongKey)?;
                    ctx.observer.see(Seen::Frame { framing: Framing::Dsmr, bytes: t });
                    let mut r = crate::p1::decode_telegram(t, ctx.tz)?;
                    r.framing = framing;
                    Outcome::Reading(Box::new(r))
                }
                Some(&BLOCK_TRANSFER) => Outcome::Block(plain),
                _ => return Err(if ctx.keys.key.is_some() { Error::WrongKey } else { Error::MissingKey(0) }),
            };
            let r = match &mut out {
                Outcome::Reading(r) => Some(&mut **r),
                Outcome::Template(slot) => ctx.templates.as_deref_mut().and_then(|t| t.reading_mut(*slot)),
                Outcome::Block(_) => None,
            };
            if let Some(r) = r {
                r.encrypted = true;
                if r.manufacturer.is_none() {
                    r.manufacturer = apdu::flag_manufacturer(&title);
                }
            }
            if check == Check::Unchecked {
                ctx.unauthenticated = Some(sc);
            }
            Ok(out)
        }
        Some(&t) => Err(Error::UnsupportedApdu(t)),
        None => Err(Error::UnsupportedApdu(0)),
    }
}

/// Whether a plaintext that no tag vouches for is a message a meter sends:
/// a data-notification that decodes to exactly its own length, a DSMR
/// telegram (Smarty), or a block transfer whose block fills it.
fn plausible(plain: &[u8], nodes: &mut Vec<Node>) -> bool {
    match plain.first() {
        Some(&DATA_NOTIFICATION) => apdu::notification_plausible(plain, nodes),
        Some(&b'/') => frame_plaintext(plain).is_some(),
        Some(&BLOCK_TRANSFER) => gbt::parse(plain).is_ok_and(|b| {
            let at = (b.data.as_ptr() as usize).wrapping_sub(plain.as_ptr() as usize);
            at.saturating_add(b.data.len()) == plain.len()
        }),
        _ => false,
    }
}

/// A data-notification: from a template when one fits, else decoded in
/// full and learnt.
fn data_notification(apdu: &[u8], framing: Framing, ctx: &mut Context<'_>) -> Result<Outcome, Error> {
    let header = apdu::header(apdu, ctx.tz)?;
    if let Some(t) = ctx.templates.as_deref_mut() {
        if let Some(slot) = t.han(apdu, framing, header.time, ctx.tz) {
            return Ok(Outcome::Template(slot));
        }
    }
    // Boxed from the start: a reading is ~1 KiB and would otherwise be
    // copied on its way out; a recycled one keeps its object list.
    let mut r = ctx.spare.pop().unwrap_or_else(|| Box::new(Reading::new(Protocol::Han, framing)));
    let summed = match apdu::decode_notification(apdu, framing, &header, ctx.tz, ctx.nodes, ctx.scratch, &mut r) {
        Ok(summed) => summed,
        Err(e) => {
            ctx.spare.push(r);
            return Err(e);
        }
    };
    let learnt = ctx
        .templates
        .as_deref_mut()
        .and_then(|t| t.learn_han(apdu, &header.free(), ctx.nodes, ctx.scratch, &mut r, summed));
    match learnt {
        None => Ok(Outcome::Reading(r)),
        // The reading moved into a template, which lends it.
        Some(slot) => {
            ctx.spare.push(r);
            Ok(Outcome::Template(slot))
        }
    }
}

/// The telegram inside a decrypted Smarty frame: `/` through its CRC.
fn frame_plaintext(plain: &[u8]) -> Option<&[u8]> {
    match telegram::scan(plain, true, plain.len()) {
        telegram::Scan::Complete(n) => plain.get(..n),
        _ => None,
    }
}
