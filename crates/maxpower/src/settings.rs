//! Settings from flags, else the config file's `[maxpower]` (and
//! `[han-log]` for the shared log directory and zone), else defaults.

use std::path::PathBuf;

use anyhow::{Result, anyhow};
use chrono::{DateTime, Utc};
use han_common::tz::Tz;
use han_common::{Config, ConfigError};
use han_energy::capacity::DEFAULT_STEPS;

use crate::cli::{Args, Tariff};
use crate::mail::Smtp;
use han_common::Usage;

const S: &str = "maxpower";
const KNOWN: &[&str] = &[
    "dir",
    "state",
    "www",
    "tz",
    "tariff",
    "limit_wh",
    "steps",
    "warn_projected",
    "warn_step",
    "smtp_server",
    "smtp_port",
    "smtp_tls",
    "smtp_user",
    "smtp_password",
    "smtp_ca",
    "mail_from",
    "mail_to",
];

/// What a run works with.
#[derive(Debug)]
pub struct Settings {
    pub dir: PathBuf,
    pub state: PathBuf,
    pub www: Option<PathBuf>,
    pub tz: Tz,
    /// `None`: from the meter's data.
    pub tariff: Option<Tariff>,
    /// The limit for this run (flag), else from the state file, else the config's.
    pub limit_flag: Option<f64>,
    pub limit_config: Option<f64>,
    /// Upper bounds of the steps, kWh/h, rising.
    pub steps: Vec<f64>,
    pub warn_projected: bool,
    pub warn_step: bool,
    /// Mail settings, when a server is set and mail is not turned off.
    pub smtp: Option<Smtp>,
    pub now: Option<DateTime<Utc>>,
}

fn usage(e: ConfigError) -> anyhow::Error {
    anyhow!(Usage(e.to_string()))
}

/// A limit must be a positive number of Wh.
pub fn check_limit(wh: f64, what: &str) -> Result<f64> {
    if wh.is_finite() && wh > 0.0 {
        Ok(wh)
    } else {
        Err(Usage(format!("{what} = {wh}: a positive number of Wh")).into())
    }
}

pub fn settings(args: &Args) -> Result<Settings> {
    let file = Config::load(args.config.as_deref()).map_err(usage)?;
    for w in file.warnings(S, KNOWN) {
        eprintln!("maxpower: warning: {w}");
    }
    let string = |key: &str| -> Result<Option<String>> {
        Ok(match file.string(S, key).map_err(usage)? {
            Some(v) => Some(v),
            None if matches!(key, "dir" | "tz") => file.string("han-log", key).map_err(usage)?,
            None => None,
        })
    };
    let tz = match args.tz.clone().map_or_else(|| string("tz"), |z| Ok(Some(z)))? {
        Some(z) => han_common::tz::parse(&z).map_err(|e| Usage(format!("time zone: {e}")))?,
        None => han_common::tz::system().0,
    };
    let tariff = match (args.tariff, string("tariff")?.as_deref()) {
        (Some(t), _) => Some(t),
        (None, None) => None,
        (None, Some("no")) => Some(Tariff::No),
        (None, Some("be")) => Some(Tariff::Be),
        (None, Some("none")) => Some(Tariff::None),
        (None, Some(other)) => {
            return Err(Usage(format!("config [maxpower] tariff = {other:?}: no, be or none")).into());
        }
    };
    let steps = match file.numbers(S, "steps").map_err(usage)? {
        None => DEFAULT_STEPS.to_vec(),
        Some(s) => {
            let rising = s.windows(2).all(|w| matches!(w, [a, b] if a < b));
            if s.is_empty() || !rising || s.iter().any(|x| !x.is_finite() || *x <= 0.0) {
                return Err(Usage(format!(
                    "config [maxpower] steps = {s:?}: the steps' upper bounds in kWh/h, rising (as [2, 5, 10, 15, 20, 25, 50])"
                ))
                .into());
            }
            s
        }
    };
    let limit_config = file.number(S, "limit_wh").map_err(usage)?.map(|w| check_limit(w, "limit_wh")).transpose()?;
    let limit_flag = args.limit_wh.map(|w| check_limit(w, "--limit-wh")).transpose()?;
    let boolean = |key| file.boolean(S, key).map_err(usage).map(|b| b.unwrap_or(false));
    let now = han_common::times::now_flag(args.now.as_deref())?;
    let smtp = if args.no_mail { None } else { Smtp::from_config(&file).map_err(Usage)? };
    Ok(Settings {
        dir: args.dir.clone().or(string("dir")?.map(PathBuf::from)).unwrap_or(han_common::paths::LOG_DIR.into()),
        state: args
            .state
            .clone()
            .or(string("state")?.map(PathBuf::from))
            .unwrap_or(han_common::paths::STATE_DIR.into()),
        www: args.www.clone().or(string("www")?.map(PathBuf::from)),
        tz,
        tariff,
        limit_flag,
        limit_config,
        steps,
        warn_projected: args.warn_projected || boolean("warn_projected")?,
        warn_step: args.warn_step || boolean("warn_step")?,
        smtp,
        now,
    })
}
