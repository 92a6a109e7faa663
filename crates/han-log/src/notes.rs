//! What han-log says on stderr: lines that are not readings (rate-limited),
//! and when storing starts and stops failing.

use han_common::limit::PerMinute;
use han_common::line::LineError;

use crate::store::{Failure, Files};

/// Bad lines shown per minute before the rest are only counted.
const PER_MINUTE: u32 = 10;
/// Bytes of a bad line shown.
const SHOW: usize = 120;
/// While storing fails, how often it is said again.
const AGAIN: std::time::Duration = std::time::Duration::from_secs(60);

#[derive(Debug)]
pub struct Reporter {
    limit: PerMinute,
    /// Lines that were not readings.
    pub rejected: u64,
    failing: Option<(Failure, std::time::Instant)>,
    hinted: bool,
}

impl Default for Reporter {
    fn default() -> Self {
        Reporter { limit: PerMinute::new(PER_MINUTE), rejected: 0, failing: None, hinted: false }
    }
}

impl Reporter {
    /// An input line that is not a reading: skipped, said.
    pub fn not_a_reading(&mut self, raw: &[u8], e: &LineError) {
        self.rejected += 1;
        let (show, held) = self.limit.allow();
        if let Some(n) = held {
            eprintln!("han-log: {n} more lines that are not readings in the last minute not shown");
        }
        if show {
            // Escaped: binary input must not upset the terminal or the journal.
            let text = raw.get(..SHOW).unwrap_or(raw).escape_ascii();
            let more = if raw.len() > SHOW { format!(" ... ({} bytes)", raw.len()) } else { String::new() };
            eprintln!("han-log: skipped a line that is not a reading ({e}): {text}{more}");
        }
        if !self.hinted && raw.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            self.hinted = true;
            eprintln!("han-log: (it reads the JSON lines han-read writes: han-read /dev/ttyUSB0 | han-log ...)");
        }
    }

    /// The outcome of a write: says when storing starts failing, every
    /// minute while it fails, and when it works again.
    pub fn store(&mut self, result: Result<(), Failure>, logs: &Files, max_buffer: usize) {
        match (result, &self.failing) {
            (Ok(()), None) => {}
            (Ok(()), Some(_)) => {
                self.failing = None;
                eprintln!("han-log: storing again: {} readings stored in all, {} lost", logs.stored, logs.lost);
            }
            (Err(f), Some((old, when))) if *old == f && when.elapsed() < AGAIN => {}
            (Err(f), was) => {
                let again = if was.is_some() { "still " } else { "" };
                eprintln!(
                    "han-log: {again}cannot write {}: {}; keeping readings in memory (up to {} MiB) and retrying: {} waiting, {} lost",
                    f.path.display(),
                    f.message,
                    max_buffer >> 20,
                    logs.waiting_lines(),
                    logs.lost
                );
                self.failing = Some((f, std::time::Instant::now()));
            }
        }
    }
}
