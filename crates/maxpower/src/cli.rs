//! Command-line flags.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

const EXAMPLES: &str = "\
Examples:
  maxpower                                  today's hours, the month's top three, step and headroom
  maxpower --limit-wh 5000 --www /var/www/html   and peaks.html, a mail when an hour goes over 5 kWh
  maxpower --json | jq .norway.headroom_wh
  maxpower --set-limit 6000                 store a new limit (kept in the state file)
  han-read /dev/ttyUSB0 | tee >(han-log) | maxpower --follow --www /var/www/html
  maxpower --dir days/ --now 2025-01-31T23:59:00+01:00   a past month, as it stood then

Cron (every 5 minutes; see cron/han-tools):
  */5 * * * *  han  maxpower --www /var/www/html >/dev/null

Mail: set smtp_server, mail_from and mail_to in [maxpower] of the config file
(docs/maxpower.md); the password comes from smtp_password there or from
$MAXPOWER_SMTP_PASSWORD, never from a flag. What was sent is kept in
STATE/maxpower.json, so a rerun never mails the same hour twice; a mail that
could not be sent is retried on the next run.

Exit status: 0 done, 1 the logs or state could not be read or written,
2 bad usage, 4 a mail could not be sent (it is kept and retried).";

/// Energy per clock hour from the daily logs, this month's capacity peaks, and a mail before an hour goes over the limit.
///
/// Reads this month's logs (han-log's DIR/YYYY-MM-DD.jsonl), attributes each reading to its hour
/// by the meter's clock, and sums each hour's energy from the energy registers where the meter
/// sends them, else from power over time. Gaps are reported, never counted as zero. Then, by
/// the tariff: Norway's capacity step (the average of the month's three highest hours on three
/// different days), or Belgium's monthly peak demand (the highest quarter hour, at least 2.5 kW,
/// and the mean of the last 12 months that the bill uses).
#[derive(Debug, Parser)]
#[command(name = "maxpower", version, about, long_about, after_help = EXAMPLES)]
pub struct Args {
    /// The log directory (default: `dir` of [maxpower], else of [han-log], else /var/lib/han-tools/log).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Where the limit and the mails sent are kept (default: `state` of [maxpower], else /var/lib/han-tools/state).
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// Write peaks.html and data/peaks.json into this web folder (or `www` in the config file).
    #[arg(long, value_name = "DIR")]
    pub www: Option<PathBuf>,
    /// The time zone of days and hours (default: `tz` of [maxpower], else of [han-log], else the system's).
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// The capacity tariff (default: `tariff` in the config file, else from the meter's data:
    /// Norwegian HAN lists give no, Belgian demand values give be).
    #[arg(long, value_enum)]
    pub tariff: Option<Tariff>,
    /// The hour's energy limit in Wh for this run (default: the stored limit, else `limit_wh` in the config file).
    #[arg(long, value_name = "WH")]
    pub limit_wh: Option<f64>,
    /// Store WH as the limit in the state file and exit (as the old site's form did).
    #[arg(long, value_name = "WH")]
    pub set_limit: Option<f64>,
    /// Also mail when the current hour is projected to go over the limit (or `warn_projected`).
    #[arg(long)]
    pub warn_projected: bool,
    /// Also mail when the current hour (Belgium: quarter hour) would raise the month's step (or `warn_step`).
    #[arg(long)]
    pub warn_step: bool,
    /// Send no mail this run (what is due stays due).
    #[arg(long)]
    pub no_mail: bool,
    /// Print the summary as JSON (one object) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Then keep reading the live stream (han-read's JSON lines) on stdin, updating the page and
    /// mailing as readings come.
    #[arg(long)]
    pub follow: bool,
    /// Take this as the time now (RFC 3339): a past month as it stood then.
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
    /// Read every day of the month again, not only the days since the last run
    /// (the closed days' sums are kept in STATE/maxpower-days-*.json).
    #[arg(long)]
    pub no_cache: bool,
    /// Read the logs on at most N threads (default: the cores, at most 4).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
    /// The config file (default $HAN_TOOLS_CONFIG, else /etc/han-tools/config.toml if it exists).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// `--tariff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tariff {
    /// Norway: three highest hours on three days pick the month's step.
    No,
    /// Belgium (Flanders): the month's highest quarter hour, 12-month mean.
    Be,
    /// No capacity tariff: hours and the limit only.
    None,
}

impl Tariff {
    /// For people: what the tariff counts.
    pub fn describe(self) -> &'static str {
        match self {
            Tariff::No => "Norway's capacity steps",
            Tariff::Be => "Belgium's peak demand",
            Tariff::None => "no capacity tariff",
        }
    }
}
