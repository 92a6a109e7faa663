//! Frames: finding a message in bytes and checking it, before any of its
//! content is read. HDLC and wired M-Bus frames with their checksums, DLMS
//! General Block Transfer blocks, messages without a frame of their own
//! (bare LLC PDUs and APDUs, Smarty envelopes), the DSMR telegram's frame,
//! and the CRCs they use.

pub(crate) mod bare;
pub mod crc;
pub(crate) mod gbt;
pub mod hdlc;
pub mod mbus;
pub(crate) mod telegram;

/// LLC header of a response PDU.
pub(crate) const LLC: [u8; 3] = [0xE6, 0xE7, 0x00];
/// Largest reassembled or bare message.
pub(crate) const MAX_MESSAGE: usize = 64 * 1024;
