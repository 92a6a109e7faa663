//! The InfluxDB sink: points in batches of `--batch`, or every
//! `--flush-every`. A batch the server cannot take now (no connection, 5xx,
//! 429) waits for the engine's backoff; one it refuses as bad data (400) is
//! dropped and counted; refused credentials or a missing database stop.

use std::time::{Duration, Instant};

use anyhow::anyhow;

use super::send::{self, Outcome};
use super::{Settings, points};
use crate::deliver::{Away, Sink, Tried};
use crate::input::Reading;
use crate::queue::Queue;

/// How often a failing server is said again.
const SAY_EVERY: Duration = Duration::from_secs(60);

/// The points of the readings, written in batches.
pub struct Writer {
    s: Settings,
    agent: ureq::Agent,
    apart: points::Apart,
    /// When the oldest point waiting (of the next batch) came.
    first_at: Instant,
    /// When a failing server was last said.
    said: Option<Instant>,
    written: u64,
    /// Refused by the server as bad data.
    refused: u64,
    /// Readings without a number (no point to write).
    empty: u64,
}

impl Writer {
    pub fn new(s: Settings) -> Writer {
        let agent = crate::http::agent(s.timeout);
        Writer {
            s,
            agent,
            apart: points::Apart::default(),
            first_at: Instant::now(),
            said: None,
            written: 0,
            refused: 0,
            empty: 0,
        }
    }
}

impl Sink for Writer {
    type Item = String;
    const BACKOFF: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(60));

    fn take(&mut self, r: Reading, queue: &mut Queue<String>) -> bool {
        match points::point(&self.s.measurement, &r, self.apart.seq(&r)) {
            Some(p) => {
                if queue.is_empty() {
                    self.first_at = Instant::now();
                }
                queue.push(p);
            }
            None => {
                self.empty += 1;
                if self.empty == 1 {
                    eprintln!("han-push: influx: a reading without quantities is not written (a point needs a field)");
                }
            }
        }
        queue.len() >= self.s.batch
    }

    fn due(&self, queue: &Queue<String>, ending: bool) -> bool {
        !queue.is_empty() && (ending || queue.len() >= self.s.batch || self.first_at.elapsed() >= self.s.flush_every)
    }

    fn deliver(&mut self, queue: &mut Queue<String>, away: Option<&Away>) -> Tried {
        let n = queue.len().min(self.s.batch);
        let body = queue.iter().take(n).map(String::as_str).collect::<Vec<_>>().join("\n");
        let tried = match send::write(&self.agent, &self.s.target, &body, n) {
            Outcome::Written => {
                queue.remove_front(n);
                self.written += n as u64;
                if let Some(a) = away {
                    eprintln!(
                        "han-push: influx: writing again after {} failed tries in {}s",
                        a.tries,
                        a.since.elapsed().as_secs()
                    );
                }
                self.said = None;
                Tried::Done
            }
            Outcome::Refused { dropped, why } => {
                queue.remove_front(n);
                self.refused += dropped as u64;
                self.written += (n - dropped) as u64;
                eprintln!("han-push: influx: the server refused {dropped} of {n} points, dropped: {why}");
                self.said = None;
                Tried::Done
            }
            Outcome::Retry(why) => {
                if self.said.is_none_or(|t| t.elapsed() >= SAY_EVERY) {
                    self.said = Some(Instant::now());
                    eprintln!(
                        "han-push: influx: cannot write to {}: {why}; {} points wait (buffer {}), retrying",
                        self.s.target.describe(),
                        queue.len(),
                        self.s.buffer
                    );
                }
                Tried::Away
            }
            Outcome::Fatal(why) => {
                let lost = queue.len() as u64 + queue.dropped() + self.refused;
                Tried::Fatal(anyhow!("influx: {why} ({lost} readings were not delivered)"))
            }
        };
        self.first_at = Instant::now();
        tried
    }

    fn wait(&self, queue: &Queue<String>) -> Duration {
        if queue.is_empty() {
            return crate::deliver::TICK;
        }
        if queue.len() >= self.s.batch {
            return Duration::ZERO;
        }
        (self.first_at + self.s.flush_every).saturating_duration_since(Instant::now())
    }

    fn last_try(&self, queue: &Queue<String>, time: Duration) {
        let (n, t) = (queue.len(), han_common::duration::format(time));
        eprintln!("han-push: influx: input ended; trying the {n} points still waiting for up to {t}");
    }

    fn say_dropped(&self, n: u64, _all: u64, capacity: usize) {
        eprintln!("han-push: influx: the buffer was full ({capacity} points): {n} oldest dropped");
    }

    /// The summary at the end.
    fn close(self, queue: &Queue<String>, skipped: u64) -> bool {
        if self.apart.tagged > 0 {
            eprintln!(
                "han-push: influx: {} readings had the meter and the time of the reading before them (a Norwegian \
                 meter's hourly list and the list of the same second): written with a tag seq=N, as points of their own",
                self.apart.tagged
            );
        }
        if skipped > 0 {
            eprintln!("han-push: {skipped} lines of stdin were not readings (skipped)");
        }
        let (dropped, waiting) = (queue.dropped(), queue.len() as u64);
        let lost = dropped + waiting + self.refused;
        if lost > 0 {
            eprintln!(
                "han-push: influx: {lost} readings could not be delivered to {} ({dropped} dropped from the full buffer, {} refused by the server, {waiting} still waiting at the end); {} written",
                self.s.target.describe(),
                self.refused,
                self.written
            );
        }
        lost == 0
    }
}
