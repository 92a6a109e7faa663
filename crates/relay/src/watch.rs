//! `relay watch --rules FILE`: the live stream on stdin through the rule
//! engine. The engine's clock is the stream's (each line's `received`, else
//! its meter time), carried on by the wall clock between lines, so a
//! recorded stream plays out as it was and a live one never stands still.

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use chrono::{DateTime, Utc};
use han_common::Usage;
use han_common::line::Line;
use han_common::times::StreamTime;
use relay::engine::{Engine, Sample, Want};
use relay::pins::Relay;
use relay::rules::Rule;
use relay::state::{By, Wish};

use crate::backend;
use crate::settings::Settings;
use crate::settle::{Outcome, settle, waits};
use crate::store::{Store, say};

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
        Some(n) => Usage(format!("{}: {}{}", path.display(), e.at(), s.unknown(n))),
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
    let mut said: BTreeMap<(u32, &'static str), String> = BTreeMap::new();
    let mut spoken: BTreeSet<(u32, &'static str)> = BTreeSet::new();
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
                        apply(s, &engine, gpio.as_mut(), sm.t, &mut said, &mut spoken)?;
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
        apply(s, &engine, gpio.as_mut(), now_of(&clock), &mut said, &mut spoken)?;
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

/// What a rule's want is as a wish in the state file; `old` is what it
/// recorded before, `state_on` the relay's state now. The capacity rule
/// keeps the state it switched the relay off from (`before`), and gives
/// that back when the hour is under `resume_wh` again; it switches nothing
/// on that it did not switch off.
fn wish_of(
    rule: &Rule,
    want: Option<&Want>,
    old: Option<&Wish>,
    state_on: Option<bool>,
    safe_on: bool,
) -> Option<Wish> {
    let w = want?;
    let wish = Wish {
        on: w.on,
        since: w.since,
        why: w.why.clone(),
        until: None,
        fail_safe: w.by == By::FailSafe,
        release: false,
        before: None,
        min_on_s: rule.min_on.as_secs(),
        min_off_s: rule.min_off.as_secs(),
    };
    if w.kind != "capacity" {
        return Some(wish);
    }
    // The rule holds the relay: switched off, or its fail-safe.
    let holding = old.filter(|o| !o.release);
    if !w.on || wish.fail_safe {
        let before = match holding {
            Some(o) => o.before,
            None => state_on,
        };
        return Some(Wish { before, ..wish });
    }
    let old = old?;
    let before = old.before;
    Some(Wish { on: before.unwrap_or(safe_on), release: true, before, ..wish })
}

/// Records what the rules want (each a wish with a lease of its
/// `stale_after`, renewed while watch runs), then decides each of their
/// relays from every current wish and carries it out where it is allowed.
fn apply(
    s: &Settings,
    engine: &Engine,
    gpio: &mut dyn backend::Gpio,
    now: DateTime<Utc>,
    said: &mut BTreeMap<(u32, &'static str), String>,
    spoken: &mut BTreeSet<(u32, &'static str)>,
) -> Result<()> {
    // Read fresh each time: a command by hand or the schedule may have
    // changed it.
    let mut store = Store::open(&s.state)?;
    let mut dirty = false;
    let mut relays: Vec<&Relay> = Vec::new();
    for (rule, want) in engine.rules() {
        let Ok(relay) = s.relay(rule.relay) else { continue };
        if !relays.iter().any(|r| r.number == relay.number) {
            relays.push(relay);
        }
        let state_on = store.state.relays.get(&rule.relay).map(|st| st.on);
        let kind = rule.kind.name();
        let rec = store.state.wishes.entry(rule.relay).or_default();
        let Some(slot) = rec.rule_mut(kind) else { continue };
        if want.is_some() {
            spoken.insert((rule.relay, kind));
        } else if !spoken.contains(&(rule.relay, kind)) {
            // No opinion yet since this watch began (a condition takes its
            // time): what an earlier watch recorded stands until its lease
            // lapses, so a restart does not undo it.
            continue;
        }
        let new = wish_of(rule, want, slot.as_ref(), state_on, relay.safe_on);
        let lease = chrono::Duration::from_std(rule.stale_after).unwrap_or(chrono::Duration::MAX);
        // Renewed at half its time, so it never lapses while watch runs.
        let renew = |w: &Wish| w.until.is_none_or(|u| u - now < lease / 2);
        let keep = match (slot.as_ref(), new.as_ref()) {
            (None, None) => true,
            (Some(o), Some(n)) => o.same(n) && !renew(o),
            _ => false,
        };
        if !keep {
            *slot = new.map(|n| Wish { until: now.checked_add_signed(lease), ..n });
            dirty = true;
        }
    }
    let mut changed = false;
    for relay in relays {
        let settled = settle(s, &mut store, gpio, relay, now)?;
        if let Outcome::Switched(e) = &settled.outcome {
            eprintln!("{}", say(e, &relay.name));
            changed = true;
            dirty = false;
        }
        // What the rules want and why it waits: said once per wait.
        let plan = store.state.plans.get(&relay.number).cloned();
        for (rule, _) in engine.rules().filter(|(r, _)| r.relay == relay.number) {
            let kind = rule.kind.name();
            let recorded = store.state.wishes.get(&relay.number).and_then(|x| x.rule(kind)).cloned();
            let Some(w) = recorded else {
                said.remove(&(relay.number, kind));
                continue;
            };
            let own = settled.top.as_ref().is_some_and(|t| t.source.rule() == Some(kind));
            match waits(s, &settled, plan.as_ref(), w.on, own, "%H:%M:%S").map(|x| x.said()) {
                Some(why) => {
                    let key = format!("{} {why}", w.on);
                    if said.get(&(relay.number, kind)) != Some(&key) {
                        eprintln!(
                            "relay {}: the {kind} rule wants it {} ({}); {why}",
                            relay.number,
                            if w.on { "on" } else { "off" },
                            w.why
                        );
                        said.insert((relay.number, kind), key);
                    }
                }
                None => {
                    said.remove(&(relay.number, kind));
                }
            }
        }
    }
    if dirty {
        store.save()?;
    }
    if changed {
        crate::page::maybe(s, &store)?;
    }
    Ok(())
}
