//! Carrying out the decision: a relay's state from all its current wishes
//! (`relay::decide`), switched when its minimum times allow, and the state
//! file saying who decided. Every process that may switch a relay (a
//! command, `watch`, `schedule`) ends here, so the outcome is the same
//! whichever ran last.

use anyhow::Result;
use chrono::{DateTime, Utc};
use relay::decide::{self, Blocked, Current, Source};
use relay::pins::Relay;
use relay::state::{By, Event, Plan};

use crate::backend::Gpio;
use crate::settings::Settings;
use crate::store::{Change, Store};

/// What came of deciding a relay.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// No current wish: the relay stays as it is.
    Nothing,
    /// It already is as decided (the state now says who decides).
    Stays,
    /// Switched.
    Switched(Event),
    /// The change waits for a minimum time.
    Waits(Blocked),
}

/// The decision and what came of it.
#[derive(Debug, Clone)]
pub struct Settled {
    /// The wish that decides, if any.
    pub top: Option<Current>,
    pub outcome: Outcome,
}

fn hm(s: &Settings, t: DateTime<Utc>) -> String {
    t.with_timezone(&s.tz).format("%H:%M").to_string()
}

/// Who decides, in a few words: `hand until 14:00`, `capacity rule`,
/// `schedule (cheapest 4h 22:00-07:00)`.
pub fn label(s: &Settings, c: &Current, plan: Option<&Plan>) -> String {
    let fail_safe = c.fail_safe();
    let release = c.wish.as_ref().is_some_and(|w| w.release);
    match (c.source, c.source.rule()) {
        (Source::Manual, _) => match c.wish.as_ref().and_then(|w| w.until) {
            Some(u) => format!("hand until {}", hm(s, u)),
            None => "hand".into(),
        },
        (Source::Schedule, _) => match plan.map(|p| p.label.as_str()).filter(|l| !l.is_empty()) {
            Some(l) => format!("schedule ({l})"),
            None => "schedule".into(),
        },
        (_, Some(kind)) if fail_safe => format!("the {kind} rule's fail-safe"),
        (_, Some(kind)) if release => format!("{kind} rule (giving back what it switched off)"),
        (_, Some(kind)) => format!("{kind} rule"),
        (_, None) => c.source.name().into(),
    }
}

/// How a decision is recorded.
pub fn change(s: &Settings, c: &Current, plan: Option<&Plan>, now: DateTime<Utc>) -> Change {
    let decided = label(s, c, plan);
    let why = match (&c.wish, plan) {
        (Some(w), _) => w.why.clone(),
        (None, Some(p)) => crate::schedule::why(s, p, now),
        (None, None) => String::new(),
    };
    let by = match c.source {
        Source::Manual => By::Command,
        Source::Schedule => By::Schedule,
        Source::Capacity | Source::Surplus if c.fail_safe() => By::FailSafe,
        Source::Capacity | Source::Surplus => By::Rule,
    };
    Change { by, rule: c.source.rule().map(str::to_string), why, decided }
}

/// Decides `relay` from every current wish at `now` and carries it out.
pub fn settle(
    s: &Settings,
    store: &mut Store,
    gpio: &mut dyn Gpio,
    relay: &Relay,
    now: DateTime<Utc>,
) -> Result<Settled> {
    let plan = store.state.plans.get(&relay.number).cloned();
    let list = decide::current(store.state.wishes.get(&relay.number), plan.as_ref(), now);
    let Some(top) = list.into_iter().next() else {
        return Ok(Settled { top: None, outcome: Outcome::Nothing });
    };
    let change = change(s, &top, plan.as_ref(), now);
    let hold = match top.source {
        Source::Manual => top.wish.as_ref().and_then(|w| w.until),
        _ => None,
    };
    let minimums = decide::minimums(&top, (relay.min_on, relay.min_off));
    let outcome = match decide::gate(store.state.relays.get(&relay.number), top.on, minimums, now) {
        Ok(true) => {
            // A fail-safe took effect when the readings ran out, though a
            // recorded stream only shows it at its next line.
            let at = match &top.wish {
                Some(w) if w.fail_safe => w.since.min(now),
                _ => now,
            };
            Outcome::Switched(store.switch(gpio, relay, top.on, change, at, hold)?)
        }
        Ok(false) => {
            if store.relabel(relay.number, change, hold) {
                store.save()?;
            }
            Outcome::Stays
        }
        Err(b) => Outcome::Waits(b),
    };
    Ok(Settled { top: Some(top), outcome })
}

/// Why a wish is not carried out.
#[derive(Debug, Clone, PartialEq)]
pub enum Waits {
    /// `held by a command until 14:00`.
    Held(String),
    /// `on for its min_on, until 12:13:00`.
    Min(String),
    /// `off by capacity rule`: a source before it decides.
    Overruled(String),
}

impl Waits {
    /// As watch says it after the wish.
    pub fn said(&self) -> String {
        match self {
            Waits::Held(t) | Waits::Min(t) => format!("waits: {t}"),
            Waits::Overruled(t) => t.clone(),
        }
    }
}

/// Why a wish (`wish_on`) that is not carried out waits: a hold by hand, a
/// minimum time, or a source before it (`own`: the wish is the deciding
/// source's own). `None` when it is carried out. Times are written with
/// `fmt`.
pub fn waits(
    s: &Settings,
    settled: &Settled,
    plan: Option<&Plan>,
    wish_on: bool,
    own: bool,
    fmt: &str,
) -> Option<Waits> {
    let top = settled.top.as_ref()?;
    let at = |t: DateTime<Utc>| t.with_timezone(&s.tz).format(fmt).to_string();
    if top.source == Source::Manual && top.on != wish_on {
        let u = top.wish.as_ref().and_then(|w| w.until).map_or_else(String::new, at);
        return Some(Waits::Held(format!("held by a command until {u}")));
    }
    match &settled.outcome {
        Outcome::Waits(b) if top.on == wish_on => Some(Waits::Min(match b {
            Blocked::MinOn(t) => format!("on for its min_on, until {}", at(*t)),
            Blocked::MinOff(t) => format!("off for its min_off, until {}", at(*t)),
        })),
        _ if top.on != wish_on && !own => {
            Some(Waits::Overruled(format!("{} by {}", if top.on { "on" } else { "off" }, label(s, top, plan))))
        }
        _ => None,
    }
}
