//! Command-line flags.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

const EXAMPLES: &str = "\
Examples:
  relay 1 on                       switch relay 1 on (held against rules and schedule for manual_for, 2h)
  relay 2 off --for 30m            off, held for 30 minutes, then the rules take over again
  relay 1 toggle --for 0           toggle, no hold
  relay status                     every relay: state, since when, why (--json)
  relay restore                    at boot: every relay to its last commanded state, else its safe state
  han-read /dev/ttyUSB0 | relay watch --rules /etc/han-tools/relay-rules.toml
  relay schedule 1 --cheapest 4h --window 22:00-07:00 --fallback 01:00-05:00
  relay schedule 2 --cheapest 3h --contiguous --window 22:00-07:00    one block of 3 hours in a row

Who decides when several want a relay: a hold by hand, then the capacity rule's
off (and its fail-safe), then the plan's on, then the surplus rule, then the
plan's off, then what the capacity rule gives back (docs/relay.md).

Cron (see cron/han-tools):
  @reboot        han  relay restore
  */15 * * * *   han  relay schedule 1 --cheapest 4h --window 22:00-07:00 --fallback 01:00-05:00

Relays are [relay.N] sections of the config file (docs/relay.md):
  [relay]            backend = \"rppal\" (a Raspberry Pi's GPIO) or \"sim\" (a file)
  [relay.1]          name = \"water heater\", pin = 17, active_low = true, safe = \"off\",
                     min_on = \"10m\", min_off = \"5m\" (no rule or plan switches it sooner)

With no relay configured, `status` and `restore` say so on stderr, touch
nothing and exit 0; the other commands exit 2.

Exit status: 0 done, 1 the GPIO, the state or a price file failed, 2 bad
usage (an unknown relay, no relays, a pin used twice, a bad config or rules
file), 3 schedule: no prices for the window and no fallback (the relay went
to its safe state).";

/// The switch form is no clap subcommand (`relay 1 on` is parsed by hand,
/// see [`Command::Switch`]), so the help lists it above clap's commands.
const TEMPLATE: &str = "\
{before-help}{about-with-newline}
{usage-heading} {usage}

Commands:
  N on|off|toggle [--for DURATION]
            Switch relay N now, held for DURATION (default: `manual_for` in [relay], 2h; 0: no hold)
{subcommands}

Options:
{options}{after-help}";

/// Switch relays by hand, by solar surplus and overload on the live stream, and by price.
///
/// Every change is recorded: the state file (STATE/relay.json, written atomically) and an
/// append-only event log (STATE/relay-events.jsonl: time, relay, new state, who asked).
#[derive(Debug, Parser)]
#[command(name = "relay", version, about, long_about, after_help = EXAMPLES, help_template = TEMPLATE)]
#[command(override_usage = "relay [OPTIONS] N on|off|toggle [--for DURATION]\n       relay [OPTIONS] <COMMAND>")]
#[command(allow_external_subcommands = true)]
pub struct Args {
    /// The config file (default: $HAN_TOOLS_CONFIG, else /etc/han-tools/config.toml, if it exists).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The state folder (default: `state` in [relay], else /var/lib/han-tools/state).
    #[arg(long, global = true, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// The GPIO backend (default: `backend` in [relay], else rppal).
    #[arg(long, global = true, value_enum)]
    pub backend: Option<Backend>,
    /// Also write relays.html and data/relays.json into this web folder (or `www` in [relay]).
    #[arg(long, global = true, value_name = "DIR")]
    pub www: Option<PathBuf>,
    #[command(flatten)]
    pub now: han_common::times::NowFlag,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Every relay: state, since when, why, a hold, the schedule's plan.
    Status {
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Every relay back to its last commanded state, or to its safe state (at boot).
    Restore,
    /// Apply the rules of FILE to the live stream on stdin.
    Watch {
        /// The rules file (default: `rules` in [relay]).
        #[arg(long, value_name = "FILE")]
        rules: Option<PathBuf>,
    },
    /// Switch a relay on in the cheapest slots of a window, from the price files (for cron, every 15 minutes).
    Schedule(Schedule),
    /// `N on|off|toggle [--for DURATION]`.
    #[command(external_subcommand)]
    Switch(Vec<String>),
}

#[derive(Debug, clap::Args)]
pub struct Schedule {
    /// The relay.
    pub relay: u32,
    /// How long the relay is on in the window: the cheapest slots adding up to it (4h, 90m).
    #[arg(long, value_name = "DURATION")]
    pub cheapest: String,
    /// The window, local time (22:00-07:00 runs across midnight).
    #[arg(long, value_name = "FROM-TO")]
    pub window: String,
    /// One block of consecutive slots, the cheapest in the window (a dishwasher, a car that must not stop midway).
    #[arg(long)]
    pub contiguous: bool,
    /// On in these hours instead when the prices for the window are not out yet (01:00-05:00).
    #[arg(long, value_name = "FROM-TO")]
    pub fallback: Option<String>,
    /// Choose by hour means, for users billed per hour.
    #[arg(long)]
    pub hourly: bool,
    /// The prices directory (default: `dir` in [spotprices], else /var/lib/han-tools/prices).
    #[arg(long, value_name = "DIR")]
    pub prices: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// A Raspberry Pi's GPIO (rppal).
    Rppal,
    /// Simulated: pin levels in STATE/relay-sim.json, for tests and for trying it on a laptop.
    Sim,
}
