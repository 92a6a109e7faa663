//! Command-line flags.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

const EXAMPLES: &str = "\
Examples:
  han-read /dev/ttyUSB0                      auto-detect the line settings, print readings
  han-read --baud 2400 --parity even /dev/ttyUSB0
  han-read tcp://192.168.1.50:3001           ser2net or an ESP bridge
  han-read capture.bin                       decode a capture file
  han-read --realtime capture.bin            ... at the meter's own pace
  HAN_KEY=0123...CDEF han-read /dev/ttyAMA0  an encrypted meter (or --key)
  han-read --once /dev/ttyUSB0 | jq .power_import_w
  han-sim | han-read | head -3               the simulator (a Norwegian Kaifa) through a pipe
  han-read samples/kaifa-no.bin              a sample capture from the repository
  han-read --hexdump capture.bin             annotated frames, for a new meter
  han-read --structure capture.bin           its values, and a draft profile when no profile knows it
  han-read --meter-profile my-meter.toml /dev/ttyUSB0   a meter the build does not know
  han-read --anonymise capture.bin > shared.bin   the capture with other meter ids, to share

Exit status:
  0  done: the input ended (an empty one too), --once got its reading, or stdout was closed
  1  input or output failed: a missing file, a directory, a device that is no serial port ...
     (the error names the input and comes before the counters; none when nothing was read)
  2  bad usage
  3  --once and no reading came
  4  a file or stdin held bytes but no reading (JSON output only); the last line on stderr
     says what was skipped and why; with --anonymise: nothing decoded, so nothing was written";

/// Reads a smart electricity meter and writes each reading as one JSON line.
#[derive(Debug, Parser)]
#[command(name = "han-read", version, about, after_help = EXAMPLES)]
pub struct Args {
    /// Where to read: a serial device, tcp://HOST:PORT, a capture file, or - for stdin (the default;
    /// or `input` in the config file).
    pub input: Option<String>,

    // --baud, --parity, --data-bits, --stop-bits.
    #[command(flatten)]
    pub serial: han_serial::serial::SerialArgs,

    /// Encryption key (32 hex digits), for encrypted meters. Also $HAN_KEY, or `key` in the config file.
    #[arg(long, env = "HAN_KEY", hide_env_values = true)]
    pub key: Option<String>,
    /// Authentication key (32 hex digits), when the meter authenticates. Also $HAN_AUTH_KEY, or `auth_key`.
    #[arg(long, env = "HAN_AUTH_KEY", hide_env_values = true)]
    pub auth_key: Option<String>,

    /// Which framing to look for.
    #[arg(long, value_enum, default_value = "auto")]
    pub framing: FramingArg,
    /// Time zone of meters whose clock states no UTC offset (e.g. Europe/Oslo).
    #[arg(long)]
    pub tz: Option<String>,

    /// Exit after the first good reading (for cron and scripts).
    #[arg(long)]
    pub once: bool,
    /// Replay a capture file at the meter's own pace instead of as fast as possible.
    #[arg(long)]
    pub realtime: bool,

    /// Append every received byte to FILE (a capture that replays later).
    #[arg(long, value_name = "FILE")]
    pub raw_log: Option<PathBuf>,
    /// Append every rejected frame, with a time stamp and its reason, to FILE.
    #[arg(long, value_name = "FILE")]
    pub bad_frames: Option<PathBuf>,
    /// Print annotated frames (flag, length, addresses, HCS, payload, FCS) instead of JSON.
    #[arg(long, conflicts_with = "structure")]
    pub hexdump: bool,
    /// Print the decoded A-XDR / telegram structure instead of JSON.
    #[arg(long)]
    pub structure: bool,
    /// Write the input back out as a capture with the meter's ids rewritten, to share it: every frame that
    /// decodes, its checksums computed again, encrypted ones decrypted; what does not decode is left out
    /// (docs/han-read.md, "Sharing a capture").
    #[arg(long, conflicts_with_all = ["hexdump", "structure", "once", "realtime"])]
    pub anonymise: bool,
    /// A meter profile (TOML) for a meter this build does not know: how to recognise its list, where the
    /// values are, their scalers and units (docs/profiles.md). Tried before the built-in ones; give it again
    /// for more files. Also `meter_profiles` in the config file.
    #[arg(long = "meter-profile", value_name = "FILE")]
    pub meter_profile: Vec<PathBuf>,
    /// The config file (default $HAN_TOOLS_CONFIG, else /etc/han-tools/config.toml if it exists):
    /// its [han-read] section may set input, key, auth_key, tz and meter_profiles.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Say less on stderr: no per-frame rejections, only errors, the counters at exit and why no
    /// reading came.
    #[arg(short, long)]
    pub quiet: bool,
}

/// `--framing`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FramingArg {
    /// Find every framing by its start bytes.
    Auto,
    /// HDLC frames (HAN).
    Hdlc,
    /// Wired M-Bus long frames (Austria, Poland).
    Mbus,
    /// DSMR P1 telegrams.
    Dsmr,
    /// Bare LLC PDUs.
    Llc,
    /// Bare DLMS APDUs.
    Apdu,
}

impl From<FramingArg> for han::FramingMode {
    fn from(f: FramingArg) -> Self {
        match f {
            FramingArg::Auto => han::FramingMode::Auto,
            FramingArg::Hdlc => han::FramingMode::Hdlc,
            FramingArg::Mbus => han::FramingMode::Mbus,
            FramingArg::Dsmr => han::FramingMode::Dsmr,
            FramingArg::Llc => han::FramingMode::Llc,
            FramingArg::Apdu => han::FramingMode::Apdu,
        }
    }
}
