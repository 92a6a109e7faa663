//! What every subcommand shares: the config file and its warnings, the
//! exit statuses.

use anyhow::Result;
use han_common::{Config, Usage};

use crate::cli::{Args, Command};
// The subcommands still reach the settings as `run::string` and so on.
pub use crate::settings::{duration, number, string};
use crate::{domoticz, influx, mqtt, secrets};

/// Exit status: the input ended but some readings could not be delivered.
pub const NOT_ALL_DELIVERED: u8 = 3;

/// Loads the config file, says its warnings, runs the subcommand.
pub fn run(args: &Args) -> Result<u8> {
    let config = Config::load(args.config.as_deref()).map_err(|e| Usage(e.to_string()))?;
    let (section, known) = match &args.command {
        Command::Mqtt(_) => (secrets::MQTT, mqtt::CONFIG_KEYS),
        Command::Influx(_) => (secrets::INFLUX, influx::CONFIG_KEYS),
        Command::Domoticz(_) => (secrets::DOMOTICZ, domoticz::CONFIG_KEYS),
    };
    for w in config.warnings(section, known) {
        eprintln!("han-push: warning: {w}");
    }
    match &args.command {
        Command::Mqtt(a) => mqtt::run(a, &config),
        Command::Influx(a) => influx::run(a, &config),
        Command::Domoticz(a) => domoticz::run(a, &config),
    }
}
