//! Command-line flags.

use std::path::PathBuf;

use clap::Parser;

const EXAMPLES: &str = "\
Examples:
  logcopy --to /media/usb/meter            move the closed days (logs and prices) to the stick
  logcopy --to /media/usb/meter --gzip     compressed on the way (YYYY-MM-DD.jsonl.gz)
  logcopy --to /media/usb/meter --keep-days 7   the last week stays on the Pi as well
  logcopy --to /media/usb/meter --dry-run  what would be done

Cron (see cron/han-tools), after midnight:
  20 0 * * *  han  logcopy --to /media/usb/meter --gzip

The target gets log/ and prices/ folders. Each file is copied to a temporary
name, fsynced, read back and compared (size and SHA-256), renamed, and only
then removed here. Today's files, and a day han-log is still compressing,
stay. A name already on the target with other content is never
overwritten: both are kept and the run says so.

Exit status: 0 done, 1 a file could not be copied or verified (its source
is kept), 2 bad usage, 3 the target is not another mounted filesystem (is
the stick in?), 4 not enough space on the target, 5 a name clash (both kept).";

/// Move closed daily logs and price files to a USB stick, verified, so the SD card never fills.
#[derive(Debug, Parser)]
#[command(name = "logcopy", version, about, long_about, after_help = EXAMPLES)]
pub struct Args {
    /// The target folder on the stick (or `to` in [logcopy]).
    #[arg(long, value_name = "DIR")]
    pub to: Option<PathBuf>,
    /// The log directory (default: `dir` of [han-log], else /var/lib/han-tools/log).
    #[arg(long, value_name = "DIR")]
    pub logs: Option<PathBuf>,
    /// The prices directory (default: `dir` of [spotprices], else /var/lib/han-tools/prices; skipped when absent).
    #[arg(long, value_name = "DIR")]
    pub prices: Option<PathBuf>,
    /// Compress on the way (files already .gz are copied as they are).
    #[arg(long)]
    pub gzip: bool,
    /// Say what would be done, and do nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Keep the latest N closed days here as well (copied, not removed).
    #[arg(long, value_name = "N")]
    pub keep_days: Option<u32>,
    /// The time zone of the days (default: `tz` of [han-log], else the system's).
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// The config file (default: $HAN_TOOLS_CONFIG, else /etc/han-tools/config.toml, if it exists).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Act as if it were this instant (RFC 3339): for trying things out and for tests.
    #[arg(long, value_name = "TIME", hide = true)]
    pub now: Option<String>,
}
