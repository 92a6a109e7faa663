//! Who decides a relay when several sources want something of it: a hold
//! by hand, the capacity rule, the schedule's plan, the surplus rule. Each
//! records its wish in the state file; whichever process runs decides the
//! relay from all current wishes in one order (docs/relay.md, "Who
//! decides"), so the result does not depend on which of them ran last.
//! Pure: times are given, nothing is switched here.

use chrono::{DateTime, Duration, Utc};

use crate::state::{Plan, RelayState, Wish, Wishes};

/// Where a wish comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Manual,
    Capacity,
    Schedule,
    Surplus,
}

impl Source {
    /// As the state file and `relay status --json` name it.
    pub fn name(self) -> &'static str {
        match self {
            Source::Manual => "manual",
            Source::Capacity => "capacity",
            Source::Schedule => "schedule",
            Source::Surplus => "surplus",
        }
    }

    /// The rule kind, for the two rule sources.
    pub fn rule(self) -> Option<&'static str> {
        match self {
            Source::Capacity => Some("capacity"),
            Source::Surplus => Some("surplus"),
            Source::Manual | Source::Schedule => None,
        }
    }
}

/// The order of precedence: the first current wish decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tier {
    /// A command by hand, while its hold lasts.
    Hand = 1,
    /// The capacity rule switching off (the hour heads over its limit), or
    /// its fail-safe (it cannot see the hour).
    Safety = 2,
    /// In one of the plan's slots: on.
    PlanOn = 3,
    /// The surplus rule, on or off, or its fail-safe.
    Surplus = 4,
    /// Outside the plan's slots: off.
    PlanOff = 5,
    /// The capacity rule gives back what it switched off.
    GiveBack = 6,
}

/// A wish that counts now.
#[derive(Debug, Clone, PartialEq)]
pub struct Current {
    pub source: Source,
    pub tier: Tier,
    pub on: bool,
    /// The recorded wish (none for the schedule, whose wish is its plan).
    pub wish: Option<Wish>,
}

impl Current {
    /// A fail-safe (no reading for `stale_after`).
    pub fn fail_safe(&self) -> bool {
        self.wish.as_ref().is_some_and(|w| w.fail_safe)
    }
}

/// The wishes of a relay that count at `now`, in order of precedence: the
/// first one decides.
pub fn current(wishes: Option<&Wishes>, plan: Option<&Plan>, now: DateTime<Utc>) -> Vec<Current> {
    let mut out = Vec::new();
    let live = |w: &Option<Wish>| w.clone().filter(|w| w.current(now));
    if let Some(w) = wishes {
        if let Some(m) = live(&w.manual) {
            out.push(Current { source: Source::Manual, tier: Tier::Hand, on: m.on, wish: Some(m) });
        }
        if let Some(c) = live(&w.capacity) {
            let tier = if c.release { Tier::GiveBack } else { Tier::Safety };
            out.push(Current { source: Source::Capacity, tier, on: c.on, wish: Some(c) });
        }
        if let Some(s) = live(&w.surplus) {
            out.push(Current { source: Source::Surplus, tier: Tier::Surplus, on: s.on, wish: Some(s) });
        }
    }
    if let Some(p) = plan {
        let on = p.wants_on(now);
        let tier = if on { Tier::PlanOn } else { Tier::PlanOff };
        out.push(Current { source: Source::Schedule, tier, on, wish: None });
    }
    out.sort_by_key(|c| c.tier);
    out
}

/// Why a decided change waits.
#[derive(Debug, Clone, PartialEq)]
pub enum Blocked {
    /// On for less than its minimum on time.
    MinOn(DateTime<Utc>),
    /// Off for less than its minimum off time.
    MinOff(DateTime<Utc>),
}

/// The minimum times that apply to carrying out `c`: none for a hold by
/// hand or a fail-safe (it is about safety); the longer of the relay's
/// (`min_on`/`min_off` of `[relay.N]`) and the rule's for a rule; the
/// relay's for the schedule.
pub fn minimums(c: &Current, relay: (std::time::Duration, std::time::Duration)) -> (Duration, Duration) {
    let d = |x: std::time::Duration| Duration::from_std(x).unwrap_or(Duration::MAX);
    if c.source == Source::Manual || c.fail_safe() {
        return (Duration::zero(), Duration::zero());
    }
    let (rule_on, rule_off) = c.wish.as_ref().map_or((0, 0), |w| (w.min_on_s, w.min_off_s));
    let s = |n: u64| Duration::seconds(i64::try_from(n).unwrap_or(i64::MAX / 1000));
    (d(relay.0).max(s(rule_on)), d(relay.1).max(s(rule_off)))
}

