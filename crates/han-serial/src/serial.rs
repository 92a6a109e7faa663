//! Serial line settings: the flags, the settings `--baud auto` tries,
//! opening a device, and the probe that picks a setting by listening.

use std::time::{Duration, Instant};

use clap::ValueEnum;

/// Serial parity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Parity {
    /// No parity bit.
    None,
    /// Even parity.
    Even,
    /// Odd parity.
    Odd,
}

/// The serial flags, shared by han-read and han-bridge (`#[command(flatten)]`).
#[derive(Debug, Clone, clap::Args)]
pub struct SerialArgs {
    /// Serial line speed: a number, or auto to try 2400 8E1, 2400 8N1, 115200 8N1 and 9600 7E1.
    #[arg(long, default_value = "auto")]
    pub baud: String,
    /// Serial parity (with a fixed --baud).
    #[arg(long, value_enum)]
    pub parity: Option<Parity>,
    /// Serial data bits (with a fixed --baud).
    #[arg(long, value_parser = clap::value_parser!(u8).range(7..=8))]
    pub data_bits: Option<u8>,
    /// Serial stop bits (with a fixed --baud).
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=2))]
    pub stop_bits: Option<u8>,
}

/// Flags that ask for no setting (a usage error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgsError {
    /// `--parity`, `--data-bits` or `--stop-bits` with `--baud auto`.
    #[error("--parity, --data-bits and --stop-bits need a fixed --baud")]
    NeedsFixedBaud,
    /// `--baud` neither a number nor `auto` (the flag, why the number failed).
    #[error("--baud {0:?}: not a number or auto: {1}")]
    Baud(String, std::num::ParseIntError),
}

impl SerialArgs {
    /// The settings the flags ask for: `None` for auto.
    pub fn settings(&self) -> Result<Option<LineSettings>, ArgsError> {
        if self.baud == "auto" {
            if self.parity.is_some() || self.data_bits.is_some() || self.stop_bits.is_some() {
                return Err(ArgsError::NeedsFixedBaud);
            }
            return Ok(None);
        }
        let baud: u32 = self.baud.parse().map_err(|e| ArgsError::Baud(self.baud.clone(), e))?;
        // Unset parts follow the common setting for that speed.
        let (dbits, parity) = match baud {
            2400 => (8, Parity::Even),
            9600 => (7, Parity::Even),
            _ => (8, Parity::None),
        };
        Ok(Some(LineSettings {
            baud,
            data_bits: self.data_bits.unwrap_or(dbits),
            parity: self.parity.unwrap_or(parity),
            stop_bits: self.stop_bits.unwrap_or(1),
        }))
    }
}

/// One serial line setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineSettings {
    /// Bits per second.
    pub baud: u32,
    /// 7 or 8.
    pub data_bits: u8,
    /// The parity bit.
    pub parity: Parity,
    /// 1 or 2.
    pub stop_bits: u8,
}

impl std::fmt::Display for LineSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let p = match self.parity {
            Parity::None => 'N',
            Parity::Even => 'E',
            Parity::Odd => 'O',
        };
        write!(f, "{} {}{}{}", self.baud, self.data_bits, p, self.stop_bits)
    }
}

/// The settings `--baud auto` tries, most common first: Norwegian HAN
/// (Aidon, Kaifa), Kamstrup HAN, DSMR 4/5 and other 115200 ports, DSMR 2.2/3.
pub const AUTO: [LineSettings; 4] = [
    LineSettings { baud: 2400, data_bits: 8, parity: Parity::Even, stop_bits: 1 },
    LineSettings { baud: 2400, data_bits: 8, parity: Parity::None, stop_bits: 1 },
    LineSettings { baud: 115_200, data_bits: 8, parity: Parity::None, stop_bits: 1 },
    LineSettings { baud: 9600, data_bits: 7, parity: Parity::Even, stop_bits: 1 },
];

