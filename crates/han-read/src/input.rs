//! Where the bytes come from: a file, stdin, a serial device or TCP, each a
//! `Read` that reconnects on its own where a real meter link would drop.

use std::io::{self, Read};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::cli::{Args, Parity};
use crate::report::Reporter;

/// How long a live link may stay silent before it is reopened: the slowest
/// meters push every 10 s.
const SILENCE: Duration = Duration::from_secs(60);
/// The longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// What INPUT names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Stdin,
    File(String),
    Serial(String),
    Tcp(String),
}

impl Kind {
    pub fn of(input: Option<&str>) -> Kind {
        match input {
            None | Some("-") => Kind::Stdin,
            Some(s) if s.starts_with("tcp://") => Kind::Tcp(s.trim_start_matches("tcp://").to_owned()),
            Some(s) if is_device(Path::new(s)) => Kind::Serial(s.to_owned()),
            Some(s) => Kind::File(s.to_owned()),
        }
    }

    /// Live links are reopened when they drop; files and stdin end.
    pub fn is_live(&self) -> bool {
        matches!(self, Kind::Serial(_) | Kind::Tcp(_))
    }
}

fn is_device(p: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    match std::fs::metadata(p) {
        Ok(m) => m.file_type().is_char_device(),
        // A device that is unplugged right now still names a device.
        Err(_) => p.starts_with("/dev/"),
    }
}

/// One serial line setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineSettings {
    pub baud: u32,
    pub data_bits: u8,
    pub parity: Parity,
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

/// The settings the flags ask for: `None` for auto.
pub fn line_settings(args: &Args) -> Result<Option<LineSettings>> {
    if args.baud == "auto" {
        if args.parity.is_some() || args.data_bits.is_some() || args.stop_bits.is_some() {
            bail!("--parity, --data-bits and --stop-bits need a fixed --baud");
        }
        return Ok(None);
    }
    let baud: u32 = args.baud.parse().with_context(|| format!("--baud {:?}: not a number or auto", args.baud))?;
    // Unset parts follow the common setting for that speed.
    let (dbits, parity) = match baud {
        2400 => (8, Parity::Even),
        9600 => (7, Parity::Even),
        _ => (8, Parity::None),
    };
    Ok(Some(LineSettings {
        baud,
        data_bits: args.data_bits.unwrap_or(dbits),
        parity: args.parity.unwrap_or(parity),
        stop_bits: args.stop_bits.unwrap_or(1),
    }))
}

/// Opens a serial device.
pub fn open_serial(path: &str, s: LineSettings) -> Result<Box<dyn serialport::SerialPort>> {
    let port = serialport::new(path, s.baud)
        .data_bits(if s.data_bits == 7 { serialport::DataBits::Seven } else { serialport::DataBits::Eight })
        .parity(match s.parity {
            Parity::None => serialport::Parity::None,
            Parity::Even => serialport::Parity::Even,
            Parity::Odd => serialport::Parity::Odd,
        })
        .stop_bits(if s.stop_bits == 2 { serialport::StopBits::Two } else { serialport::StopBits::One })
        .timeout(Duration::from_millis(200))
        .open()
        .with_context(|| format!("cannot open {path} at {s}"))?;
    Ok(port)
}

/// A live link that reopens itself: it yields bytes, or waits; it never
/// ends. Each open is announced on stderr; failures back off 1 s, 2 s, 4 s
/// ... up to 30 s.
pub struct Live {
    kind: Kind,
    settings: Option<LineSettings>,
    stream: Option<Box<dyn Read + Send>>,
    last_data: Instant,
    backoff: Duration,
}

impl Live {
    pub fn new(kind: Kind, settings: Option<LineSettings>) -> Live {
        Live { kind, settings, stream: None, last_data: Instant::now(), backoff: Duration::from_secs(1) }
    }

    /// Fixes the serial settings (after auto-detection).
    pub fn set_settings(&mut self, s: LineSettings) {
        self.settings = Some(s);
        self.stream = None;
    }

    fn open(&mut self, rep: &mut Reporter) -> Result<Box<dyn Read + Send>> {
        match &self.kind {
            Kind::Tcp(addr) => {
                let s = TcpStream::connect(addr).with_context(|| format!("cannot connect to {addr}"))?;
                s.set_read_timeout(Some(Duration::from_millis(500)))?;
                rep.note(&format!("connected to {addr}"));
                Ok(Box::new(s))
            }
            Kind::Serial(path) => {
                let s = self.settings.unwrap_or(AUTO[0]);
                let port = open_serial(path, s)?;
                rep.note(&format!("opened {path} at {s}"));
                Ok(Box::new(port))
            }
            Kind::Stdin | Kind::File(_) => bail!("not a live link"),
        }
    }

    /// Reads some bytes into `buf`; `Ok(0)` means nothing arrived in a
    /// short while (not the end: live links do not end).
    pub fn read(&mut self, buf: &mut [u8], rep: &mut Reporter) -> usize {
        let mut stream = match self.stream.take() {
            Some(s) => s,
            None => match self.open(rep) {
                Ok(s) => {
                    self.backoff = Duration::from_secs(1);
                    self.last_data = Instant::now();
                    s
                }
                Err(e) => {
                    rep.warn(&format!("{e:#}; retrying in {} s", self.backoff.as_secs()));
                    std::thread::sleep(self.backoff);
                    self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
                    return 0;
                }
            },
        };
        match stream.read(buf) {
            Ok(0) => {
                rep.warn(&format!("{}: connection closed; reconnecting", self.name()));
                0
            }
            Ok(n) => {
                self.last_data = Instant::now();
                self.stream = Some(stream);
                n
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                if self.last_data.elapsed() > SILENCE {
                    rep.warn(&format!("{}: nothing received for {} s; reopening", self.name(), SILENCE.as_secs()));
                    self.last_data = Instant::now();
                } else {
                    self.stream = Some(stream);
                }
                0
            }
            Err(e) => {
                rep.warn(&format!("{}: {e}; reopening", self.name()));
                std::thread::sleep(Duration::from_millis(200));
                0
            }
        }
    }

    fn name(&self) -> &str {
        match &self.kind {
            Kind::Tcp(a) | Kind::Serial(a) | Kind::File(a) => a,
            Kind::Stdin => "stdin",
        }
    }
}
