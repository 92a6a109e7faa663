//! Settings, then the three parts started: the port's reader, the
//! listener, and the main thread waiting for SIGTERM or SIGINT.

use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, anyhow};
use han_common::Usage;
use han_common::shell::{self, SIGINT, SIGTERM};
use han_serial::live::{Link, Live};
use han_serial::serial::LineSettings;

use crate::cli::Args;
use crate::fanout::Fanout;
use crate::notes::Notes;
use crate::port::{self, Detect};

const SECTION: &str = "han-bridge";
/// Loopback unless told otherwise: the bytes carry no password.
const LISTEN: &str = "127.0.0.1:9000";
const MAX_CLIENTS: u32 = 16;

/// Settings from flags, else the config file's `[han-bridge]`, else defaults.
#[derive(Debug)]
struct Settings {
    device: String,
    line: Option<LineSettings>,
    listen: String,
    max_clients: usize,
}

fn settings(args: &Args) -> Result<Settings> {
    let file = han_common::Config::load(args.config.as_deref()).map_err(|e| Usage(e.to_string()))?;
    for w in file.warnings(SECTION, &["device", "listen", "max_clients"]) {
        eprintln!("han-bridge: warning: {w}");
    }
    let usage = |e: han_common::ConfigError| anyhow!(Usage(e.to_string()));
    // A flag wins, and then the file's key is not even read.
    let device = match args.device.clone() {
        Some(d) => Some(d),
        None => file.string(SECTION, "device").map_err(usage)?,
    };
    let device = match device {
        Some(d) => d,
        None => {
            return Err(Usage(
                "no device: name the meter's serial port (han-bridge /dev/ttyAMA0), or set device in [han-bridge]"
                    .into(),
            )
            .into());
        }
    };
    let line = args.serial.settings().map_err(|e| Usage(format!("{e:#}")))?;
    let listen = match args.listen.clone() {
        Some(l) => l,
        None => file.string(SECTION, "listen").map_err(usage)?.unwrap_or(LISTEN.into()),
    };
    let max_clients = match args.max_clients {
        Some(n) => n,
        None => match file.integer(SECTION, "max_clients").map_err(usage)? {
            None => MAX_CLIENTS,
            Some(n) => u32::try_from(n)
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| Usage(format!("config max_clients = {n}: 1 or more")))?,
        },
    };
    Ok(Settings { device, line, listen, max_clients: usize::try_from(max_clients).unwrap_or(usize::MAX) })
}

fn bind(listen: &str) -> Result<TcpListener> {
    let addrs: Vec<SocketAddr> =
        listen.to_socket_addrs().map_err(|e| Usage(format!("--listen {listen}: {e} (HOST:PORT)")))?.collect();
    TcpListener::bind(&addrs[..]).with_context(|| format!("cannot listen on {listen}"))
}

/// Runs until a signal; the exit status.
pub fn run(args: &Args) -> Result<u8> {
    let s = settings(args)?;
    let mut notes = Notes { quiet: args.quiet };
    // Caught before anything starts: a signal at any later moment stops cleanly.
    let mut signals = shell::Signals::new([SIGTERM, SIGINT]).context("cannot catch signals")?;

    let detect = s.line.is_none().then(|| Detect::new(Instant::now()));
    let mut live = Live::new(Link::Serial(s.device.clone()), s.line);
    if let Some(d) = &detect {
        notes.note(&format!("trying {} (--baud auto)", d.first()));
    }
    // Once open, the port reopens itself for ever; a port that never opens is a mistake to report.
    live.open_now(&mut notes)?;
    let listener = bind(&s.listen)?;
    let addr = listener.local_addr().context("the listening address")?;
    if addr.ip().is_loopback() {
        notes.note(&format!("listening on {addr}"));
    } else {
        notes.warn(&format!("listening on {addr}: reachable from the network, and no password is asked"));
    }

    let fan = Arc::new(Fanout::new(args.client_buffer, s.max_clients, notes));
    let f = Arc::clone(&fan);
    std::thread::Builder::new()
        .name("listener".into())
        .spawn(move || f.serve(&listener))
        .context("cannot start the listener")?;
    let f = Arc::clone(&fan);
    std::thread::Builder::new()
        .name("port".into())
        .spawn(move || port::pump(live, detect, &f, notes))
        .context("cannot start the port's reader")?;

    if let Some(sig) = signals.forever().next() {
        let name = if sig == SIGTERM { "SIGTERM" } else { "SIGINT" };
        notes.note(&format!("stopping on {name}"));
    }
    // Returning ends the process: the clients' sockets close with it.
    Ok(0)
}