/// A device that opens but is not a serial port (`/dev/null`, `/dev/zero`):
/// its termios calls fail with ENOTTY, and no retry changes that.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0} is not a serial port (a device that is no tty has no line settings); \
     name a serial device, a capture file, tcp://HOST:PORT or - for stdin"
)]
pub struct NotSerial(pub String);

/// Why a port did not open.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The device is no serial port: retrying changes nothing.
    #[error(transparent)]
    NotSerial(#[from] NotSerial),
    /// The serial device did not open (missing, busy, unplugged).
    #[error("cannot open {path} at {settings}")]
    Serial {
        /// The device.
        path: String,
        /// The line setting tried.
        settings: LineSettings,
        /// What the port said.
        #[source]
        source: serialport::Error,
    },
    /// The TCP connection was not made.
    #[error("cannot connect to {addr}")]
    Connect {
        /// `HOST:PORT`.
        addr: String,
        /// What the socket said.
        #[source]
        source: std::io::Error,
    },
    /// The connection was made but its read timeout could not be set.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Whether `path` opens but is not a terminal (a pty is one).
#[cfg(unix)]
fn opens_but_no_tty(path: &str) -> bool {
    use std::io::IsTerminal;
    use std::os::unix::fs::OpenOptionsExt;
    // Non-blocking, so that a serial port whose carrier line is low does not hold the open.
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .is_ok_and(|f| !f.is_terminal())
}

#[cfg(not(unix))]
fn opens_but_no_tty(_path: &str) -> bool {
    false
}

/// Opens a serial device; reads time out after 200 ms so a loop can look
/// around between them. A device that is no tty fails with
/// [`OpenError::NotSerial`].
pub fn open_serial(path: &str, s: LineSettings) -> Result<Box<dyn serialport::SerialPort>, OpenError> {
    let port = serialport::new(path, s.baud)
        .data_bits(if s.data_bits == 7 { serialport::DataBits::Seven } else { serialport::DataBits::Eight })
        .parity(match s.parity {
            Parity::None => serialport::Parity::None,
            Parity::Even => serialport::Parity::Even,
            Parity::Odd => serialport::Parity::Odd,
        })
        .stop_bits(if s.stop_bits == 2 { serialport::StopBits::Two } else { serialport::StopBits::One })
        .timeout(Duration::from_millis(200))
        .open();
    match port {
        Ok(port) => Ok(port),
        // Looked at only when the open failed: a working port is opened once.
        Err(_) if opens_but_no_tty(path) => Err(NotSerial(path.to_owned()).into()),
        Err(source) => Err(OpenError::Serial { path: path.to_owned(), settings: s, source }),
    }
}

/// Whether a decoder event shows the line settings are right: a reading, or
/// a frame whose checksum held but that could not be read (an encrypted
/// meter without its key, an unknown list). Wrong settings give garbage that
/// no checksum survives; a bare ciphered APDU (0xDB) has no checksum, so it
/// does not count.
pub fn sound(ev: &han::EventRef<'_>) -> bool {
    match ev {
        han::EventRef::Reading(_) => true,
        han::EventRef::Rejected { error, bytes } => {
            // HDLC, M-Bus, a DSMR telegram, or reassembled HDLC segments (LLC).
            let checked = matches!(bytes.first(), Some(0x7E | 0x68 | b'/' | 0xE6));
            checked && matches!(error.kind(), "unparsed" | "missing-key" | "wrong-key" | "unsupported" | "segment")
        }
    }
}

/// `--baud auto`: listens to each of [`AUTO`] in turn until one gives sound
/// frames. The caller reads at [`Probe::current`], counts sound frames since
/// the last switch, and calls [`Probe::step`] after every read.
#[derive(Debug, Clone)]
pub struct Probe {
    tried: usize,
    since: Instant,
    listen: Duration,
}

/// What [`Probe::step`] says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Keep listening at the current setting.
    Listen,
    /// The current setting gives sound frames: keep it (the probe is done).
    Found(LineSettings),
    /// Nothing sound came at `failed` in time: reopen at `next` and count
    /// from zero.
    Next {
        /// The setting that gave nothing.
        failed: LineSettings,
        /// The one to try now.
        next: LineSettings,
    },
}

