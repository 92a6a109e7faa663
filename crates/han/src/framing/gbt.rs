//! General Block Transfer (DLMS, tag 0xE0): a long APDU sent in numbered
//! blocks, one per HDLC frame (Landis+Gyr E450).

use crate::dlms::axdr::ber_length;
use crate::error::Error;

/// One GBT block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Block<'a> {
    pub last: bool,
    pub number: u16,
    pub data: &'a [u8],
}

/// Parses `E0 | ctrl | block-number(2) | ack(2) | len (BER) | data`.
pub(crate) fn parse(apdu: &[u8]) -> Result<Block<'_>, Error> {
    let bad = |what| Error::Segment(what);
    let [0xE0, ctrl, n1, n2, _a1, _a2, ..] = *apdu else { return Err(bad("general block transfer header too short")) };
    let mut pos = 6;
    let len = ber_length(apdu, &mut pos).ok_or(bad("general block transfer length invalid"))?;
    let data = pos
        .checked_add(len)
        .and_then(|end| apdu.get(pos..end))
        .ok_or(bad("general block transfer block shorter than its length"))?;
    Ok(Block { last: ctrl & 0x80 != 0, number: u16::from_be_bytes([n1, n2]), data })
}
