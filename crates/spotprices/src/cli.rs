//! Command-line flags.

use std::path::PathBuf;

use clap::{Args as ClapArgs, Parser, Subcommand, ValueEnum};

// Each help's examples use only the options that help lists (a test below
// checks it): the subcommands' own options are not in the top help.
const EXAMPLES: &str = "\
Examples (`spotprices fetch --help` and `spotprices show --help` have more):
  spotprices fetch --zone NO1 --date tomorrow      tomorrow's prices into /var/lib/han-tools/prices
  spotprices fetch --date 2025-10-26 --hourly      a past day (a 25-hour one), with hour means
  spotprices show                                  today's slots, the current one marked
  spotprices show --www /var/www/html              prices.html and data/prices-YYYY-MM-DD.json

The ENTSO-E token comes from `token` in [spotprices] of the config file or
from $SPOTPRICES_TOKEN, never from a flag. Without one, the zone's no-token
source is used where there is one (NO, SE, DK). The file format is in
docs/prices-format.md.

Exit status: 0 done, 1 a file could not be read or written or a document
was wrong, 2 bad usage, 3 no prices yet (not published, or the source
refused the request: it says why), 4 no source could be reached.";

const FETCH_EXAMPLES: &str = "\
Examples:
  spotprices fetch --zone NO1 --date tomorrow      tomorrow's prices into /var/lib/han-tools/prices
  spotprices fetch --date 2025-10-26 --hourly      a past day (a 25-hour one), with hour means
  spotprices fetch --source public                 from the no-token source for the zone
  spotprices fetch --date today --force            again, though the day's file is there
  spotprices fetch --date tomorrow --www /var/www/html
                                                   and remake prices.html

Cron (see cron/han-tools): tomorrow after the 13:00 publication, retried
until it is there:
  5,25,45 13-22 * * *  han  spotprices fetch --date tomorrow --quiet-if-done >/dev/null 2>&1
  45 23 * * *          han  spotprices fetch --date tomorrow --quiet-if-done >/dev/null

The ENTSO-E token comes from `token` in [spotprices] of the config file or
from $SPOTPRICES_TOKEN, never from a flag. Without one, the zone's no-token
source is used where there is one (NO, SE, DK).

Exit status: 0 done (or the file was there), 1 a file could not be read or
written or a document was wrong, 2 bad usage, 3 no prices yet (not
published, or the source refused the request: it says why), 4 no source
could be reached.";

const SHOW_EXAMPLES: &str = "\
Examples:
  spotprices show                                  today's slots, the current one marked
  spotprices show --date tomorrow --json | jq .cheapest
  spotprices show --hourly                         with hour means, for users billed per hour
  spotprices show --www /var/www/html              prices.html and data/prices-YYYY-MM-DD.json

Cron (see cron/han-tools): the page is remade every quarter hour:
  */15 * * * *         han  spotprices show --www /var/www/html >/dev/null

Exit status: 0 done, 1 a file could not be read or written, 2 bad usage,
3 no prices for the day yet (`spotprices fetch` gets them).";

/// Day-ahead spot prices for a bidding zone, in the local currency and all-in, as files and a page.
///
/// `fetch` gets a day's prices from the ENTSO-E Transparency Platform (or a no-token public
/// source), cuts them to the zone's local day (23, 24 or 25 hours; 15- or 60-minute slots),
/// converts EUR/MWh to the local currency per kWh with the official rate published before the
/// auction, adds the tariff when one is configured, and writes prices/YYYY-MM-DD.json and .csv.
/// `show` prints a day as a table, as JSON, or as prices.html.
#[derive(Debug, Parser)]
#[command(name = "spotprices", version, about, long_about, after_help = EXAMPLES)]
pub struct Args {
    /// The config file (default: $HAN_TOOLS_CONFIG, else /etc/han-tools/config.toml, if it exists).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The bidding zone (default: `zone` in [spotprices]): NO1-NO5, SE1-SE4, DK1, DK2, FI, NL, BE, DE-LU, AT, FR, ...
    #[arg(long, global = true)]
    pub zone: Option<String>,
    /// The prices directory (default: `dir` in [spotprices], else /var/lib/han-tools/prices).
    #[arg(long, global = true, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// The day: today, tomorrow, yesterday or YYYY-MM-DD (the zone's local day; default today).
    #[arg(long, global = true, default_value = "today")]
    pub date: String,
    /// Also write prices.html and data/prices-YYYY-MM-DD.json into this web folder (or `www` in the config).
    #[arg(long, global = true, value_name = "DIR")]
    pub www: Option<PathBuf>,
    /// Hour means beside the slots, for users billed per hour (or `hourly = true` in the config).
    #[arg(long, global = true)]
    pub hourly: bool,
    #[command(flatten)]
    pub now: han_common::times::NowFlag,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fetch a day's prices and write its files.
    #[command(after_help = FETCH_EXAMPLES)]
    Fetch(Fetch),
    /// Show a day's prices.
    #[command(after_help = SHOW_EXAMPLES)]
    Show(Show),
}

