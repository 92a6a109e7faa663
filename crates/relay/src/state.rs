//! What is kept between runs: each relay's state, since when, why and who
//! decided it, the wishes of every source (a command by hand, the rules,
//! the schedule's plans) that [`crate::decide`] decides it from; and the
//! events, one JSON line per change, appended.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Who asked for a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum By {
    Command,
    Rule,
    Schedule,
    Restore,
    FailSafe,
}

impl By {
    pub fn name(self) -> &'static str {
        match self {
            By::Command => "command",
            By::Rule => "rule",
            By::Schedule => "schedule",
            By::Restore => "restore",
            By::FailSafe => "fail-safe",
        }
    }
}

/// A relay's last commanded state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelayState {
    pub on: bool,
    pub since: DateTime<Utc>,
    pub by: By,
    pub why: String,
    /// A manual command holds the relay until then: rules and the schedule
    /// wait.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_until: Option<DateTime<Utc>>,
    /// The kind of the rule (`surplus`, `capacity`) for a change by a rule
    /// or its fail-safe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Who decides the state, in a few words: `schedule (cheapest 4h
    /// 22:00-07:00)`, `capacity rule`, `hand until 14:00`. Kept up to date
    /// when another source takes over without a switch.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub decided: String,
}

impl RelayState {
    pub fn held(&self, now: DateTime<Utc>) -> bool {
        self.hold_until.is_some_and(|t| now < t)
    }
}

/// The slots a schedule switches a relay on in, made once per window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    /// `(start, end)` of each slot the relay is on in.
    pub on: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    /// `prices`, `fallback`, or `none` (no prices and no fallback: the
    /// relay's safe state until a plan can be made).
    pub from: String,
    pub made: DateTime<Utc>,
    /// What the slots are, for messages: `the cheapest 4h`, `the cheapest
    /// 4h in one block`, `the fallback hours`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub what: String,
    /// The plan in a few words, as status says who decided:
    /// `cheapest 4h 22:00-07:00`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub label: String,
    /// A plan without slots (`none`): the state it wants everywhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safe: Option<bool>,
}

impl Plan {
    pub fn is_on(&self, t: DateTime<Utc>) -> bool {
        self.on.iter().any(|(s, e)| *s <= t && t < *e)
    }

    /// What the plan wants at `t`: on in its slots, off elsewhere (a plan
    /// `none` wants the safe state).
    pub fn wants_on(&self, t: DateTime<Utc>) -> bool {
        self.safe.unwrap_or_else(|| self.is_on(t))
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// What one source wants of a relay, as it recorded it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Wish {
    pub on: bool,
    /// Since when it wants it.
    pub since: DateTime<Utc>,
    pub why: String,
    /// When it lapses: the end of a hold by hand; for a rule, its lease
    /// (`watch` renews it while it runs, so a rule whose watch has stopped
    /// has no say once its `stale_after` has passed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
    /// A rule's fail-safe (no reading for `stale_after`), not its condition.
    #[serde(default, skip_serializing_if = "is_false")]
    pub fail_safe: bool,
    /// The capacity rule gives the relay back: `on` is the state the relay
    /// had when the rule switched it off.
    #[serde(default, skip_serializing_if = "is_false")]
    pub release: bool,
    /// The capacity rule switched the relay off: the state it had before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<bool>,
    /// The rule's minimum times (seconds), kept so that any process that
    /// carries out the wish honours them.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub min_on_s: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub min_off_s: u64,
}

impl Wish {
    /// Whether it still counts at `now`.
    pub fn current(&self, now: DateTime<Utc>) -> bool {
        self.until.is_none_or(|u| now < u)
    }

    /// The same wish, leaving out when it was written and how long it lasts.
    pub fn same(&self, other: &Wish) -> bool {
        Wish { since: other.since, until: other.until, why: other.why.clone(), ..self.clone() } == *other
    }
}

/// The wishes recorded for a relay; the schedule's is its plan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Wishes {
    /// A command by hand with a hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual: Option<Wish>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<Wish>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub surplus: Option<Wish>,
}

impl Wishes {
    /// The wish of a rule kind (`surplus`, `capacity`).
    pub fn rule_mut(&mut self, kind: &str) -> Option<&mut Option<Wish>> {
        match kind {
            "capacity" => Some(&mut self.capacity),
            "surplus" => Some(&mut self.surplus),
            _ => None,
        }
    }

    pub fn rule(&self, kind: &str) -> Option<&Wish> {
        match kind {
            "capacity" => self.capacity.as_ref(),
            "surplus" => self.surplus.as_ref(),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    #[serde(default)]
    pub relays: BTreeMap<u32, RelayState>,
    #[serde(default)]
    pub plans: BTreeMap<u32, Plan>,
    /// What each source wants of each relay.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub wishes: BTreeMap<u32, Wishes>,
}

/// One change, as the event log holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub time: DateTime<Utc>,
    pub relay: u32,
    pub on: bool,
    /// The state before, when one was on record.
    pub was: Option<bool>,
    pub by: By,
    /// The rule's kind, for a change by a rule or its fail-safe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    pub why: String,
}