impl Probe {
    /// How long one setting is listened to: Kamstrup and list-2 meters push
    /// every 10 s.
    pub const LISTEN: Duration = Duration::from_secs(12);

    /// A probe starting at `AUTO[0]`, now.
    pub fn new(now: Instant) -> Probe {
        Probe::with_listen(Probe::LISTEN, now)
    }

    /// A probe that listens `listen` to each setting.
    pub fn with_listen(listen: Duration, now: Instant) -> Probe {
        Probe { tried: 0, since: now, listen }
    }

    /// The setting to read at now.
    pub fn current(&self) -> LineSettings {
        AUTO[self.tried % AUTO.len()]
    }

    /// After a read: `sound` frames have come since the last switch. The
    /// list starts over after its last setting (the meter may be off).
    pub fn step(&mut self, sound: u64, now: Instant) -> Verdict {
        if sound > 0 {
            return Verdict::Found(self.current());
        }
        if now.saturating_duration_since(self.since) <= self.listen {
            return Verdict::Listen;
        }
        let failed = self.current();
        self.tried += 1;
        self.since = now;
        Verdict::Next { failed, next: self.current() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(baud: &str) -> SerialArgs {
        SerialArgs { baud: baud.into(), parity: None, data_bits: None, stop_bits: None }
    }

    #[test]
    fn fixed_speeds_take_their_common_setting() {
        assert_eq!(args("auto").settings().ok(), Some(None));
        assert_eq!(args("2400").settings().ok().flatten().map(|s| s.to_string()).as_deref(), Some("2400 8E1"));
        assert_eq!(args("9600").settings().ok().flatten().map(|s| s.to_string()).as_deref(), Some("9600 7E1"));
        assert_eq!(args("115200").settings().ok().flatten().map(|s| s.to_string()).as_deref(), Some("115200 8N1"));
        let mut a = args("2400");
        a.parity = Some(Parity::None);
        a.stop_bits = Some(2);
        assert_eq!(a.settings().ok().flatten().map(|s| s.to_string()).as_deref(), Some("2400 8N2"));
        assert!(args("fast").settings().is_err());
        let mut a = args("auto");
        a.parity = Some(Parity::Odd);
        assert!(a.settings().is_err(), "parity needs a fixed speed");
    }

    #[test]
    fn probe_walks_the_list_and_stops_at_sound_frames() {
        let t0 = Instant::now();
        let s = Duration::from_secs(1);
        let mut p = Probe::with_listen(10 * s, t0);
        assert_eq!(p.current(), AUTO[0]);
        assert_eq!(p.step(0, t0 + 5 * s), Verdict::Listen);
        assert_eq!(p.step(0, t0 + 10 * s), Verdict::Listen);
        assert_eq!(p.step(0, t0 + 11 * s), Verdict::Next { failed: AUTO[0], next: AUTO[1] });
        // The clock of the next setting starts at the switch.
        assert_eq!(p.step(0, t0 + 20 * s), Verdict::Listen);
        assert_eq!(p.step(0, t0 + 22 * s), Verdict::Next { failed: AUTO[1], next: AUTO[2] });
        assert_eq!(p.step(0, t0 + 33 * s), Verdict::Next { failed: AUTO[2], next: AUTO[3] });
        // After the last, the first again.
        assert_eq!(p.step(0, t0 + 44 * s), Verdict::Next { failed: AUTO[3], next: AUTO[0] });
        assert_eq!(p.step(0, t0 + 45 * s), Verdict::Listen);
        assert_eq!(p.step(2, t0 + 46 * s), Verdict::Found(AUTO[0]));
    }

    #[test]
    fn a_sound_frame_counts_at_once() {
        let t0 = Instant::now();
        let mut p = Probe::new(t0);
        assert_eq!(p.step(1, t0), Verdict::Found(AUTO[0]));
    }
}
