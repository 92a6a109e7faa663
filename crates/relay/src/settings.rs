//! Settings from flags, else the config file's `[relay]` and `[relay.N]`,
//! else defaults.

use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Result, anyhow};
use chrono::{DateTime, NaiveTime, Utc};
use han_common::tz::Tz;
use han_common::{Config, ConfigError, Usage, paths};
use relay::pins::{self, Relay};

use crate::cli::{Args, Backend};

const S: &str = "relay";
const KNOWN: &[&str] = &["backend", "state", "www", "rules", "tz", "manual_for"];
const RELAY_KEYS: &[&str] = &["name", "pin", "active_low", "safe", "min_on", "min_off"];

/// Where a user finds how relays are configured: said on a line of its own
/// after every config error.
pub const EXAMPLE: &str = "relays are [relay.N] sections with a pin: the example is etc/config.example.toml \
     (scripts/install.sh installs it as /etc/han-tools/config.toml); see docs/relay.md";

/// A message about the config, and the example on the next line.
fn hinted(message: impl Display) -> String {
    format!("{message}\n  {EXAMPLE}")
}

/// The config file read, or looked for when there is none: every config
/// error names it.
#[derive(Debug, Clone)]
pub struct Source {
    pub path: PathBuf,
    /// False only for the default file when it is missing (no error).
    pub found: bool,
}

impl Source {
    /// The file [`Config::load`] reads: `--config`, else `$HAN_TOOLS_CONFIG`
    /// (both must exist), else the default, which may be missing.
    fn of(args: &Args) -> Source {
        match args.config.clone().or_else(|| std::env::var_os(paths::CONFIG_ENV).map(PathBuf::from)) {
            Some(path) => Source { path, found: true },
            None => Source { found: Path::new(paths::CONFIG).exists(), path: paths::CONFIG.into() },
        }
    }

    /// A config error: the file, what is wrong with it, and the example.
    pub fn error(&self, what: impl Display) -> anyhow::Error {
        anyhow!(Usage(hinted(format_args!("config file {}: {what}", self.path.display()))))
    }

    /// That no relay is configured, and where none was found.
    pub fn no_relays(&self) -> String {
        if self.found {
            hinted(format_args!("no relays configured in {}", self.path.display()))
        } else {
            hinted(format_args!(
                "no relays configured: there is no config file {} (--config FILE or ${} names another)",
                self.path.display(),
                paths::CONFIG_ENV
            ))
        }
    }
}

#[derive(Debug)]
pub struct Settings {
    pub config: Source,
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
        self.relays.iter().find(|r| r.number == n).ok_or_else(|| anyhow!(Usage(self.unknown(n))))
    }

    /// Relay `n` is not configured: which are, in which file.
    pub fn unknown(&self, n: impl Display) -> String {
        let sections: Vec<String> = self.relays.iter().map(|r| format!("[relay.{}]", r.number)).collect();
        match sections.split_last() {
            None => self.config.no_relays(),
            Some((last, [])) => self.unknown_in(n, last),
            Some((last, rest)) => self.unknown_in(n, &format!("{} and {last}", rest.join(", "))),
        }
    }

    fn unknown_in(&self, n: impl Display, sections: &str) -> String {
        hinted(format_args!(
            "relay {n} is not configured: config file {} has {sections} only",
            self.config.path.display()
        ))
    }
}

/// An error of the config file's own (it names the file), and the example.
fn usage(e: ConfigError) -> anyhow::Error {
    anyhow!(Usage(hinted(e)))
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
    let src = Source::of(args);
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
            .map_err(|_| src.error(format!("[{section}]: relays are numbered: [relay.1], [relay.2] ...")))?;
        let pin = file.integer(&section, "pin").map_err(usage)?.ok_or_else(|| {
            src.error(format!("[{section}]: pin = the relay's BCM GPIO number (0-{})", pins::MAX_PIN))
        })?;
        let pin = u8::try_from(pin).map_err(|_| src.error(pins::PinError::Pin { relay: number, pin }))?;
        let safe_on = match file.string(&section, "safe").map_err(usage)?.as_deref() {
            None | Some("off") => false,
            Some("on") => true,
            Some(o) => return Err(src.error(format!("[{section}] safe = {o:?}: on or off"))),
        };
        let min = |key: &str| -> Result<Duration> {
            match file.string(&section, key).map_err(usage)? {
                None => Ok(Duration::ZERO),
                Some(d) => han_common::duration::parse(&d).map_err(|e| src.error(format!("[{section}] {key}: {e}"))),
            }
        };
        relays.push(Relay {
            number,
            name: file.string(&section, "name").map_err(usage)?.unwrap_or_else(|| format!("relay {number}")),
            pin,
            active_low: file.boolean(&section, "active_low").map_err(usage)?.unwrap_or(false),
            safe_on,
            min_on: min("min_on")?,
            min_off: min("min_off")?,
        });
    }
    relays.sort_by_key(|r| r.number);
    // No relays at all is left to the commands: `restore` at boot has
    // nothing to do, `status` says so, a command on a relay is refused.
    if !relays.is_empty() {
        pins::validate(&relays).map_err(|e| src.error(e))?;
    }
    let string = |key: &str| file.string(S, key).map_err(usage);
    let backend = match (args.backend, string("backend")?.as_deref()) {
        (Some(b), _) => b,
        (None, None | Some("rppal")) => Backend::Rppal,
        (None, Some("sim")) => Backend::Sim,
        (None, Some(o)) => return Err(src.error(format!("[relay] backend = {o:?}: rppal or sim"))),
    };
    let tz = match (string("tz")?, file.string("han-log", "tz").map_err(usage)?) {
        (Some(z), _) => han_common::tz::parse(&z).map_err(|e| src.error(format!("[relay] tz: {e}")))?,
        (None, Some(z)) => han_common::tz::parse(&z).map_err(|e| src.error(format!("[han-log] tz: {e}")))?,
        (None, None) => han_common::tz::system().0,
    };
    let manual_for = match string("manual_for")? {
        None => Duration::from_secs(2 * 3600),
        Some(d) => han_common::duration::parse(&d).map_err(|e| src.error(format!("[relay] manual_for: {e}")))?,
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
        config: src,
    })
}
