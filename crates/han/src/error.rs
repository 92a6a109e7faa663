//! The decoder's typed errors: one kind per way a frame can be bad.

/// Why bytes were rejected. Every error is about one frame or telegram; the
/// decoder goes on with the next.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// HDLC header check sequence wrong.
    #[error("HDLC header checksum (HCS) mismatch")]
    HdlcHcs,
    /// HDLC frame check sequence wrong.
    #[error("HDLC frame checksum (FCS) mismatch")]
    HdlcFcs,
    /// HDLC frame not closed by a flag where its length says it ends.
    #[error("HDLC frame has no closing flag where its length ends")]
    HdlcBoundary,
    /// HDLC frame shorter than its header.
    #[error("HDLC frame too short ({0} bytes)")]
    HdlcTooShort(usize),
    /// M-Bus long frame checksum wrong.
    #[error("M-Bus frame checksum mismatch")]
    MbusChecksum,
    /// M-Bus long frame malformed (length bytes differ, no stop byte).
    #[error("M-Bus frame malformed: {0}")]
    MbusFrame(&'static str),
    /// A segment arrived out of order or a message was left incomplete.
    #[error("segment sequence broken: {0}")]
    Segment(&'static str),
    /// The input ended inside a frame.
    #[error("input ended inside a frame ({0} bytes)")]
    Truncated(usize),
    /// A-XDR data could not be decoded.
    #[error("A-XDR data invalid at byte {offset}: {what}")]
    Axdr {
        /// Offset in the APDU.
        offset: usize,
        /// What was wrong.
        what: &'static str,
    },
    /// The APDU is not one a push port sends.
    #[error("unsupported APDU tag 0x{0:02X}")]
    UnsupportedApdu(u8),
    /// The frame is encrypted and no key was given.
    #[error("frame is encrypted (security control 0x{0:02X}): no key given (--key)")]
    MissingKey(u8),
    /// The GCM tag did not verify: wrong key, wrong authentication key, or a damaged frame.
    #[error("authentication failed: wrong key or authentication key, or a damaged frame")]
    AuthFailed,
    /// Decrypted bytes are not a known APDU: the key is wrong.
    #[error("decryption gave no valid APDU: wrong key")]
    WrongKey,
    /// Security suite or control byte not supported.
    #[error("unsupported security: {0}")]
    UnsupportedSecurity(&'static str),
    /// The data does not match any known list layout.
    #[error("unknown list layout: {0}")]
    UnknownLayout(&'static str),
    /// DSMR telegram CRC wrong.
    #[error("DSMR CRC mismatch: telegram says {given:04X}, computed {computed:04X}")]
    DsmrCrc {
        /// The CRC written after `!`.
        given: u16,
        /// The CRC of the bytes.
        computed: u16,
    },
    /// DSMR 4+ telegram without a CRC.
    #[error("DSMR telegram has no CRC after '!' (required from DSMR 4)")]
    DsmrMissingCrc,
    /// DSMR telegram malformed.
    #[error("DSMR telegram malformed: {0}")]
    DsmrFormat(&'static str),
    /// A telegram or message bigger than the decoder accepts.
    #[error("frame too long ({0} bytes)")]
    TooLong(usize),
}

impl Error {
    /// A short stable name for counting and for tests (`crc`, `truncated` ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Error::HdlcHcs | Error::HdlcFcs | Error::MbusChecksum | Error::DsmrCrc { .. } => "checksum",
            Error::HdlcBoundary | Error::HdlcTooShort(_) | Error::MbusFrame(_) => "framing",
            Error::Segment(_) => "segment",
            Error::Truncated(_) => "truncated",
            Error::Axdr { .. } | Error::UnsupportedApdu(_) | Error::UnknownLayout(_) => "unparsed",
            Error::MissingKey(_) => "missing-key",
            Error::AuthFailed | Error::WrongKey => "wrong-key",
            Error::UnsupportedSecurity(_) => "unsupported",
            Error::DsmrMissingCrc | Error::DsmrFormat(_) => "format",
            Error::TooLong(_) => "too-long",
        }
    }
}
