//! Everything han-read says on stderr, and the bad-frames file: rejected
//! frames rate-limited so a bad cable does not flood the journal.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result};

/// Rejections shown per minute before the rest are only counted.
const PER_MINUTE: u32 = 10;
/// Bytes of a rejected frame shown on stderr.
const SHOW_BYTES: usize = 64;

pub struct Reporter {
    quiet: bool,
    limit: han_common::limit::PerMinute,
    bad_frames: Option<BufWriter<File>>,
    /// Rejected frames by reason, for the hint when no reading came.
    reasons: BTreeMap<&'static str, u64>,
    /// Implausible values shown, rate-limited apart from the rejections.
    implausible: han_common::limit::PerMinute,
    /// Whether the unchecked authenticity was said (once a run).
    said_unauthenticated: bool,
}

impl Reporter {
    pub fn new(quiet: bool, bad_frames: Option<&Path>) -> Result<Reporter> {
        let bad_frames = match bad_frames {
            Some(p) => Some(BufWriter::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)
                    .with_context(|| format!("cannot open --bad-frames file {}", p.display()))?,
            )),
            None => None,
        };
        Ok(Reporter {
            quiet,
            limit: han_common::limit::PerMinute::new(PER_MINUTE),
            bad_frames,
            reasons: BTreeMap::new(),
            implausible: han_common::limit::PerMinute::new(PER_MINUTE),
            said_unauthenticated: false,
        })
    }

    /// A fact worth a line (a link opened, settings found).
    pub fn note(&mut self, msg: &str) {
        if !self.quiet {
            eprintln!("han-read: {msg}");
        }
    }

    /// Something wrong that han-read works around.
    pub fn warn(&mut self, msg: &str) {
        eprintln!("han-read: {msg}");
    }

    /// What the decoder says about a reading it gave: authenticity not
    /// checked (once a run, even with `-q`: it is about every reading), a
    /// value left out as implausible (within the rate limit, not with `-q`).
    pub fn warning(&mut self, w: &han::Warning) {
        match w {
            han::Warning::Unauthenticated { .. } => {
                if !self.said_unauthenticated {
                    self.said_unauthenticated = true;
                    eprintln!("han-read: warning: {w}; give --auth-key to check it");
                }
            }
            _ => {
                if self.quiet {
                    return;
                }
                let (show, held) = self.implausible.allow();
                if let Some(n) = held {
                    eprintln!("han-read: {n} more implausible values in the last minute not shown");
                }
                if show {
                    eprintln!("han-read: {w}");
                }
            }
        }
    }

    /// A rejected frame: to the bad-frames file always, to stderr within the rate limit.
    pub fn rejected(&mut self, error: &han::Error, bytes: &[u8]) {
        *self.reasons.entry(error.kind()).or_default() += 1;
        if let Some(f) = &mut self.bad_frames {
            let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            let written = writeln!(f, "{now} {}: {error} {}", error.kind(), han::Hex(bytes)).and_then(|()| f.flush());
            if let Err(e) = written {
                // A full disk must not stop the readings: say so once, then stop logging.
                eprintln!("han-read: --bad-frames: {e}; no longer logging rejected frames");
                self.bad_frames = None;
            }
        }
        if self.quiet {
            return;
        }
        let (show, held) = self.limit.allow();
        if let Some(n) = held {
            eprintln!("han-read: {n} more rejected frames in the last minute not shown");
        }
        if !show {
            return;
        }
        let shown = bytes.get(..SHOW_BYTES).unwrap_or(bytes);
        let more = if bytes.len() > SHOW_BYTES { format!(" ... ({} bytes)", bytes.len()) } else { String::new() };
        eprintln!("han-read: rejected ({}): {error}: {}{more}", error.kind(), han::Hex(shown));
    }

    /// The last word when the input `name` ended without a reading after
    /// `bytes` bytes: what was skipped and why, and (`look`) how to see
    /// what it holds.
    pub fn no_reading(&self, name: &str, look: &str, bytes: u64, s: &han::Stats) {
        let mut found = Vec::new();
        let rejected: u64 = self.reasons.values().sum();
        if rejected > 0 {
            let why: Vec<String> = self.reasons.iter().map(|(kind, n)| format!("{kind} {n}")).collect();
            let pl = if rejected == 1 { "" } else { "s" };
            found.push(format!("{rejected} frame{pl} or telegram{pl} rejected ({})", why.join(", ")));
        }
        if s.empty_frames > 0 {
            found.push(format!("{} empty frames (keep-alives)", s.empty_frames));
        }
        if found.is_empty() {
            found.push("no frame or telegram found".to_owned());
        }
        let found = found.join(", ");
        eprintln!("han-read: {name}: no reading in {bytes} bytes: {found}, {} bytes skipped; {look}", s.skipped_bytes);
    }

    /// The counters, at exit or on SIGUSR1.
    pub fn counters(s: &han::Stats) {
        // What only some inputs have comes only when it happened.
        let mut more = String::new();
        if s.implausible > 0 {
            more.push_str(&format!(", implausible values left out {}", s.implausible));
        }
        if s.unauthenticated > 0 {
            more.push_str(&format!(", authenticity not checked {}", s.unauthenticated));
        }
        eprintln!(
            "han-read: readings {}, bad checksum {}, unparsed {}, other rejected {}, resyncs {} ({} bytes skipped){more}",
            s.readings, s.bad_checksum, s.unparsed, s.rejected_other, s.resyncs, s.skipped_bytes
        );
    }
}

impl han_serial::live::Say for Reporter {
    fn note(&mut self, msg: &str) {
        Reporter::note(self, msg);
    }

    fn warn(&mut self, msg: &str) {
        Reporter::warn(self, msg);
    }
}
