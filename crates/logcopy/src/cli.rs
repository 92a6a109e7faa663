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

The target must be on the stick: on a filesystem mounted at --mount-point
(or mount_point in [logcopy]), else at the stick's /etc/fstab entry (such as
'/dev/sda1 /media/usb vfat nofail 0 0'), else on any mounted filesystem but
/ (the SD card); and not on the logs' filesystem. A stick not mounted leaves
an empty folder on the SD card: logcopy refuses it, names the mount point it
expected, and copies nothing.

The target gets log/ and prices/ folders. Each file is copied to a temporary
name, fsynced, read back and compared (size and SHA-256), renamed, and only
then removed here. Today's files stay, and so does a day file han-log still
has open (it holds a lock on it): it goes on a later run. A day with both a
plain file and its .gz (late readings) is merged here into the .gz first, as
han-log --compress-after does, and the .gz goes. A name already on the
target with other content is never overwritten: both are kept and the run
says so.

Exit status: 0 done, 1 a file could not be copied or verified (its source
is kept), 2 bad usage, 3 the target is on the logs' (or prices') filesystem,
4 not enough space on the target, 5 a name clash (both kept), 6 the target
is not on a mounted filesystem of its own (is the stick plugged in and
mounted?).";

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
    /// Where the stick is mounted (or `mount_point` in [logcopy]; default: the mount point of its
    /// /etc/fstab entry): the target must be on the filesystem mounted exactly there.
    #[arg(long, value_name = "DIR")]
    pub mount_point: Option<PathBuf>,
    /// The config file (default: $HAN_TOOLS_CONFIG, else /etc/han-tools/config.toml, if it exists).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Act as if it were this instant (RFC 3339): for trying things out and for tests.
    #[arg(long, value_name = "TIME", hide = true)]
    pub now: Option<String>,
    /// The fstab file that says where the stick is mounted: for tests.
    #[arg(long, value_name = "FILE", hide = true, default_value = "/etc/fstab")]
    pub fstab: PathBuf,
}
