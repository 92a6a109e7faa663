//! `relay schedule N --cheapest D --window FROM-TO [--fallback FROM-TO]`:
//! on in the cheapest slots of the window, from spotprices' files. A plan,
//! once made from prices for a window, is kept for that window: a late
//! recalculation must not leave a relay on. A fallback plan (made before
//! the prices were out) is replaced by a price plan only while its window
//! has not begun.

use std::path::Path;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use han_common::Usage;
use han_prices::file::PriceFile;
use relay::decide::Source;
use relay::plan::{self, Priced};
use relay::state::Plan;

use crate::backend;
use crate::cli::Schedule;
use crate::settings::{Settings, hours};
use crate::settle::{Outcome, Waits, settle, waits};
use crate::store::{Store, say};

pub const NO_PRICES: u8 = 3;

/// The priced slots of the days a window touches; `None` when a day's
/// file is not there.
fn prices(dir: &Path, dates: &[chrono::NaiveDate], hourly: bool) -> Result<Option<Vec<Priced>>> {
    let mut out = Vec::new();
    for d in dates {
        let path = dir.join(format!("{}.json", han_prices::file::stem(*d)));
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let f = PriceFile::from_json(&text).with_context(|| format!("{} is not a price file", path.display()))?;
        let slots = if hourly { han_prices::summary::hours(&f) } else { f.slots.clone() };
        out.extend(slots.iter().map(|p| (p.start, p.end, han_prices::summary::value(p))));
    }
    Ok(Some(out))
}

/// Why the plan wants what it wants at `now`, in words.
pub fn why(s: &Settings, plan: &Plan, now: DateTime<Utc>) -> String {
    if plan.safe.is_some() {
        return plan.what.clone();
    }
    let local = |t: DateTime<Utc>| t.with_timezone(&s.tz).format("%H:%M").to_string();
    format!(
        "{} {} of the window {}-{} ({} plan made {})",
        if plan.is_on(now) { "in" } else { "outside" },
        if plan.what.is_empty() { "the plan's slots" } else { &plan.what },
        local(plan.window_start),
        local(plan.window_end),
        plan.from,
        plan.made.with_timezone(&s.tz).format("%Y-%m-%d %H:%M"),
    )
}

/// Whole minutes, rounded up: a minimum time is never cut short.
fn minutes_up(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_secs().div_ceil(60)).unwrap_or(i64::MAX)
}

pub fn run(s: &Settings, a: &Schedule) -> Result<u8> {
    let relay = s.relay(a.relay)?;
    let want = han_common::duration::parse(&a.cheapest).map_err(|e| Usage(format!("--cheapest: {e}")))?;
    let minutes = i64::try_from(want.as_secs() / 60).unwrap_or(i64::MAX);
    if minutes == 0 {
        return Err(Usage("--cheapest: at least a minute (4h, 90m)".into()).into());
    }
    let (from, to) = hours(&a.window, "--window")?;
    let fallback = a.fallback.as_deref().map(|f| hours(f, "--fallback")).transpose()?;
    let now = s.now();
    let window = plan::window(now, s.tz, from, to);
    let dir = a.prices.clone().unwrap_or_else(|| s.prices.clone());
    let local = |t: DateTime<Utc>| t.with_timezone(&s.tz).format("%H:%M").to_string();
    let span = format!("{}-{}", local(window.0), local(window.1));
    let cheapest = han_common::duration::format(want);
    // The load's minimum times shape the plan (blocks at least min_on long,
    // gaps at least min_off), so that carrying it out never waits for them.
    let min = plan::Minimums { on: minutes_up(relay.min_on), off: minutes_up(relay.min_off) };
    let mut store = Store::open(&s.state)?;
    // A plan without prices (the safe state) is never kept: it stands in
    // until one can be made.
    let kept = store
        .state
        .plans
        .get(&a.relay)
        .filter(|p| (p.window_start, p.window_end) == window && p.from != "none")
        .cloned();
    let keep = kept.as_ref().is_some_and(|p| p.from == "prices" || now >= p.window_start);
    let priced = |on| Plan {
        window_start: window.0,
        window_end: window.1,
        on,
        from: "prices".into(),
        made: now,
        what: if a.contiguous {
            format!("the cheapest {cheapest} in one block")
        } else {
            format!("the cheapest {cheapest}")
        },
        label: if a.contiguous {
            format!("cheapest {cheapest} in one block {span}")
        } else {
            format!("cheapest {cheapest} {span}")
        },
        safe: None,
    };
    let plan = if keep {
        kept
    } else {
        let chosen = prices(&dir, &plan::dates(window, s.tz), a.hourly)?.and_then(|p| {
            if a.contiguous {
                plan::contiguous(&p, window, minutes, min.on)
            } else {
                plan::cheapest_with(&p, window, minutes, min)
            }
        });
        match chosen {
            Some(on) => Some(priced(on)),
            None => kept.or_else(|| {
                fallback.map(|(f, t)| Plan {
                    window_start: window.0,
                    window_end: window.1,
                    on: plan::fallback(window, s.tz, f, t),
                    from: "fallback".into(),
                    made: now,
                    what: "the fallback hours".into(),
                    label: format!("fallback {}-{}", f.format("%H:%M"), t.format("%H:%M")),
                    safe: None,
                })
            }),
        }
    };
    let (plan, code) = match plan {
        Some(p) => (p, 0),
        None => (
            Plan {
                window_start: window.0,
                window_end: window.1,
                on: Vec::new(),
                from: "none".into(),
                made: now,
                what: format!("no prices for the window {span} yet and no --fallback: the safe state"),
                label: "no prices: the safe state".into(),
                safe: Some(relay.safe_on),
            },
            NO_PRICES,
        ),
    };
    let wants_on = plan.wants_on(now);
    let what = why(s, &plan, now);
    store.state.plans.insert(a.relay, plan);
    store.save()?;
    apply(s, &mut store, relay, wants_on, &what, now)?;
    Ok(code)
}

/// Decides the relay from every wish, the new plan among them, and says
/// what came of it.
fn apply(
    s: &Settings,
    store: &mut Store,
    relay: &relay::pins::Relay,
    on: bool,
    why: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut gpio = backend::open(s.backend, &s.state)?;
    let settled = settle(s, store, gpio.as_mut(), relay, now)?;
    let state = |on: bool| if on { "on" } else { "off" };
    let plan = store.state.plans.get(&relay.number);
    let own = settled.top.as_ref().is_some_and(|t| t.source == Source::Schedule);
    match (&settled.outcome, waits(s, &settled, plan, on, own, "%H:%M")) {
        (Outcome::Switched(e), None) => println!("{}", say(e, &relay.name)),
        (_, Some(w)) => {
            if let Outcome::Switched(e) = &settled.outcome {
                println!("{}", say(e, &relay.name));
            }
            let w = match w {
                Waits::Min(t) => format!("waits: {t}"),
                Waits::Held(t) | Waits::Overruled(t) => t,
            };
            println!("relay {}: the schedule wants it {}; {w}", relay.number, state(on));
        }
        _ => println!("relay {} ({}): stays {}: {why}", relay.number, relay.name, state(on)),
    }
    crate::page::maybe(s, store)
}
