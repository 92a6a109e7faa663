//! DLMS APDUs that push ports send: data-notification, and the ciphered
//! envelopes around it.

use chrono_tz::Tz;

use crate::dlms::axdr::{self, Node, Tree, ber_length};
use crate::dlms::cipher::{self, Check, Keys};
use crate::dlms::lists;
use crate::error::Error;
use crate::reading::time::cosem_datetime;
use crate::reading::{Framing, Protocol, Reading};
use crate::template::Slot;

/// data-notification.
pub const DATA_NOTIFICATION: u8 = 0x0F;
/// general-glo-ciphering.
pub const GLO_CIPHERING: u8 = 0xDB;
/// general-ded-ciphering.
pub const DED_CIPHERING: u8 = 0xDC;
/// general-block-transfer.
pub const BLOCK_TRANSFER: u8 = 0xE0;

/// What an APDU decoder needs besides the bytes.
#[derive(Debug)]
pub(crate) struct Context<'a> {
    pub keys: &'a Keys,
    pub tz: Option<&'a Tz>,
    /// A-XDR nodes, reused from message to message.
    pub nodes: &'a mut Vec<Node>,
    /// The list mapper's buffers, reused likewise.
    pub scratch: &'a mut lists::Scratch,
    /// Who wants to see each APDU.
    pub observer: &'a mut crate::stream::ObserverSlot,
    /// Readings handed back for reuse (boxed: they leave as boxed events).
    #[allow(clippy::vec_box)]
    pub spare: &'a mut Vec<Box<Reading>>,
    /// Messages decoded before, to decode only what changed; `None`
    /// decodes every message in full.
    pub templates: Option<&'a mut crate::template::Templates>,
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
            ctx.observer.see(crate::stream::Seen::Apdu(apdu));
            data_notification(apdu, framing, ctx)
        }
        Some(&GLO_CIPHERING) | Some(&DED_CIPHERING) => {
            let (title, sc, plain, check) = decipher(apdu, ctx.keys)?;
            // Decrypted with no tag to vouch for the key: only a message a
            // meter sends tells that it was the right one. Noise from a
            // wrong key is that error, never values.
            if matches!(check, Check::NoTag | Check::Unchecked) && !plausible(&plain, ctx.nodes) {
                return Err(Error::WrongKey);
            }
            if plain.first() != Some(&b'/') {
                ctx.observer.see(crate::stream::Seen::Apdu(&plain));
            }
            let mut out = match plain.first() {
                Some(&DATA_NOTIFICATION) => data_notification(&plain, framing, ctx)?,
                Some(&b'/') => {
                    let framing =
                        if matches!(framing, Framing::Dsmr | Framing::Apdu) { Framing::DsmrEncrypted } else { framing };
                    let t = frame_plaintext(&plain).ok_or(Error::WrongKey)?;
                    ctx.observer.see(crate::stream::Seen::Frame { framing: Framing::Dsmr, bytes: t });
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
                    r.manufacturer = flag_manufacturer(&title);
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

/// `DB | 08 | system-title | len | SC | IC | content`: checks, deciphers,
/// and returns the system title, the security control, the plaintext and
/// how far it is vouched for.
fn decipher(apdu: &[u8], keys: &Keys) -> Result<([u8; 8], u8, Vec<u8>, Check), Error> {
    let bad = |what| Error::Axdr { offset: 0, what };
    let st_len = usize::from(*apdu.get(1).ok_or(bad("ciphered APDU too short"))?);
    if st_len != 8 {
        return Err(bad("system title is not 8 bytes"));
    }
    let title: [u8; 8] = apdu.get(2..10).and_then(|s| s.try_into().ok()).ok_or(bad("ciphered APDU too short"))?;
    let mut pos = 10;
    let len = ber_length(apdu, &mut pos).ok_or(bad("ciphered APDU length invalid"))?;
    let body = pos.checked_add(len).and_then(|e| apdu.get(pos..e)).ok_or(Error::Truncated(apdu.len()))?;
    let [sc, c0, c1, c2, c3, ..] = *body else { return Err(bad("ciphered APDU too short")) };
    let content = body.get(5..).unwrap_or(&[]);
    let (plain, check) = cipher::open(&title, sc, u32::from_be_bytes([c0, c1, c2, c3]), content, keys)?;
    Ok((title, sc, plain, check))
}

/// Whether a plaintext that no tag vouches for is a message a meter sends:
/// a data-notification whose A-XDR body ends exactly where the plaintext
/// does, a DSMR telegram (Smarty), or a block transfer whose block fills
/// it. A wrong key decrypts to noise: its first byte and date-time form
/// pass once in about 30 000 frames, and it must then still decode to
/// exactly its own length.
fn plausible(plain: &[u8], nodes: &mut Vec<Node>) -> bool {
    match plain.first() {
        Some(&DATA_NOTIFICATION) => {
            let body_at = match (plain.get(5), plain.get(6)) {
                (Some(0x00), _) => 6,
                (Some(0x0C), _) => 18,
                (Some(0x09), Some(0x0C)) => 19,
                _ => return false,
            };
            axdr::decode_into(plain, body_at, nodes).is_ok_and(|end| end == plain.len())
        }
        Some(&b'/') => frame_plaintext(plain).is_some(),
        Some(&BLOCK_TRANSFER) => crate::framing::gbt::parse(plain).is_ok_and(|b| {
            let at = (b.data.as_ptr() as usize).wrapping_sub(plain.as_ptr() as usize);
            at.saturating_add(b.data.len()) == plain.len()
        }),
        _ => false,
    }
}

/// The manufacturer named by a system title's three-letter FLAG id.
pub(crate) fn flag_manufacturer(title: &[u8]) -> Option<&'static str> {
    Some(match title.get(..3)? {
        b"KFM" => "Kaifa",
        b"KAM" => "Kamstrup",
        b"SAG" | b"SYS" => "Sagemcom",
        b"LGZ" => "Landis+Gyr",
        b"ISK" => "Iskra",
        b"AIDON" | b"ADN" => "Aidon",
        b"ELG" | b"GAM" => "Elgama",
        b"NES" | b"ECH" => "NES",
        _ => return None,
    })
}

/// `0F | long-invoke-id (4) | date-time | body`.
fn data_notification(apdu: &[u8], framing: Framing, ctx: &mut Context<'_>) -> Result<Outcome, Error> {
    let bad = |offset, what| Error::Axdr { offset, what };
    if apdu.len() < 6 {
        return Err(bad(0, "data-notification too short"));
    }
    // The date-time is an untagged octet string (`00` absent, `0C` + 12)
    // but Kaifa writes it tagged (`09 0C` + 12).
    let (time_at, body_at) = match (apdu.get(5), apdu.get(6)) {
        (Some(0x00), _) => (6..6, 6),
        (Some(0x0C), _) => (6..18, 18),
        (Some(0x09), Some(0x0C)) => (7..19, 19),
        _ => return Err(bad(5, "data-notification date-time invalid")),
    };
    let header_time = match apdu.get(time_at.clone()).filter(|t| !t.is_empty()) {
        Some(t) => cosem_datetime(t).and_then(|c| c.time.map(|t| t.with_zone(ctx.tz, c.dst))),
        None if body_at > 6 => return Err(bad(5, "data-notification date-time truncated")),
        None => None,
    };
    if let Some(t) = ctx.templates.as_deref_mut() {
        if let Some(slot) = t.han(apdu, framing, header_time, ctx.tz) {
            return Ok(Outcome::Template(slot));
        }
    }
    // Boxed from the start: a reading is ~1 KiB and would otherwise be
    // copied on its way out; a recycled one keeps its object list.
    let mut r = ctx.spare.pop().unwrap_or_else(|| Box::new(Reading::new(Protocol::Han, framing)));
    r.reset(Protocol::Han, framing);
    // The invoke id is in no reading; the header time is always read again.
    let free = [1..5, time_at];
    match full_decode(apdu, body_at, &free, header_time, ctx, &mut r) {
        Ok(None) => Ok(Outcome::Reading(r)),
        // The reading moved into a template, which lends it.
        Ok(Some(slot)) => {
            ctx.spare.push(r);
            Ok(Outcome::Template(slot))
        }
        Err(e) => {
            ctx.spare.push(r);
            Err(e)
        }
    }
}

/// Decodes a data-notification's body from scratch: the template the
/// reading moved into, or `None` when `r` holds it.
fn full_decode(
    apdu: &[u8],
    body_at: usize,
    free: &[std::ops::Range<usize>],
    header_time: Option<crate::reading::time::MeterTime>,
    ctx: &mut Context<'_>,
    r: &mut Reading,
) -> Result<Option<Slot>, Error> {
    axdr::decode_into(apdu, body_at, ctx.nodes)?;
    let tree = Tree { bytes: apdu, nodes: ctx.nodes };
    lists::map(&tree, r, ctx.tz, ctx.scratch)?;
    if r.meter_time.is_none() {
        r.meter_time = header_time;
    }
    let summed = crate::reading::normalise::normalise(r);
    Ok(ctx.templates.as_deref_mut().and_then(|t| t.learn_han(apdu, free, ctx.nodes, ctx.scratch, r, summed)))
}

/// The telegram inside a decrypted Smarty frame: `/` through its CRC.
fn frame_plaintext(plain: &[u8]) -> Option<&[u8]> {
    match crate::framing::telegram::scan(plain, true, plain.len()) {
        crate::framing::telegram::Scan::Complete(n) => plain.get(..n),
        _ => None,
    }
}

/// Wraps a plaintext APDU in general-glo-ciphering the way a meter does
/// (`DB 08 <title> <len> SC IC <ciphertext> [tag]`): for simulators and
/// tests. `sc` 0x20 encrypts only, 0x30 also authenticates with `auth_key`.
pub fn encrypt(system_title: &[u8; 8], sc: u8, ic: u32, plain: &[u8], key: &[u8; 16], auth_key: &[u8; 16]) -> Vec<u8> {
    let sealed = cipher::seal(system_title, sc, ic, plain, key, auth_key);
    let len = 5 + sealed.len();
    let mut out = vec![GLO_CIPHERING, 8];
    out.extend_from_slice(system_title);
    match len {
        0..=0x7F => out.push(len as u8),
        0x80..=0xFF => out.extend_from_slice(&[0x81, len as u8]),
        _ => out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]),
    }
    out.push(sc);
    out.extend_from_slice(&ic.to_be_bytes());
    out.extend_from_slice(&sealed);
    out
}
