//! `han`: a pure decoder for smart electricity meters.
//!
//! Bytes in, readings out: no I/O, no clock. Feed a [`Decoder`] chunks of any
//! size from a serial port, a socket or a file; it finds HDLC frames, wired
//! M-Bus long frames and DSMR P1 telegrams in the stream, checks their
//! checksums, reassembles segmented messages, decrypts DLMS
//! general-glo/ded-ciphering with the user's key, decodes A-XDR and the
//! brand list layouts, and yields one [`Reading`] per message or a typed
//! [`Error`] per rejected frame. It never panics on any input and
//! resynchronises after garbage.
//!
//! ```
//! let frame = [0x7E, 0xA0, 0x08, 0x01, 0x02, 0x01, 0x13, 0x6E, 0x8C, 0x7E];
//! let mut dec = han::Decoder::new(han::Config::default());
//! dec.push(&frame);
//! // An HDLC frame without an information field carries no reading.
//! assert!(matches!(dec.next_event(), Some(han::Event::Rejected { .. }) | None));
//! ```
//!
//! # Layout
//!
//! The modules follow the pipeline, in layers; each imports only from the
//! layers below it (tests aside), so there is no import cycle:
//!
//! 1. `error`, and `reading`: the output (the reading, its values, OBIS
//!    codes, times, normalising, plausibility, its JSON line);
//! 2. `dlms`: APDUs, ciphering, A-XDR, the list layouts and profiles;
//! 3. `framing`: HDLC, M-Bus, GBT, bare messages (measured by their
//!    A-XDR), the P1 telegram's frame, CRCs;
//! 4. `p1`: a checked telegram's lines and objects;
//! 5. `template`: the cache over the pure decoders of 2 and 4, which never
//!    call it;
//! 6. `stream`: the [`Decoder`] (hunting, reassembly, and the message
//!    decode that asks the template first);
//! 7. `encode` and `anonymise`, built on the decoder.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic))]
#![warn(missing_docs)]

pub mod anonymise;
mod dlms;
pub mod encode;
mod error;
mod framing;
mod p1;
mod reading;
mod stream;
mod template;

pub use dlms::{apdu, axdr};
pub use framing::{crc, hdlc, mbus};
pub use reading::{obis, plausible, time};

pub mod profiles {
    //! Meter profiles: what the decoder knows of each brand and configuration,
    //! as data.
    //!
    //! A profile says how to recognise a list (its list id, logical device
    //! name, push setup, meter type, the number of bare values), which
    //! manufacturer sent it, the scalers and units of values the meter sends
    //! bare, and where a list of values without OBIS codes puts what
    //! (positional layouts). The built-in profiles are TOML files in
    //! `src/dlms/profiles/builtin/`, compiled into the binary; a user's own are parsed from the
    //! same format ([`MeterProfiles::parse`]) and tried first. The format is in
    //! `docs/profiles.md`.
    //!
    //! A profile is looked up once per layout: the template cache
    //! (`crate::template`) decodes the following messages of the same layout
    //! without looking again.

    pub use crate::dlms::draft::{Draft, draft};
    pub use crate::dlms::profiles::*;
}

/// DSMR P1 telegrams: framing in a byte stream and decoding to a reading.
pub mod dsmr {
    pub use crate::framing::telegram::frame_telegram;
    pub use crate::p1::decode_telegram;
}

pub use error::Error;
pub use obis::Obis;
pub use plausible::{Implausible, Limit};
pub use reading::value::{Decimal, Hex, Text, Unit, Value};
pub use reading::{Entry, Framing, Object, Objects, Protocol, Quantities, Reading, STREAM_VERSION, SubMeter};
pub use stream::{Config, Decoder, Event, EventRef, FramingMode, Observer, Seen, Stats, Warning, decode_message};
pub use time::MeterTime;

/// Re-exported so callers can name a zone for meters whose clock has no offset.
pub use chrono_tz::Tz;

#[cfg(test)]
mod layers;
