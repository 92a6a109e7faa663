//! What the decoder says: events, warnings, counters, and what it saw on
//! its way (for tools that show frames).

use crate::error::Error;
use crate::reading::{Framing, Reading};

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

/// Something the decoder says about what it decoded: the readings came
/// out, but not quite as the meter sent them, or not vouched for. Taken
/// with [`crate::Decoder::next_warning`] after each event.
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
/// ([`crate::Decoder::next_event_ref`]).
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
