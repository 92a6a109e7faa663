//! The state file (`STATE/relay.json`, written atomically) and the event
//! log (`STATE/relay-events.jsonl`, appended), under a lock
//! (`STATE/relay.lock`) so that `watch`, cron's `schedule` and a command by
//! hand never write over each other. Every change goes through
//! [`Store::switch`]: the pin first, then the state, then the event.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use fs4::FileExt;
use relay::pins::Relay;
use relay::state::{By, Event, RelayState, State};

use crate::backend::Gpio;

pub struct Store {
    dir: PathBuf,
    _lock: File,
    pub state: State,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("dir", &self.dir).finish()
    }
}

impl Store {
    /// Locks the state folder (waiting for another relay process) and reads the state.
    pub fn open(dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot make {}", dir.display()))?;
        let lock_path = dir.join("relay.lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .with_context(|| format!("cannot open {}", lock_path.display()))?;
        <File as FileExt>::lock(&lock).with_context(|| format!("cannot lock {}", lock_path.display()))?;
        let path = dir.join("relay.json");
        let state = match std::fs::read_to_string(&path) {
            Ok(t) => serde_json::from_str(&t).with_context(|| format!("{} is damaged", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => State::default(),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        Ok(Store { dir: dir.to_path_buf(), _lock: lock, state })
    }

    pub fn save(&self) -> Result<()> {
        let path = self.dir.join("relay.json");
        let mut text = serde_json::to_string_pretty(&self.state)?;
        text.push('\n');
        han_common::atomic::write_atomic(&path, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))
    }

    fn event(&self, e: &Event) -> Result<()> {
        let path = self.dir.join("relay-events.jsonl");
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        let mut line = serde_json::to_string(e)?;
        line.push('\n');
        f.write_all(line.as_bytes())
            .and_then(|()| f.sync_data())
            .with_context(|| format!("cannot write {}", path.display()))
    }

    /// Switches a relay and records it; `hold` until when a manual
    /// command holds it. The event is written even when the state does not
    /// change (a command repeated, a restore), since it was asked for.
    pub fn switch(
        &mut self,
        gpio: &mut dyn Gpio,
        relay: &Relay,
        on: bool,
        change: Change,
        now: DateTime<Utc>,
        hold: Option<DateTime<Utc>>,
    ) -> Result<Event> {
        gpio.set(relay, on)?;
        let was = self.state.relays.get(&relay.number).map(|s| s.on);
        let since = match self.state.relays.get(&relay.number) {
            Some(s) if s.on == on => s.since,
            _ => now,
        };
        let Change { by, rule, why, decided } = change;
        let st = RelayState { on, since, by, why: why.clone(), hold_until: hold, rule: rule.clone(), decided };
        self.state.relays.insert(relay.number, st);
        self.save()?;
        let e = Event { time: now, relay: relay.number, on, was, by, rule, why };
        self.event(&e)?;
        Ok(e)
    }

    /// Another source now decides a relay that already is as it wants: the
    /// state says who, no pin is set and no event written. Whether it
    /// changed anything (the caller saves).
    pub fn relabel(&mut self, relay: u32, change: Change, hold: Option<DateTime<Utc>>) -> bool {
        let Some(st) = self.state.relays.get_mut(&relay) else { return false };
        let Change { by, rule, why, decided } = change;
        if st.by == by && st.rule == rule && st.decided == decided && st.hold_until == hold {
            return false;
        }
        *st = RelayState { by, rule, why, decided, hold_until: hold, ..st.clone() };
        true
    }
}

/// Who asks for a change, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub by: By,
    /// The rule's kind, for a rule or its fail-safe.
    pub rule: Option<String>,
    pub why: String,
    /// Who decides, in a few words (see `RelayState::decided`).
    pub decided: String,
}

impl Change {
    pub fn new(by: By, why: impl Into<String>, decided: impl Into<String>) -> Change {
        Change { by, rule: None, why: why.into(), decided: decided.into() }
    }
}

/// How a `by` reads: a rule's kind is said (`capacity rule`).
pub fn by_name(by: By, rule: Option<&str>) -> String {
    match (by, rule) {
        (By::Rule, Some(k)) => format!("{k} rule"),
        _ => by.name().to_string(),
    }
}

/// How an event reads on stderr and in status.
pub fn say(e: &Event, name: &str) -> String {
    format!(
        "relay {} ({name}): {} by {}: {}",
        e.relay,
        if e.on { "on" } else { "off" },
        by_name(e.by, e.rule.as_deref()),
        e.why
    )
}
