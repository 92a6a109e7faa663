//! `han-push domoticz`: every `--interval` of the readings' time, the
//! newest values update Domoticz's P1 smart meter device and, with
//! `--idx-gas`, its gas device (when the gas reading changed). Only the
//! newest values matter: an update the server missed is not sent later,
//! the next interval sends newer ones; missed updates are counted and said.

mod request;
mod sink;
mod svalue;

use std::time::Duration;

use anyhow::Result;
use han_common::{Config, Usage};

use crate::cli::DomoticzArgs;
use crate::deliver;
use crate::run;
use crate::secrets::{self, DOMOTICZ};
use request::Server;

/// The keys of `[han-push.domoticz]`.
pub const CONFIG_KEYS: &[&str] = &["url", "idx_p1", "idx_gas", "interval", "user", "password", "timeout"];

/// The settings: flags, else `[han-push.domoticz]`, else defaults.
#[derive(Debug)]
struct Settings {
    server: Server,
    idx_p1: Option<u64>,
    idx_gas: Option<u64>,
    interval: chrono::Duration,
}

fn settings(a: &DomoticzArgs, c: &Config) -> Result<Settings, Usage> {
    let s = DOMOTICZ;
    let url = run::string(a.url.as_ref(), c, s, "url")?
        .ok_or_else(|| Usage("which server? --url http://HOST:8080 (or url in [han-push.domoticz])".into()))?;
    let url = crate::http::base_url(&url, "--url")?;
    let idx_p1 = run::number(a.idx_p1, c, s, "idx_p1", 0)?;
    let idx_gas = run::number(a.idx_gas, c, s, "idx_gas", 0)?;
    if idx_p1.is_none() && idx_gas.is_none() {
        return Err(Usage(
            "which device? --idx-p1 N (the P1 smart meter's idx in Setup > Devices), --idx-gas N".into(),
        ));
    }
    let login = secrets::login(c, s, run::string(a.user.as_ref(), c, s, "user")?, "HAN_PUSH_DOMOTICZ_PASSWORD")?;
    let interval = run::duration(a.interval, c, s, "interval")?.unwrap_or(Duration::from_secs(10));
    let timeout = run::duration(a.timeout, c, s, "timeout")?.unwrap_or(Duration::from_secs(10));
    let interval = chrono::Duration::from_std(interval).map_err(|_| Usage("--interval is too long".into()))?;
    Ok(Settings { server: Server { url, login, agent: crate::http::agent(timeout) }, idx_p1, idx_gas, interval })
}

/// Runs `han-push domoticz`.
pub fn run(args: &DomoticzArgs, config: &Config) -> Result<u8> {
    let s = settings(args, config)?;
    // One update waits at most: a newer one takes its place (only the newest values matter).
    let limits = deliver::Limits { buffer: 1, last_try: Duration::MAX, input: 64 };
    deliver::run(sink::Updater::new(s), limits)
}
