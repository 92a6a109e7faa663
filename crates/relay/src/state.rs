//! What is kept between runs: each relay's commanded state, since when and
//! why, a manual command's hold, and the schedule's plans; and the events,
//! one JSON line per change, appended.

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
    /// `prices` or `fallback`.
    pub from: String,
    pub made: DateTime<Utc>,
}

impl Plan {
    pub fn is_on(&self, t: DateTime<Utc>) -> bool {
        self.on.iter().any(|(s, e)| *s <= t && t < *e)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    #[serde(default)]
    pub relays: BTreeMap<u32, RelayState>,
    #[serde(default)]
    pub plans: BTreeMap<u32, Plan>,
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
    pub why: String,
}
