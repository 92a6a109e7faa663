//! The decoder's settings.

use chrono_tz::Tz;

/// Which framing to look for.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum FramingMode {
    /// Every framing below, found by its start bytes.
    #[default]
    Auto,
    /// HDLC frames only.
    Hdlc,
    /// Wired M-Bus long frames only.
    Mbus,
    /// DSMR P1 telegrams only (plain, or Smarty-encrypted).
    Dsmr,
    /// Bare LLC PDUs (`E6 E7 00` + APDU), back to back.
    Llc,
    /// Bare APDUs, back to back.
    Apdu,
}

/// Decoder settings.
#[derive(Clone, Default)]
pub struct Config {
    /// Which framing to look for.
    pub framing: FramingMode,
    /// AES-128 encryption key (GUEK) for encrypted meters.
    pub key: Option<[u8; 16]>,
    /// AES-128 authentication key (GAK), when the meter authenticates.
    pub auth_key: Option<[u8; 16]>,
    /// Time zone for meter clocks that state no UTC offset.
    pub tz: Option<Tz>,
    /// Decode every message from scratch. By default a message that
    /// differs from one decoded before only in its numbers and clocks
    /// has just those decoded again (the results are the same; this is
    /// for the tests and benchmarks that compare).
    pub full_decode: bool,
    /// The user's meter profiles, tried before the built-in ones
    /// ([`crate::profiles`]).
    pub profiles: crate::dlms::profiles::MeterProfiles,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Keys never reach a log.
        f.debug_struct("Config")
            .field("framing", &self.framing)
            .field("key", &self.key.map(|_| "<set>"))
            .field("auth_key", &self.auth_key.map(|_| "<set>"))
            .field("tz", &self.tz)
            .field("full_decode", &self.full_decode)
            .field("profiles", &self.profiles.len())
            .finish()
    }
}
