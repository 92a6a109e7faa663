//! `han-push domoticz`: every `--interval` of the readings' time, the
//! newest values update Domoticz's P1 smart meter device and, with
//! `--idx-gas`, its gas device (when the gas reading changed). Only the
//! newest values matter: an update the server missed is not sent later,
//! the next interval sends newer ones; missed updates are counted and said.

mod svalue;
mod worker;

use std::sync::atomic::Ordering;
use std::sync::mpsc::{RecvTimeoutError, TrySendError, sync_channel};
use std::time::Duration;

use anyhow::{Result, anyhow};
use chrono::{DateTime, Utc};
use han_common::{Config, Usage};

use crate::cli::DomoticzArgs;
use crate::run::{self, NOT_ALL_DELIVERED};
use crate::secrets::{self, DOMOTICZ};
use crate::stream::Input;
use svalue::Latest;
use worker::{Job, Server};

/// The keys of `[han-push.domoticz]`.
pub const CONFIG_KEYS: &[&str] = &["url", "idx_p1", "idx_gas", "interval", "user", "password", "timeout"];

/// How often the loop looks at the signal flag while nothing comes.
const TICK: Duration = Duration::from_millis(200);

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

/// The update of the newest values, when there is something to send.
fn job(s: &Settings, latest: &Latest) -> Option<Job> {
    let p1 = s.idx_p1.and_then(|idx| Some((idx, latest.p1()?)));
    let gas = s.idx_gas.and_then(|idx| Some((idx, latest.gas_litres()?)));
    (p1.is_some() || gas.is_some()).then_some(Job { p1, gas })
}

/// Runs `han-push domoticz`.
pub fn run(args: &DomoticzArgs, config: &Config) -> Result<u8> {
    let s = settings(args, config)?;
    let stop = run::stop_flag()?;
    let input = run::input(64);
    let (tx, jobs) = sync_channel::<Job>(1);
    let server = s.server.clone();
    let worker = std::thread::spawn(move || worker::work(&server, &jobs));
    let mut latest = Latest::default();
    // The reading time of the last update.
    let mut last: Option<DateTime<Utc>> = None;
    // Readings taken in since the last update.
    let mut unsent = false;
    let (mut busy, mut waiting_said) = (0u64, false);
    let mut failed = None;
    let mut readings = 0u64;
    loop {
        if stop.load(Ordering::Relaxed) {
            eprintln!("han-push: stopping (signal)");
            break;
        }
        let r = match input.rx.recv_timeout(TICK) {
            Ok(Input::Reading(r)) => r,
            Ok(Input::End) | Err(RecvTimeoutError::Disconnected) => break,
            Ok(Input::Failed(e)) => {
                failed = Some(e);
                break;
            }
            Err(RecvTimeoutError::Timeout) => continue,
        };
        readings += 1;
        latest.update(&r);
        unsent = true;
        // By the readings' time; a clock that went back starts again.
        // (An interval past chrono's range is never due again.)
        let due = last.is_none_or(|t| t.checked_add_signed(s.interval).is_some_and(|n| r.time >= n) || r.time < t);
        if !due {
            continue;
        }
        let Some(j) = job(&s, &latest) else {
            if !waiting_said {
                waiting_said = true;
                eprintln!(
                    "han-push: domoticz: waiting for a reading with the energy registers (HAN meters send them once an hour) before the first update"
                );
            }
            continue;
        };
        match tx.try_send(j) {
            Ok(()) => unsent = false,
            // The server is still busy with the one before: this one is skipped.
            Err(TrySendError::Full(_)) => busy += 1,
            // The worker ended: a refused login (its error comes below).
            Err(TrySendError::Disconnected(_)) => break,
        }
        last = Some(r.time);
    }
    // The newest values, when the last interval's update did not have them.
    let mut none_to_send = readings > 0 && last.is_none();
    if unsent {
        if let Some(j) = job(&s, &latest) {
            none_to_send = false;
            let _ = tx.send(j);
        }
    }
    drop(tx);
    let counts = worker
        .join()
        .map_err(|_| anyhow!("domoticz: the request thread failed"))?
        .map_err(|e| anyhow!("domoticz: {e}"))?;
    if input.skipped() > 0 {
        eprintln!("han-push: {} lines of stdin were not readings (skipped)", input.skipped());
    }
    if counts.missed > 0 || busy > 0 {
        eprintln!(
            "han-push: domoticz: updates: {} sent, {} missed, {busy} skipped while the server was still busy with the one before",
            counts.sent, counts.missed
        );
    }
    if let Some(e) = failed {
        return Err(anyhow!("cannot read stdin: {e}"));
    }
    if none_to_send {
        eprintln!(
            "han-push: domoticz: no reading had what the devices need (energy registers, a gas reading): nothing was sent"
        );
        return Ok(NOT_ALL_DELIVERED);
    }
    if last.is_some() && !counts.last_ok {
        eprintln!("han-push: domoticz: the newest readings could not be delivered");
        return Ok(NOT_ALL_DELIVERED);
    }
    Ok(0)
}
