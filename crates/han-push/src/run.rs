//! What every subcommand shares: the config file and its warnings, the
//! exit statuses, the settings from flag or config.

use anyhow::Result;
use han_common::{Config, Usage};

use crate::cli::{Args, Command};
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

/// A setting: the flag, else the config key (`section`, `key`), else none.
pub fn string(flag: Option<&String>, config: &Config, section: &str, key: &str) -> Result<Option<String>, Usage> {
    match flag {
        Some(f) => Ok(Some(f.clone())),
        None => config.string(section, key).map_err(|e| Usage(e.to_string())),
    }
}

/// A whole-number setting, at least `min`: the flag, else the config key.
pub fn number(flag: Option<u64>, config: &Config, section: &str, key: &str, min: u64) -> Result<Option<u64>, Usage> {
    let v = match flag {
        Some(f) => Some(f),
        None => match config.integer(section, key).map_err(|e| Usage(e.to_string()))? {
            Some(i) => {
                Some(u64::try_from(i).map_err(|_| Usage(format!("config [{section}] {key} = {i}: not below 0")))?)
            }
            None => None,
        },
    };
    match v {
        Some(n) if n < min => Err(Usage(format!("{key} must be at least {min}, not {n}"))),
        v => Ok(v),
    }
}

/// A duration setting, more than zero: the flag, else the config key (`"10s"`).
pub fn duration(
    flag: Option<std::time::Duration>,
    config: &Config,
    section: &str,
    key: &str,
) -> Result<Option<std::time::Duration>, Usage> {
    let v = match flag {
        Some(d) => Some(d),
        None => match config.string(section, key).map_err(|e| Usage(e.to_string()))? {
            Some(s) => {
                Some(han_common::duration::parse(&s).map_err(|e| Usage(format!("config [{section}] {key}: {e}")))?)
            }
            None => None,
        },
    };
    match v {
        Some(d) if d.is_zero() => Err(Usage(format!("{key} must be more than 0"))),
        v => Ok(v),
    }
}
