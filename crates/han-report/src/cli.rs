//! Command-line flags.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

const EXAMPLES: &str = "\
Examples:
  han-report summary                                   every day in the logs
  han-report summary --from 2026-10-01 --to 2026-10-31 --prices /var/lib/han-tools/prices
  han-report summary --dir ~/meter/log --format json | jq '.months[0].norway_step'
  han-report summary --format csv > days.csv           a row per day
  han-report summary --from 2026-10-01 --to 2026-10-01 --hours --prices /var/lib/han-tools/prices
                                                       each hour's energy and cost
  han-report plot days --from 2026-10-01 --to 2026-10-31 --out october.png

It reads han-log's day files (.jsonl, .jsonl.gz, and .csv where a day has no
.jsonl) and spotprices' price files, on the Pi or a laptop.

Exit status: 0 done, 1 the logs or prices could not be read, 2 bad usage.";

/// What the house used, when, and what it cost: summaries of the daily logs and the price files.
#[derive(Debug, Parser)]
#[command(name = "han-report", version, about, long_about, after_help = EXAMPLES)]
pub struct Args {
    /// The config file (default: $HAN_TOOLS_CONFIG, else /etc/han-tools/config.toml, if it exists).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Energy per day and month, the hour-of-day profile, power, the capacity peaks, gaps; with --prices the cost.
    Summary(Summary),
    /// A chart as SVG or PNG: a day's power, energy per hour or per day, price against consumption, the monthly peaks.
    Plot(Plot),
}

#[derive(Debug, clap::Args)]
pub struct Plot {
    /// What to draw.
    #[arg(value_enum)]
    pub kind: Kind,
    /// The file to write: .svg, or .png (the same chart rasterised at twice the size, 2000 x 1000).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// The day (for `day`; else the same as --from and --to that day).
    #[arg(long)]
    pub date: Option<String>,
    #[command(flatten)]
    pub span: Summary,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    /// A day's import and export power, minute by minute (--date).
    Day,
    /// Energy per hour.
    Hours,
    /// Energy per day.
    Days,
    /// Energy per hour against its price (--prices).
    Price,
    /// Each month's capacity peaks: Norway's three-day average, Belgium's quarter.
    Peaks,
}

#[derive(Debug, clap::Args)]
pub struct Summary {
    /// The first local day (YYYY-MM-DD; default: the first in the logs).
    #[arg(long)]
    pub from: Option<String>,
    /// The last local day (default: the last in the logs).
    #[arg(long)]
    pub to: Option<String>,
    /// The log directory (default: `dir` of [han-log], else /var/lib/han-tools/log).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// The price files (spotprices' directory), for the costs.
    #[arg(long, value_name = "DIR")]
    pub prices: Option<PathBuf>,
    /// The time zone of the days (default: `tz` of [han-log], else the system's).
    #[arg(long)]
    pub tz: Option<String>,
    /// Norway's capacity steps, kWh/h (default: `steps` of [maxpower], else 2,5,10,15,20,25,50).
    #[arg(long, value_delimiter = ',')]
    pub steps: Option<Vec<f64>>,
    /// How many threads read the logs (default: the cores, at most 4); the result is the same.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Each hour too: import, export and, with --prices, its cost (CSV: a row per hour).
    #[arg(long)]
    pub hours: bool,
    /// The kWh of a month that get the support in the all-in prices, or `none` (default: `support_cap_kwh` of [han-report], else 5000 for Norwegian prices, none elsewhere).
    #[arg(long, value_name = "KWH|none")]
    pub support_cap: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
}
