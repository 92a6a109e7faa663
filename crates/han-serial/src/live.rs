//! A live link (a serial device or TCP) that reopens itself when it drops,
//! as a USB adapter that is unplugged or a bridge that restarts would.

use std::io::{self, Read};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::serial::{AUTO, LineSettings, OpenError, open_serial};

/// How long a live link may stay silent before it is reopened: the slowest
/// meters push every 10 s.
const SILENCE: Duration = Duration::from_secs(60);
/// The longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Where a live link tells what happens to it (each tool puts its own name
/// in front).
pub trait Say {
    /// A fact worth a line (a link opened).
    fn note(&mut self, msg: &str);
    /// Something wrong that is worked around (a link dropped).
    fn warn(&mut self, msg: &str);
}

/// What a live link connects to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// A serial device path.
    Serial(String),
    /// `HOST:PORT`.
    Tcp(String),
}

impl Link {
    fn name(&self) -> &str {
        match self {
            Link::Serial(a) | Link::Tcp(a) => a,
        }
    }
}

/// A live link that reopens itself: it yields bytes, or waits; it never
/// ends. Each open is announced; failures back off 1 s, 2 s, 4 s ... up to
/// 30 s, and 60 s of silence reopens it.
pub struct Live {
    link: Link,
    settings: Option<LineSettings>,
    stream: Option<Box<dyn Read + Send>>,
    last_data: Instant,
    backoff: Duration,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live")
            .field("link", &self.link)
            .field("settings", &self.settings)
            .field("open", &self.stream.is_some())
            .finish_non_exhaustive()
    }
}

impl Live {
    /// A link, not opened yet; a serial device without settings opens at
    /// `AUTO[0]`.
    pub fn new(link: Link, settings: Option<LineSettings>) -> Live {
        Live { link, settings, stream: None, last_data: Instant::now(), backoff: Duration::from_secs(1) }
    }

    /// Fixes the serial settings (while auto-detecting): the device reopens
    /// at them.
    pub fn set_settings(&mut self, s: LineSettings) {
        self.settings = Some(s);
        self.stream = None;
    }

    /// Opens the link now, for a caller that must know whether it opens at
    /// all; later drops are handled by [`Live::read`].
    pub fn open_now(&mut self, say: &mut dyn Say) -> Result<(), OpenError> {
        let s = self.open(say)?;
        self.stream = Some(s);
        self.last_data = Instant::now();
        Ok(())
    }

    fn open(&mut self, say: &mut dyn Say) -> Result<Box<dyn Read + Send>, OpenError> {
        match &self.link {
            Link::Tcp(addr) => {
                let s = TcpStream::connect(addr).map_err(|source| OpenError::Connect { addr: addr.clone(), source })?;
                s.set_read_timeout(Some(Duration::from_millis(500)))?;
                say.note(&format!("connected to {addr}"));
                Ok(Box::new(s))
            }
            Link::Serial(path) => {
                let s = self.settings.unwrap_or(AUTO[0]);
                let port = open_serial(path, s)?;
                say.note(&format!("opened {path} at {s}"));
                Ok(Box::new(port))
            }
        }
    }

    /// Reads some bytes into `buf`; `0` means nothing arrived in a short
    /// while (not the end: live links do not end).
    pub fn read(&mut self, buf: &mut [u8], say: &mut dyn Say) -> usize {
        let mut stream = match self.stream.take() {
            Some(s) => s,
            None => match self.open(say) {
                Ok(s) => {
                    self.backoff = Duration::from_secs(1);
                    self.last_data = Instant::now();
                    s
                }
                Err(e) => {
                    say.warn(&format!("{}; retrying in {} s", with_causes(&e), self.backoff.as_secs()));
                    std::thread::sleep(self.backoff);
                    self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
                    return 0;
                }
            },
        };
        match stream.read(buf) {
            Ok(0) => {
                say.warn(&format!("{}: connection closed; reconnecting", self.link.name()));
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
                    say.warn(&format!("{}: nothing received for {} s; reopening", self.link.name(), SILENCE.as_secs()));
                    self.last_data = Instant::now();
                } else {
                    self.stream = Some(stream);
                }
                0
            }
            Err(e) => {
                say.warn(&format!("{}: {e}; reopening", self.link.name()));
                std::thread::sleep(Duration::from_millis(200));
                0
            }
        }
    }
}

/// An error and its causes, `: ` between them (as anyhow's `{:#}` shows
/// them), for a warning that goes on.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}
