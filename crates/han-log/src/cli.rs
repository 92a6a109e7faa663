//! Command-line flags.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};

const EXAMPLES: &str = "\
Examples:
  han-read /dev/ttyUSB0 | han-log                       store readings in /var/lib/han-tools/log
  han-read /dev/ttyUSB0 | han-log --dir ~/meter --www /var/www/html --csv
  han-read capture.bin | han-log --dir days/ --tz Europe/Oslo   a replay lands in the days it describes
  han-sim -m dsmr5 --duration 2d | han-read | han-log --dir /tmp/log --compress-after 1
  pkill -USR1 han-log                                   print the counters on stderr

Files: DIR/YYYY-MM-DD.jsonl (each reading exactly as received, a line each),
DIR/YYYY-MM-DD.csv with --csv, .gz once older than --compress-after days;
with --www: WWW/index.html (when missing or written by han-log),
WWW/data/current.json (the latest reading) and WWW/data/today.json.

Exit status: 0 the input ended and every reading was stored, 1 the input
could not be read, 2 bad usage, 3 the input ended but some readings could not
be stored (the count is printed).";

/// Appends the JSON-line stream of han-read to one file per local day; keeps the live page's data.
///
/// Each reading goes to the day of its time in --tz: the meter's clock when the reading has one
/// (a reading without it takes the meter clock of the readings before it, moved on by the time
/// received), else the time it was received. Files are appended whole lines at a time and synced
/// every --sync-every; a full or read-only disk is reported and retried while readings wait in
/// memory (up to --max-buffer).
#[derive(Debug, Parser)]
#[command(name = "han-log", version, about, long_about, after_help = EXAMPLES)]
pub struct Args {
    /// The log directory (default: `dir` of [han-log] in the config file, else /var/lib/han-tools/log).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Also keep the live page's files in this web folder (or `www` in the config file).
    #[arg(long, value_name = "DIR")]
    pub www: Option<PathBuf>,
    /// The time zone of the days (default: `tz` in the config file, else the system's).
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// Which time puts a reading in its day.
    #[arg(long, value_enum, default_value = "meter")]
    pub clock: Clock,
    /// Also write YYYY-MM-DD.csv: time and the normalised quantities (docs/han-log.md).
    #[arg(long)]
    pub csv: bool,
    /// Sync the files to disk at least this often (default 5s): at most this much is lost on power loss.
    #[arg(long, value_name = "DURATION", value_parser = han_common::duration::parse)]
    pub sync_every: Option<Duration>,
    /// Gzip the days older than N days (N = 1: yesterday stays plain). Default: never.
    #[arg(long, value_name = "N")]
    pub compress_after: Option<u32>,
    /// Memory for readings waiting while the disk refuses them, in MiB (default 32); beyond it new
    /// readings are dropped and counted.
    #[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_buffer: Option<u32>,
    /// The config file (default $HAN_TOOLS_CONFIG, else /etc/han-tools/config.toml if it exists):
    /// its [han-log] section may set dir, www, tz, clock, csv, sync_every, compress_after and
    /// max_buffer.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Say each sync on stderr (with the count of readings stored so far).
    #[arg(short, long)]
    pub verbose: bool,
}

/// `--clock`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Clock {
    /// The meter's clock when the reading has one, else the time received.
    Meter,
    /// Always the time han-read received it.
    Received,
}

impl From<Clock> for han_common::days::Clock {
    fn from(c: Clock) -> Self {
        match c {
            Clock::Meter => han_common::days::Clock::Meter,
            Clock::Received => han_common::days::Clock::Received,
        }
    }
}
