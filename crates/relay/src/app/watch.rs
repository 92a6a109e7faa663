//! `relay watch --rules FILE`: the live stream on stdin through the rule
//! engine. The engine's clock is the stream's (each line's `received`, else
//! its meter time), carried on by the wall clock between lines, so a
//! recorded stream plays out as it was and a live one never stands still.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use chrono::{DateTime, Utc};
use han_common::Usage;
use han_common::line::Line;
use han_common::times::StreamTime;
use relay::engine::{Blocked, Engine, Sample, allowed};
use relay::state::By;

use super::backend;
use super::settings::Settings;
use super::store::{Store, say};

/// How often the clock is looked at between lines.
const TICK: Duration = Duration::from_millis(500);

pub fn run(s: &Settings, rules_flag: Option<&std::path::Path>) -> Result<u8> {
    if s.relays.is_empty() {
        return Err(Usage(s.config.no_relays()).into());
    }
    let path = rules_flag
        .map(std::path::Path::to_path_buf)
        .or_else(|| s.rules.clone())
        .ok_or_else(|| anyhow!(Usage("which rules? --rules FILE, or `rules` in [relay] (docs/relay.md)".into())))?;
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("cannot read the rules file {}", path.display()))?;
    let numbers: Vec<u32> = s.relays.iter().map(|r| r.number).collect();
    let rules = relay::rules::parse(&text, &numbers).map_err(|e| match e.unknown_relay {
        // Which relays there are, and in which file.
        Some(n) => Usage(format!(
            "{}: {}{}",
            path.display(),
            e.line.map_or(String::new(), |l| format!("line {l}: ")),
            s.unknown(n)
        )),
        None => Usage(format!("{}: {e}", path.display())),
    })?;
    let safe = s.relays.iter().map(|r| (r.number, r.safe_on)).collect();
    let mut engine = Engine::new(rules, safe);
    let mut gpio = backend::open(s.backend, &s.state)?;
    // Stdin on a thread, so the clock can move on while no line comes.
    let (tx, rx) = mpsc::channel::<Result<Vec<u8>, String>>();
    std::thread::spawn(move || {
        let mut input = std::io::stdin().lock();
        loop {
            let mut buf = Vec::new();
            match input.read_until(b'\n', &mut buf) {
                Ok(0) => break,
                Ok(_) => {
                    if tx.send(Ok(buf)).is_err() {
                        break;
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(e.to_string()));
                    break;
                }
            }
        }
    });
    let mut bad = han_common::limit::PerMinute::new(5);
    let mut said: BTreeMap<u32, String> = BTreeMap::new();
    // The stream's time and the wall clock when it was seen.
    let mut clock: Option<(DateTime<Utc>, Instant)> = None;
    let now_of = |clock: &Option<(DateTime<Utc>, Instant)>| {
        clock.map_or_else(|| s.now(), |(t, at)| t + chrono::Duration::from_std(at.elapsed()).unwrap_or_default())
    };
    loop {
        match rx.recv_timeout(TICK) {
            Ok(Ok(bytes)) => {
                let bytes = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
                let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
                if bytes.is_empty() {
                    continue;
                }
                match sample(bytes, s, now_of(&clock)) {
                    Ok(Some(sm)) => {
                        // A gap in the stream first runs out the rules'
                        // fail-safe time, as the clock would have live.
                        engine.tick(sm.t);
                        apply(s, &engine, gpio.as_mut(), sm.t, &mut said)?;
                        clock = Some((sm.t, Instant::now()));
                        engine.sample(sm);
                    }
                    Ok(None) => continue,
                    Err(e) => {
                        let (show, held) = bad.allow();
                        if let Some(n) = held {
                            eprintln!("relay: {n} more lines on stdin were not readings");
                        }
                        if show {
                            eprintln!("relay: stdin: not a reading, skipped: {e}");
                        }
                        continue;
                    }
                }
            }
            Ok(Err(e)) => return Err(anyhow!("cannot read stdin: {e}")),
            Err(mpsc::RecvTimeoutError::Timeout) => engine.tick(now_of(&clock)),
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        apply(s, &engine, gpio.as_mut(), now_of(&clock), &mut said)?;
    }
    Ok(0)
}

/// Power and energy of a line, at the line's time; `None` for a line
/// without power (a list that carries none).
fn sample(bytes: &[u8], s: &Settings, wall: DateTime<Utc>) -> Result<Option<Sample>, String> {
    let line = Line::parse(bytes, true).map_err(|e| e.to_string())?;
    let (Some(import_w), export_w) = (line.number("power_import_w"), line.number("power_export_w")) else {
        return Ok(None);
    };
    let time = |t: &Option<std::borrow::Cow<'_, str>>| {
        t.as_deref().and_then(StreamTime::parse).map(|t| t.instant(s.tz, Some(wall)))
    };
    let t = time(&line.received).or_else(|| time(&line.meter_time)).unwrap_or(wall);
    Ok(Some(Sample { t, import_w, export_w, energy_import_kwh: line.number("energy_import_kwh") }))
}

/// Carries out what the rules want, where it is allowed now.
fn apply(
    s: &Settings,
    engine: &Engine,
    gpio: &mut dyn backend::Gpio,
    now: DateTime<Utc>,
    said: &mut BTreeMap<u32, String>,
) -> Result<()> {
    let wants: Vec<_> = engine.wants().cloned().collect();
    if wants.is_empty() {
        return Ok(());
    }
    // Read fresh each time: a command by hand may have changed it.
    let mut store = Store::open(&s.state)?;
    let mut changed = false;
    for w in wants {
        let (Ok(relay), Some(rule)) = (s.relay(w.relay), engine.rule(w.relay)) else { continue };
        match allowed(&w, store.state.relays.get(&w.relay), rule, now) {
            Ok(true) => {
                // A fail-safe took effect when the readings ran out, though a
                // recorded stream only shows it at its next line.
                let at = if w.by == By::FailSafe { w.since.min(now) } else { now };
                let e = store.switch(gpio, relay, w.on, (w.by, w.why.clone()), at, None)?;
                eprintln!("{}", say(&e, &relay.name));
                said.remove(&w.relay);
                changed = true;
            }
            Ok(false) => {
                said.remove(&w.relay);
            }
            Err(b) => {
                let until = |t: &DateTime<Utc>| t.with_timezone(&s.tz).format("%H:%M:%S").to_string();
                let why = match &b {
                    Blocked::Held(t) => format!("held by a command until {}", until(t)),
                    Blocked::MinOn(t) => format!("on for its min_on, until {}", until(t)),
                    Blocked::MinOff(t) => format!("off for its min_off, until {}", until(t)),
                };
                // Said once per wait, not at every line.
                let key = format!("{} {b:?}", w.on);
                if said.get(&w.relay) != Some(&key) {
                    eprintln!(
                        "relay {}: the rule wants it {} ({}); waits: {why}",
                        w.relay,
                        if w.on { "on" } else { "off" },
                        w.why
                    );
                    said.insert(w.relay, key);
                }
            }
        }
    }
    if changed {
        super::page::maybe(s, &store)?;
    }
    Ok(())
}
