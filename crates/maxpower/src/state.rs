//! The state file (`STATE/maxpower.json`): the stored limit, the mails
//! sent (one per hour per kind), the mails still to send, and the monthly
//! peaks seen (Belgium's 12-month mean). Written atomically after each
//! change, so a crash never leaves half a file, and a mail once sent is
//! never sent again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// A mail not yet sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    /// `over`, `projected` or `step`.
    pub kind: String,
    /// The hour (or quarter hour) it is about, RFC 3339.
    pub hour: String,
    /// The same for people (`the hour from 2025-01-06 16:00`); empty in a
    /// state written before it was kept.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub about: String,
    pub subject: String,
    pub body: String,
    /// When it was due (the run that found it, RFC 3339), and how often
    /// it was tried.
    pub since: String,
    pub tries: u32,
}

/// A month's peak demand as last seen (Belgium).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonthPeak {
    pub peak_w: f64,
    /// `meter` or `computed`.
    pub source: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// The limit set by `--set-limit`, Wh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_wh: Option<f64>,
    /// Hours that ended before this (RFC 3339) are never mailed about: set
    /// on the first run with mail, so an old month is not mailed at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watch_from: Option<String>,
    /// By kind: the hours mailed about (RFC 3339, kept for 40 days).
    #[serde(default)]
    pub sent: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub pending: Vec<Pending>,
    /// `YYYY-MM` -> the month's peak (Belgium).
    #[serde(default)]
    pub months: BTreeMap<String, MonthPeak>,
}

/// The state file of a state folder.
pub fn path(dir: &Path) -> PathBuf {
    dir.join("maxpower.json")
}

impl State {
    /// Reads the state (empty when there is none yet).
    pub fn load(dir: &Path) -> Result<State> {
        let p = path(dir);
        match std::fs::read(&p) {
            Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| {
                format!("{} is not a maxpower state file (move it away to start afresh)", p.display())
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State::default()),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", p.display())),
        }
    }

    /// Writes it atomically (creating the folder).
    pub fn save(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let mut bytes = serde_json::to_vec_pretty(self).context("cannot serialise the state")?;
        bytes.push(b'\n');
        let p = path(dir);
        han_common::atomic::write_atomic(&p, &bytes).with_context(|| format!("cannot write {}", p.display()))
    }

    /// Whether a mail of `kind` about `hour` was sent or is waiting.
    pub fn known(&self, kind: &str, hour: &str) -> bool {
        self.sent.get(kind).is_some_and(|h| h.iter().any(|x| x == hour))
            || self.pending.iter().any(|p| p.kind == kind && p.hour == hour)
    }

    /// Records a mail sent; forgets those older than `keep_from` (RFC 3339 in UTC sorts as text).
    pub fn mark_sent(&mut self, kind: &str, hour: &str, keep_from: &str) {
        let list = self.sent.entry(kind.to_owned()).or_default();
        list.push(hour.to_owned());
        list.retain(|h| h.as_str() >= keep_from);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_marks() {
        let dir = std::env::temp_dir().join(format!("maxpower-state-{}", std::process::id()));
        assert_eq!(State::load(&dir).unwrap(), State::default(), "no file yet");
        let mut s = State { limit_wh: Some(5000.0), ..State::default() };
        s.mark_sent("over", "2025-01-06T16:00:00Z", "2024-12-01T00:00:00Z");
        s.mark_sent("over", "2025-02-20T16:00:00Z", "2025-01-10T00:00:00Z");
        assert_eq!(s.sent["over"], ["2025-02-20T16:00:00Z"], "older ones forgotten");
        assert!(s.known("over", "2025-02-20T16:00:00Z") && !s.known("step", "2025-02-20T16:00:00Z"));
        s.save(&dir).unwrap();
        assert_eq!(State::load(&dir).unwrap(), s);
        std::fs::write(path(&dir), "{").unwrap();
        assert!(State::load(&dir).unwrap_err().to_string().contains("not a maxpower state file"));
        std::fs::remove_dir_all(&dir).ok();
    }
}
