//! Settings from flags, else the config file's `[relay]` and `[relay.N]`,
//! else defaults.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, anyhow};
use chrono::{DateTime, NaiveTime, Utc};
use han_common::tz::Tz;
use han_common::{Config, ConfigError, Usage};
use relay::pins::{self, Relay};

use super::cli::{Args, Backend};

const S: &str = "relay";
const KNOWN: &[&str] = &["backend", "state", "www", "rules", "tz", "manual_for"];
const RELAY_KEYS: &[&str] = &["name", "pin", "active_low", "safe"];

#[derive(Debug)]
pub struct Settings {
    pub relays: Vec<Relay>,
    pub state: PathBuf,
    pub backend: Backend,
    pub www: Option<PathBuf>,
    pub rules: Option<PathBuf>,
    pub tz: Tz,
    /// How long a manual command holds a relay by default.
    pub manual_for: Duration,
    pub prices: PathBuf,
    pub now: Option<DateTime<Utc>>,
}

impl Settings {
    pub fn now(&self) -> DateTime<Utc> {
        self.now.unwrap_or_else(Utc::now)
    }

    pub fn relay(&self, n: u32) -> Result<&Relay> {
        self.relays.iter().find(|r| r.number == n).ok_or_else(|| {
            if self.relays.is_empty() {
                return anyhow!(Usage(relay::pins::PinError::None.to_string()));
            }
            anyhow!(Usage(format!(
                "relay {n} is not configured (the config file has {})",
                self.relays.iter().map(|r| r.number.to_string()).collect::<Vec<_>>().join(", ")
            )))
        })
    }
}

fn usage(e: ConfigError) -> anyhow::Error {
    anyhow!(Usage(e.to_string()))
}

/// `22:00-07:00`.
pub fn hours(s: &str, what: &str) -> Result<(NaiveTime, NaiveTime)> {
    let parse = |x: &str| NaiveTime::parse_from_str(x.trim(), "%H:%M").ok();
    s.split_once('-')
        .and_then(|(a, b)| Some((parse(a)?, parse(b)?)))
        .filter(|(a, b)| a != b)
        .ok_or_else(|| anyhow!(Usage(format!("{what} {s:?}: FROM-TO in local time, as 22:00-07:00"))))
}

pub fn settings(args: &Args) -> Result<Settings> {
    let file = Config::load(args.config.as_deref()).map_err(usage)?;
    for w in file.warnings(S, KNOWN) {
        eprintln!("relay: warning: {w}");
    }
    let mut relays = Vec::new();
    for key in file.subsections(S) {
        let section = format!("{S}.{key}");
        for w in file.unknown_keys(&section, RELAY_KEYS) {
            eprintln!("relay: warning: config [{section}] {w}: no such setting (known: {})", RELAY_KEYS.join(", "));
        }
        let number: u32 = key
            .parse()
            .map_err(|_| Usage(format!("config [{section}]: relays are numbered: [relay.1], [relay.2] ...")))?;
        let pin = file
            .integer(&section, "pin")
            .map_err(usage)?
            .ok_or_else(|| Usage(format!("config [{section}]: pin = the relay's BCM GPIO number")))?;
        let pin = u8::try_from(pin).map_err(|_| Usage(pins::PinError::Pin { relay: number, pin }.to_string()))?;
        let safe_on = match file.string(&section, "safe").map_err(usage)?.as_deref() {
            None | Some("off") => false,
            Some("on") => true,
            Some(o) => return Err(Usage(format!("config [{section}] safe = {o:?}: on or off")).into()),
        };
        relays.push(Relay {
            number,
            name: file.string(&section, "name").map_err(usage)?.unwrap_or_else(|| format!("relay {number}")),
            pin,
            active_low: file.boolean(&section, "active_low").map_err(usage)?.unwrap_or(false),
            safe_on,
        });
    }
    relays.sort_by_key(|r| r.number);
    // No relays at all is left to the commands: `restore` at boot has
    // nothing to do, a command on a relay says none is configured.
    if !relays.is_empty() {
        pins::validate(&relays).map_err(|e| Usage(e.to_string()))?;
    }
    let string = |key: &str| file.string(S, key).map_err(usage);
    let backend = match (args.backend, string("backend")?.as_deref()) {
        (Some(b), _) => b,
        (None, None | Some("rppal")) => Backend::Rppal,
        (None, Some("sim")) => Backend::Sim,
        (None, Some(o)) => return Err(Usage(format!("config [relay] backend = {o:?}: rppal or sim")).into()),
    };
    let tz = match string("tz")?.or(file.string("han-log", "tz").map_err(usage)?) {
        Some(z) => han_common::tz::parse(&z).map_err(|e| Usage(format!("time zone: {e}")))?,
        None => han_common::tz::system().0,
    };
    let manual_for = match string("manual_for")? {
        None => Duration::from_secs(2 * 3600),
        Some(d) => han_common::duration::parse(&d).map_err(|e| Usage(format!("config [relay] manual_for: {e}")))?,
    };
    let now = han_common::times::now_flag(args.now.as_deref())?;
    Ok(Settings {
        relays,
        state: args
            .state
            .clone()
            .or(string("state")?.map(PathBuf::from))
            .unwrap_or(han_common::paths::STATE_DIR.into()),
        backend,
        www: args.www.clone().or(string("www")?.map(PathBuf::from)),
        rules: string("rules")?.map(PathBuf::from),
        tz,
        manual_for,
        prices: file
            .string("spotprices", "dir")
            .map_err(usage)?
            .map(PathBuf::from)
            .unwrap_or(han_common::paths::PRICES_DIR.into()),
        now,
    })
}
