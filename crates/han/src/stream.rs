//! The streaming decoder.
use chrono_tz::Tz;
use crate::{Error, Reading};

/// Which framing to look for.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum FramingMode {
    /// Everything.
    #[default]
    Auto,
    /// HDLC only.
    Hdlc,
    /// M-Bus only.
    Mbus,
    /// DSMR only.
    Dsmr,
    /// Bare LLC.
    Llc,
    /// Bare APDU.
    Apdu,
}

/// Decoder settings.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// Framing.
    pub framing: FramingMode,
    /// Encryption key.
    pub key: Option<[u8; 16]>,
    /// Authentication key.
    pub auth_key: Option<[u8; 16]>,
    /// Zone for clocks without offset.
    pub tz: Option<Tz>,
}

/// Counters.
#[derive(Clone, Debug, Default)]
pub struct Stats {}

/// An event.
#[derive(Debug)]
pub enum Event {
    /// A reading.
    Reading(Box<Reading>),
    /// A rejected frame.
    Rejected {
        /// Why.
        error: Error,
        /// The bytes.
        bytes: Vec<u8>,
    },
}

/// The decoder.
#[derive(Debug)]
pub struct Decoder {}

impl Decoder {
    /// New.
    pub fn new(_cfg: Config) -> Self {
        Decoder {}
    }
    /// Push.
    pub fn push(&mut self, _b: &[u8]) {}
    /// Next.
    pub fn next_event(&mut self) -> Option<Event> {
        None
    }
}

/// Decodes one message.
pub fn decode_message(_b: &[u8], _cfg: &Config) -> Result<Reading, Error> {
    Err(Error::UnknownLayout("stub"))
}
