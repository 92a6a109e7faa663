//! Command-line flags.

use std::path::PathBuf;

use clap::Parser;

const EXAMPLES: &str = "\
Examples:
  han-bridge /dev/ttyAMA0                           auto-detect the line settings, serve 127.0.0.1:9000
  han-bridge --baud 2400 --parity even /dev/ttyUSB0 --listen 127.0.0.1:3001
  han-read tcp://127.0.0.1:9000 | han-log           one of the readers
  socat -u tcp:127.0.0.1:9000 - > capture.bin       another: a raw capture at the same time
  han-bridge /dev/ttyAMA0 --listen 0.0.0.0:9000     reachable from the network (no password!)

Every client gets the raw bytes read from the port after it connected. A
client that falls --client-buffer behind is dropped; the others and the
reading go on. The port is read with no client too, and reopened when it
vanishes (USB unplugged).

Exit status: 0 stopped by SIGTERM or SIGINT, 1 the port could not be opened
at all or the address could not be listened on, 2 bad usage.";

/// Shares one meter serial port with many readers over TCP.
#[derive(Debug, Parser)]
#[command(name = "han-bridge", version, about, after_help = EXAMPLES)]
pub struct Args {
    /// The meter's serial device (or `device` in the config file).
    pub device: Option<String>,

    // --baud, --parity, --data-bits, --stop-bits, as han-read's.
    #[command(flatten)]
    pub serial: han_serial::serial::SerialArgs,

    /// Where clients connect, HOST:PORT (default 127.0.0.1:9000, or `listen` in the config file).
    /// Anything but loopback is reachable from the network.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Most clients at once; more are refused (default 16, or `max_clients`).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_clients: Option<u32>,
    /// Bytes a client may fall behind before it is dropped as stalled (e.g. 64KiB, 1MiB).
    #[arg(long, value_name = "SIZE", default_value = "1MiB", value_parser = size)]
    pub client_buffer: usize,
    /// The config file (default $HAN_TOOLS_CONFIG, else /etc/han-tools/config.toml if it exists):
    /// its [han-bridge] section may set device, listen and max_clients.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Say less on stderr: no line per client coming or leaving.
    #[arg(short, long)]
    pub quiet: bool,
}

/// A byte count: `65536`, `64KiB` (or `64K`), `1MiB` (or `1M`).
fn size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: usize = digits.parse().map_err(|_| format!("{s:?}: a size such as 65536, 64KiB or 1MiB"))?;
    let times = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" | "kb" => 1 << 10,
        "m" | "mib" | "mb" => 1 << 20,
        _ => return Err(format!("{s:?}: the unit is B, KiB or MiB")),
    };
    match n.checked_mul(times) {
        Some(0) => Err("the size must be more than 0".into()),
        Some(b) => Ok(b),
        None => Err(format!("{s:?}: too large")),
    }
}

#[cfg(test)]
mod tests {
    use super::size;

    #[test]
    fn sizes() {
        assert_eq!(size("65536"), Ok(65536));
        assert_eq!(size("64KiB"), Ok(65536));
        assert_eq!(size("64k"), Ok(65536));
        assert_eq!(size("1MiB"), Ok(1 << 20));
        assert_eq!(size("2 M"), Ok(2 << 20));
        assert!(size("0").is_err());
        assert!(size("lots").is_err());
        assert!(size("3GiB").is_err());
    }
}
