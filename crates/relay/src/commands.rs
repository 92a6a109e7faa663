//! `relay N on|off|toggle [--for D]`, `relay status`, `relay restore`.

use anyhow::{Result, anyhow};
use chrono::Duration;
use han_common::Usage;
use relay::decide;
use relay::state::{By, Wish};
use serde_json::json;

use crate::backend;
use crate::settings::Settings;
use crate::store::{Change, Store, by_name, say};

/// `N on|off|toggle [--for DURATION]`.
pub fn switch(s: &Settings, words: &[String]) -> Result<u8> {
    let bad = || {
        anyhow!(Usage(format!(
            "relay {}: expected N on|off|toggle [--for DURATION] (or status, restore, watch, schedule; see --help)",
            words.join(" ")
        )))
    };
    let (number, action, rest) = match words {
        [n, a, rest @ ..] => (n.parse::<u32>().map_err(|_| bad())?, a.as_str(), rest),
        _ => return Err(bad()),
    };
    let hold = match rest {
        [] => s.manual_for,
        [flag, d] if flag == "--for" => han_common::duration::parse(d).map_err(|e| Usage(format!("--for: {e}")))?,
        [flag] => match flag.strip_prefix("--for=") {
            Some(d) => han_common::duration::parse(d).map_err(|e| Usage(format!("--for: {e}")))?,
            None => return Err(bad()),
        },
        _ => return Err(bad()),
    };
    // Every word is checked before the state folder is locked.
    let set = match action {
        "on" => Some(true),
        "off" => Some(false),
        "toggle" => None,
        _ => return Err(bad()),
    };
    let relay = s.relay(number)?;
    let now = s.now();
    let mut store = Store::open(&s.state)?;
    let mut gpio = backend::open(s.backend, &s.state)?;
    let on = match set {
        Some(on) => on,
        None => {
            let current = match store.state.relays.get(&number) {
                Some(st) => Some(st.on),
                None => gpio.get(relay)?,
            };
            !current.unwrap_or(relay.safe_on)
        }
    };
    let until = (!hold.is_zero()).then(|| now + Duration::from_std(hold).unwrap_or(Duration::MAX));
    let why = match until {
        Some(u) => format!("by hand, held until {}", u.with_timezone(&s.tz).format("%Y-%m-%d %H:%M")),
        None => "by hand".to_string(),
    };
    // The wish by hand: it decides while the hold lasts (a new command
    // replaces the one before; `--for 0` holds nothing).
    let wish = until.map(|u| Wish {
        on,
        since: now,
        why: why.clone(),
        until: Some(u),
        fail_safe: false,
        release: false,
        before: None,
        min_on_s: 0,
        min_off_s: 0,
    });
    store.state.wishes.entry(number).or_default().manual = wish;
    let decided = match until {
        Some(u) => format!("hand until {}", u.with_timezone(&s.tz).format("%H:%M")),
        None => "hand".to_string(),
    };
    let e = store.switch(gpio.as_mut(), relay, on, Change::new(By::Command, why, decided), now, until)?;
    println!("{}", say(&e, &relay.name));
    crate::page::maybe(s, &store)?;
    Ok(0)
}

/// Every relay back to its last commanded state, else its safe state.
pub fn restore(s: &Settings) -> Result<u8> {
    if s.relays.is_empty() {
        eprintln!("relay: nothing to restore: {}", s.config.no_relays());
        return Ok(0);
    }
    let now = s.now();
    let mut store = Store::open(&s.state)?;
    let mut gpio = backend::open(s.backend, &s.state)?;
    for relay in &s.relays {
        let (on, why) = match store.state.relays.get(&relay.number) {
            Some(st) => (
                st.on,
                format!(
                    "at start, as last commanded ({} {})",
                    st.by.name(),
                    st.since.with_timezone(&s.tz).format("%Y-%m-%d %H:%M")
                ),
            ),
            None => (relay.safe_on, "at start, no command on record: the safe state".to_string()),
        };
        let hold = store.state.relays.get(&relay.number).and_then(|st| st.hold_until).filter(|u| now < *u);
        let e = store.switch(gpio.as_mut(), relay, on, Change::new(By::Restore, why, "restore"), now, hold)?;
        println!("{}", say(&e, &relay.name));
    }
    crate::page::maybe(s, &store)?;
    Ok(0)
}

