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
use relay::plan::{self, Priced};
use relay::state::{By, Plan};
use spotprices::file::PriceFile;

use super::backend;
use super::cli::Schedule;
use super::settings::{Settings, hours};
use super::store::{Store, say};

pub const NO_PRICES: u8 = 3;

/// The priced slots of the days a window touches; `None` when a day's
/// file is not there.
fn prices(dir: &Path, dates: &[chrono::NaiveDate], hourly: bool) -> Result<Option<Vec<Priced>>> {
    let mut out = Vec::new();
    for d in dates {
        let path = dir.join(format!("{}.json", spotprices::file::stem(*d)));
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let f = PriceFile::from_json(&text).with_context(|| format!("{} is not a price file", path.display()))?;
        let slots = if hourly { spotprices::summary::hours(&f) } else { f.slots.clone() };
        out.extend(slots.iter().map(|p| (p.start, p.end, spotprices::summary::value(p))));
    }
    Ok(Some(out))
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
    let mut store = Store::open(&s.state)?;
    let kept = store.state.plans.get(&a.relay).filter(|p| (p.window_start, p.window_end) == window).cloned();
    let keep = kept.as_ref().is_some_and(|p| p.from == "prices" || now >= p.window_start);
    let plan = if keep {
        kept
    } else {
        match prices(&dir, &plan::dates(window, s.tz), a.hourly)?.and_then(|p| plan::cheapest(&p, window, minutes)) {
            Some(on) => {
                Some(Plan { window_start: window.0, window_end: window.1, on, from: "prices".into(), made: now })
            }
            None => kept.or_else(|| {
                fallback.map(|(f, t)| Plan {
                    window_start: window.0,
                    window_end: window.1,
                    on: plan::fallback(window, s.tz, f, t),
                    from: "fallback".into(),
                    made: now,
                })
            }),
        }
    };
    let local = |t: DateTime<Utc>| t.with_timezone(&s.tz).format("%H:%M").to_string();
    let Some(plan) = plan else {
        let why = format!(
            "no prices for the window {}-{} yet and no --fallback: the safe state",
            local(window.0),
            local(window.1)
        );
        apply(s, &mut store, relay, relay.safe_on, why, now)?;
        return Ok(NO_PRICES);
    };
    let on = now >= plan.window_start && now < plan.window_end && plan.is_on(now);
    let why = format!(
        "{} {} of the window {}-{} ({} plan made {})",
        if on { "in" } else { "outside" },
        if plan.from == "prices" {
            format!("the cheapest {}", han_common::duration::format(want))
        } else {
            "the fallback hours".into()
        },
        local(plan.window_start),
        local(plan.window_end),
        plan.from,
        plan.made.with_timezone(&s.tz).format("%Y-%m-%d %H:%M"),
    );
    store.state.plans.insert(a.relay, plan);
    store.save()?;
    apply(s, &mut store, relay, on, why, now)?;
    Ok(0)
}

/// Switches unless a command holds the relay or it already is so.
fn apply(
    s: &Settings,
    store: &mut Store,
    relay: &relay::pins::Relay,
    on: bool,
    why: String,
    now: DateTime<Utc>,
) -> Result<()> {
    let current = store.state.relays.get(&relay.number);
    if let Some(c) = current.filter(|c| c.held(now)) {
        if c.on != on {
            let until = c.hold_until.unwrap_or(now);
            println!(
                "relay {}: the schedule wants it {}; held by a command until {}",
                relay.number,
                if on { "on" } else { "off" },
                until.with_timezone(&s.tz).format("%H:%M")
            );
        }
        return Ok(());
    }
    if current.is_some_and(|c| c.on == on) {
        println!("relay {} ({}): stays {}: {why}", relay.number, relay.name, if on { "on" } else { "off" });
    } else {
        let mut gpio = backend::open(s.backend, &s.state)?;
        let e = store.switch(gpio.as_mut(), relay, on, (By::Schedule, why), now, None)?;
        println!("{}", say(&e, &relay.name));
    }
    super::page::maybe(s, store)
}