#[derive(Debug, ClapArgs)]
pub struct Fetch {
    /// The source to try first (default: `source` in the config, else entsoe when a token is set);
    /// the other is the fallback.
    #[arg(long, value_enum)]
    pub source: Option<Source>,
    /// ENTSO-E's API URL (default: `api_url` in the config, else https://web-api.tp.entsoe.eu/api).
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// The currency (default: `currency` in the config, else the zone's: NOK, SEK, DKK, EUR...).
    #[arg(long)]
    pub currency: Option<String>,
    /// Fetch again even when the day's file is already there.
    #[arg(long)]
    pub force: bool,
    /// Say nothing when the day's file is already there (for cron lines that repeat).
    #[arg(long)]
    pub quiet_if_done: bool,
}

#[derive(Debug, ClapArgs)]
pub struct Show {
    /// Print JSON: the day, its current, cheapest and dearest slots and min/avg/max.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Source {
    /// The ENTSO-E Transparency Platform (needs a token).
    Entsoe,
    /// The zone's public no-token API (hvakosterstrommen.no, elprisetjustnu.se, Energi Data Service).
    Public,
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::Args;

    /// The example lines of a help text (indented; prose is not): the words
    /// of each command from `spotprices` up to its description, a pipe or a
    /// redirection.
    fn examples(help: &str) -> Vec<Vec<&str>> {
        help.lines()
            .filter(|l| l.starts_with("  "))
            .filter_map(|l| l.split_once("spotprices ").map(|(_, rest)| rest))
            .map(|rest| {
                let rest = rest.split("  ").next().unwrap_or_default();
                rest.split_whitespace().take_while(|w| *w != "|" && !w.starts_with('>') && *w != "2>&1").collect()
            })
            .collect()
    }

    #[test]
    fn every_example_parses_and_uses_only_the_options_its_help_lists() {
        let mut top = Args::command();
        top.build();
        top.clone().debug_assert();
        let mut helps = vec![(None, top.clone())];
        // clap's own `help` subcommand has no examples.
        helps.extend(
            top.get_subcommands()
                .filter(|c| c.get_name() != "help")
                .map(|c| (Some(c.get_name().to_string()), c.clone())),
        );
        let mut seen = 0;
        for (sub, cmd) in helps {
            let listed: Vec<String> = cmd
                .get_arguments()
                .filter(|a| !a.is_hide_set())
                .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
                .collect();
            let help = cmd.get_after_help().map(|h| h.to_string()).unwrap_or_default();
            let found = examples(&help);
            assert!(found.len() >= 3, "{sub:?}: too few examples found in {help}");
            for words in found {
                seen += 1;
                let parsed = Args::try_parse_from(std::iter::once("spotprices").chain(words.iter().copied()));
                assert!(
                    parsed.is_ok(),
                    "{sub:?}: spotprices {words:?}: {}",
                    parsed.map_or_else(|e| e.to_string(), |_| String::new())
                );
                if let Some(sub) = &sub {
                    assert_eq!(words.first(), Some(&sub.as_str()), "{sub}'s help shows another command: {words:?}");
                }
                for w in words.iter().filter(|w| w.starts_with("--")) {
                    assert!(
                        listed.contains(&w.to_string()),
                        "{sub:?}: {w} in {words:?} is not in that help: {listed:?}"
                    );
                }
            }
        }
        assert!(seen >= 12, "{seen} examples");
    }
}
