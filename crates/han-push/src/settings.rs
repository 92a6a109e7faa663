//! What han-push reads from the config file: each setting from its flag,
//! else its key in the subcommand's section, else none.

use han_common::{Config, Usage};

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