/// Whether a relay in `state` may become `on` at `now` given the minimum
/// times: `Ok(false)` when it already is.
pub fn gate(
    state: Option<&RelayState>,
    on: bool,
    (min_on, min_off): (Duration, Duration),
    now: DateTime<Utc>,
) -> Result<bool, Blocked> {
    let Some(c) = state else { return Ok(true) };
    if c.on == on {
        return Ok(false);
    }
    let end = |d: Duration| c.since.checked_add_signed(d).unwrap_or(DateTime::<Utc>::MAX_UTC);
    if c.on && now < end(min_on) {
        return Err(Blocked::MinOn(end(min_on)));
    }
    if !c.on && now < end(min_off) {
        return Err(Blocked::MinOff(end(min_off)));
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::By;

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-01-11T01:00:00Z").expect("t").to_utc()
    }

    fn wish(on: bool) -> Wish {
        Wish {
            on,
            since: t0(),
            why: String::new(),
            until: Some(t0() + Duration::hours(1)),
            fail_safe: false,
            release: false,
            before: None,
            min_on_s: 0,
            min_off_s: 0,
        }
    }

    fn plan(on_now: bool) -> Plan {
        let slot = if on_now { t0() } else { t0() + Duration::hours(2) };
        Plan {
            window_start: t0() - Duration::hours(3),
            window_end: t0() + Duration::hours(6),
            on: vec![(slot, slot + Duration::hours(1))],
            from: "prices".into(),
            made: t0() - Duration::hours(4),
            what: String::new(),
            label: String::new(),
            safe: None,
        }
    }

    fn first(w: &Wishes, p: Option<&Plan>, now: DateTime<Utc>) -> Option<(Source, bool)> {
        current(Some(w), p, now).first().map(|c| (c.source, c.on))
    }

    #[test]
    fn the_order_of_precedence() {
        let now = t0() + Duration::minutes(10);
        let mut w = Wishes { surplus: Some(wish(false)), ..Wishes::default() };
        // The plan's on beats the surplus rule's off; the surplus rule's on
        // beats the plan's off.
        assert_eq!(first(&w, Some(&plan(true)), now), Some((Source::Schedule, true)));
        w.surplus = Some(wish(true));
        assert_eq!(first(&w, Some(&plan(false)), now), Some((Source::Surplus, true)));
        // The capacity rule's off beats both.
        w.capacity = Some(wish(false));
        assert_eq!(first(&w, Some(&plan(true)), now), Some((Source::Capacity, false)));
        // What it gives back comes last: the plan's off beats it.
        w.capacity = Some(Wish { release: true, ..wish(true) });
        w.surplus = None;
        assert_eq!(first(&w, Some(&plan(false)), now), Some((Source::Schedule, false)));
        assert_eq!(first(&w, None, now), Some((Source::Capacity, true)));
        // A hold by hand beats everything while it lasts.
        w.capacity = Some(wish(false));
        w.manual = Some(wish(true));
        assert_eq!(first(&w, Some(&plan(false)), now), Some((Source::Manual, true)));
        assert_eq!(
            first(&w, Some(&plan(false)), t0() + Duration::hours(1)),
            Some((Source::Schedule, false)),
            "the hold and the rule's lease are over"
        );
        assert_eq!(first(&Wishes::default(), None, now), None);
    }

    #[test]
    fn minimum_times() {
        let now = t0();
        let st = |on: bool, ago_min: i64| RelayState {
            on,
            since: now - Duration::minutes(ago_min),
            by: By::Command,
            why: String::new(),
            hold_until: None,
            rule: None,
            decided: String::new(),
        };
        let m = |on: i64, off: i64| (Duration::minutes(on), Duration::minutes(off));
        assert_eq!(gate(None, true, m(10, 5), now), Ok(true));
        assert_eq!(gate(Some(&st(true, 1)), true, m(10, 5), now), Ok(false));
        assert_eq!(gate(Some(&st(true, 9)), false, m(10, 5), now), Err(Blocked::MinOn(now + Duration::minutes(1))));
        assert_eq!(gate(Some(&st(true, 10)), false, m(10, 5), now), Ok(true));
        assert_eq!(gate(Some(&st(false, 4)), true, m(10, 5), now), Err(Blocked::MinOff(now + Duration::minutes(1))));
        // A rule's own times and the relay's: the longer counts; a
        // fail-safe and a hold by hand ignore both.
        let relay = (std::time::Duration::from_secs(300), std::time::Duration::from_secs(900));
        let rule = Current {
            source: Source::Surplus,
            tier: Tier::Surplus,
            on: true,
            wish: Some(Wish { min_on_s: 600, min_off_s: 60, ..wish(true) }),
        };
        assert_eq!(minimums(&rule, relay), m(10, 15));
        let safe = Current { wish: Some(Wish { fail_safe: true, ..wish(false) }), ..rule.clone() };
        assert_eq!(minimums(&safe, relay), m(0, 0));
        let sched = Current { source: Source::Schedule, tier: Tier::PlanOn, on: true, wish: None };
        assert_eq!(minimums(&sched, relay), m(5, 15));
    }
}