/// The status of every relay, as JSON values.
pub fn rows(s: &Settings, store: &Store, gpio: Option<&mut dyn backend::Gpio>) -> Vec<serde_json::Value> {
    let now = s.now();
    let mut gpio = gpio;
    s.relays
        .iter()
        .map(|r| {
            let st = store.state.relays.get(&r.number);
            let pin = gpio.as_mut().and_then(|g| g.get(r).ok().flatten());
            let plan = store.state.plans.get(&r.number);
            let state = |on: bool| if on { "on" } else { "off" };
            // Who decided the state, as recorded when it was decided.
            let decided = st.map(|x| {
                let who = if x.decided.is_empty() { by_name(x.by, x.rule.as_deref()) } else { x.decided.clone() };
                format!("{} by {who}", state(x.on))
            });
            // Every wish that counts now, the first decides.
            let wishes: Vec<serde_json::Value> = decide::current(store.state.wishes.get(&r.number), plan, now)
                .iter()
                .map(|c| {
                    json!({
                        "source": c.source.name(),
                        "on": c.on,
                        "label": crate::settle::label(s, c, plan),
                        "why": crate::settle::change(s, c, plan, now).why,
                        "since": c.wish.as_ref().map(|w| w.since),
                        "until": c.wish.as_ref().and_then(|w| w.until),
                    })
                })
                .collect();
            json!({
                "relay": r.number,
                "name": r.name,
                "pin": r.pin,
                "active_low": r.active_low,
                "on": st.map(|x| x.on),
                "since": st.map(|x| x.since),
                "by": st.map(|x| x.by),
                "rule": st.and_then(|x| x.rule.clone()),
                "why": st.map(|x| x.why.clone()),
                "decided": decided,
                "wishes": wishes,
                "held_until": st.and_then(|x| x.hold_until).filter(|u| now < *u),
                "pin_on": pin,
                "plan": plan.map(|p| json!({
                    "window_start": p.window_start, "window_end": p.window_end, "from": p.from, "label": p.label,
                    "on": p.on.iter().map(|(a, b)| json!({"start": a, "end": b})).collect::<Vec<_>>(),
                })),
            })
        })
        .collect()
}

/// Every relay's state. With none configured it says so on stderr and
/// exits 0 (an empty list is the true answer) before touching the state
/// folder, which would otherwise be made and locked for nothing.
pub fn status(s: &Settings, as_json: bool) -> Result<u8> {
    if s.relays.is_empty() {
        eprintln!("relay: {}", s.config.no_relays());
        if as_json {
            han_common::stdout::print("{\n  \"relays\": []\n}\n")?;
        }
        return Ok(0);
    }
    let store = Store::open(&s.state)?;
    let mut gpio = backend::open(s.backend, &s.state).ok();
    let rows = match gpio.as_mut() {
        Some(g) => rows(s, &store, Some(g.as_mut())),
        None => rows(s, &store, None),
    };
    let mut out = String::new();
    if as_json {
        out = serde_json::to_string_pretty(&json!({ "relays": rows }))?;
        out.push('\n');
    } else {
        for r in &rows {
            let state = match r["on"].as_bool() {
                Some(true) => "on",
                Some(false) => "off",
                None => "unknown",
            };
            let since = r["since"]
                .as_str()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| format!(" since {}", t.with_timezone(&s.tz).format("%Y-%m-%d %H:%M")))
                .unwrap_or_default();
            let why = r["why"]
                .as_str()
                .map(|w| {
                    let by = serde_json::from_value::<By>(r["by"].clone()).ok();
                    let by = by.map_or_else(String::new, |b| by_name(b, r["rule"].as_str()));
                    format!(" ({by}: {w})")
                })
                .unwrap_or_default();
            let mismatch = match (r["pin_on"].as_bool(), r["on"].as_bool()) {
                (Some(p), Some(o)) if p != o => format!("; the pin says {}!", if p { "on" } else { "off" }),
                _ => String::new(),
            };
            out.push_str(&format!(
                "{} {:<16} {state}{since}{why}{mismatch}\n",
                r["relay"],
                r["name"].as_str().unwrap_or_default()
            ));
            // Who decided, and what the others want now, in their order.
            if let Some(d) = r["decided"].as_str() {
                let others: Vec<String> = r["wishes"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                    .iter()
                    .map(|w| {
                        let on = if w["on"].as_bool() == Some(true) { "on" } else { "off" };
                        format!("{} {on}", w["label"].as_str().unwrap_or_default())
                    })
                    .collect();
                let wishes = if others.is_empty() { String::new() } else { format!("; wishes: {}", others.join(", ")) };
                out.push_str(&format!("{:<19}{d}{wishes}\n", ""));
            }
        }
    }
    han_common::stdout::print(&out)?;
    Ok(0)
}
