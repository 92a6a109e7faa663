//! DLMS APDUs that push ports send: data-notification, and the ciphered
//! envelopes around it.

use std::ops::Range;

use chrono_tz::Tz;

use crate::dlms::axdr::{self, Node, Tree, ber_length};
use crate::dlms::cipher::{self, Check, Keys};
use crate::dlms::lists;
use crate::error::Error;
use crate::reading::normalise::Summed;
use crate::reading::time::{MeterTime, cosem_datetime};
use crate::reading::{Framing, Protocol, Reading};

/// data-notification.
pub const DATA_NOTIFICATION: u8 = 0x0F;
/// general-glo-ciphering.
pub const GLO_CIPHERING: u8 = 0xDB;
/// general-ded-ciphering.
pub const DED_CIPHERING: u8 = 0xDC;
/// general-block-transfer.
pub const BLOCK_TRANSFER: u8 = 0xE0;

/// `DB | 08 | system-title | len | SC | IC | content`: checks, deciphers,
/// and returns the system title, the security control, the plaintext and
/// how far it is vouched for.
pub(crate) fn decipher(apdu: &[u8], keys: &Keys) -> Result<([u8; 8], u8, Vec<u8>, Check), Error> {
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

/// Whether a plaintext that no tag vouches for is a data-notification a
/// meter sends: one whose A-XDR body ends exactly where the plaintext
/// does. A wrong key decrypts to noise: its first byte and date-time form
/// pass once in about 30 000 frames, and it must then still decode to
/// exactly its own length.
pub(crate) fn notification_plausible(plain: &[u8], nodes: &mut Vec<Node>) -> bool {
    let body_at = match (plain.get(5), plain.get(6)) {
        (Some(0x00), _) => 6,
        (Some(0x0C), _) => 18,
        (Some(0x09), Some(0x0C)) => 19,
        _ => return false,
    };
    axdr::decode_into(plain, body_at, nodes).is_ok_and(|end| end == plain.len())
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

/// The header of a data-notification, `0F | long-invoke-id (4) | date-time`.
#[derive(Clone, Debug)]
pub(crate) struct Header {
    /// Where the date-time's bytes are (empty: none).
    pub time_at: Range<usize>,
    /// Where the body starts.
    pub body_at: usize,
    /// The date-time, when there is one and it is a time.
    pub time: Option<MeterTime>,
}

impl Header {
    /// The header bytes no reading depends on or that are always read
    /// again: the invoke id and the date-time.
    pub(crate) fn free(&self) -> [Range<usize>; 2] {
        [1..5, self.time_at.clone()]
    }
}

/// Reads the header of a data-notification.
pub(crate) fn header(apdu: &[u8], tz: Option<&Tz>) -> Result<Header, Error> {
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
    let time = match apdu.get(time_at.clone()).filter(|t| !t.is_empty()) {
        Some(t) => cosem_datetime(t).and_then(|c| c.time.map(|t| t.with_zone(tz, c.dst))),
        None if body_at > 6 => return Err(bad(5, "data-notification date-time truncated")),
        None => None,
    };
    Ok(Header { time_at, body_at, time })
}

/// Decodes a data-notification's body from scratch into `r` (reset
/// first): the totals its quantities sum from tariffs. `nodes` and
/// `scratch` keep the A-XDR tree and the list mapper's links, for a
/// template to learn from. Not inlined: the steady state (a template's
/// patch) is compiled apart from this full decode, so neither moves the other.
#[inline(never)]
pub(crate) fn decode_notification(
    apdu: &[u8],
    framing: Framing,
    header: &Header,
    tz: Option<&Tz>,
    nodes: &mut Vec<Node>,
    scratch: &mut lists::Scratch,
    r: &mut Reading,
) -> Result<Summed, Error> {
    r.reset(Protocol::Han, framing);
    axdr::decode_into(apdu, header.body_at, nodes)?;
    let tree = Tree { bytes: apdu, nodes };
    lists::map(&tree, r, tz, scratch)?;
    if r.meter_time.is_none() {
        r.meter_time = header.time;
    }
    Ok(crate::reading::normalise::normalise_keeping(r, &mut scratch.rules))
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
