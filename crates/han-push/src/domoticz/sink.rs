//! The Domoticz sink: every `--interval` of the readings' time an update
//! of the newest values goes into the queue (one waits at most: a newer
//! one takes its place, counted as skipped). An update the server missed
//! is not a failed try to retry: the next interval sends newer values.

use std::time::{Duration, Instant};

use anyhow::anyhow;
use chrono::{DateTime, Utc};

use super::Settings;
use super::request::{self, Job, Sent};
use super::svalue::Latest;
use crate::deliver::{Away, Sink, Tried};
use crate::input::Reading;
use crate::queue::Queue;

/// How often a failing server is said again.
const SAY_EVERY: Duration = Duration::from_secs(60);

/// The newest values, to Domoticz's devices.
pub struct Updater {
    s: Settings,
    latest: Latest,
    readings: u64,
    /// The reading time of the last update.
    last: Option<DateTime<Utc>>,
    /// Readings taken in since the last update.
    unsent: bool,
    /// The newest values went into the queue at the end.
    sent_at_end: bool,
    waiting_said: bool,
    /// The gas total the server has.
    gas_sent: Option<u64>,
    /// The last failure said, and when; failures since.
    said: Option<(String, Instant)>,
    unsaid: u64,
    /// Requests answered OK, and those that were not.
    sent: u64,
    missed: u64,
    /// Whether the last update was delivered whole.
    last_ok: bool,
}

impl Updater {
    pub fn new(s: Settings) -> Updater {
        Updater {
            s,
            latest: Latest::default(),
            readings: 0,
            last: None,
            unsent: false,
            sent_at_end: false,
            waiting_said: false,
            gas_sent: None,
            said: None,
            unsaid: 0,
            sent: 0,
            missed: 0,
            last_ok: false,
        }
    }

    /// The update of the newest values, when there is something to send.
    fn job(&self) -> Option<Job> {
        let p1 = self.s.idx_p1.and_then(|idx| Some((idx, self.latest.p1()?)));
        let gas = self.s.idx_gas.and_then(|idx| Some((idx, self.latest.gas_litres()?)));
        (p1.is_some() || gas.is_some()).then_some(Job { p1, gas })
    }

    fn missed(&mut self, idx: u64, why: String) {
        self.missed += 1;
        let fresh = self.said.as_ref().is_none_or(|(w, at)| *w != why || at.elapsed() >= SAY_EVERY);
        if fresh {
            let more = if self.unsaid > 0 { format!(" ({} more missed before)", self.unsaid) } else { String::new() };
            eprintln!(
                "han-push: domoticz: update of idx {idx} missed: {why}{more}; the next interval sends newer values"
            );
            self.said = Some((why, Instant::now()));
            self.unsaid = 0;
        } else {
            self.unsaid += 1;
        }
    }
}

impl Sink for Updater {
    type Item = Job;
    /// Unused: a missed update is not tried again.
    const BACKOFF: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(1));

    fn take(&mut self, r: Reading, queue: &mut Queue<Job>) -> bool {
        self.readings += 1;
        self.latest.update(&r);
        self.unsent = true;
        // By the readings' time; a clock that went back starts again.
        // (An interval past chrono's range is never due again.)
        let due =
            self.last.is_none_or(|t| t.checked_add_signed(self.s.interval).is_some_and(|n| r.time >= n) || r.time < t);
        if !due {
            return false;
        }
        let Some(j) = self.job() else {
            if !self.waiting_said {
                self.waiting_said = true;
                eprintln!(
                    "han-push: domoticz: waiting for a reading with the energy registers (HAN meters send them once an hour) before the first update"
                );
            }
            return false;
        };
        queue.push(j);
        self.unsent = false;
        self.last = Some(r.time);
        false
    }

    fn due(&self, queue: &Queue<Job>, _ending: bool) -> bool {
        !queue.is_empty()
    }

    fn deliver(&mut self, queue: &mut Queue<Job>, _away: Option<&Away>) -> Tried {
        let Some(job) = queue.pop() else { return Tried::Done };
        let mut ok = true;
        let gas = job.gas.filter(|(_, litres)| self.gas_sent != Some(*litres));
        let requests = job
            .p1
            .iter()
            .map(|(idx, s)| (*idx, s.clone(), None))
            .chain(gas.map(|(idx, l)| (idx, l.to_string(), Some(l))));
        for (idx, svalue, litres) in requests {
            match request::udevice(&self.s.server, idx, &svalue) {
                Sent::Ok => {
                    self.sent += 1;
                    if litres.is_some() {
                        self.gas_sent = litres;
                    }
                }
                Sent::Missed(why) => {
                    ok = false;
                    self.missed(idx, why);
                }
                Sent::Fatal(why) => return Tried::Fatal(anyhow!("domoticz: {why}")),
            }
        }
        if ok && self.missed > 0 && self.said.is_some() {
            eprintln!("han-push: domoticz: updating again");
            self.said = None;
        }
        self.last_ok = ok;
        Tried::Done
    }

    fn wait(&self, queue: &Queue<Job>) -> Duration {
        if queue.is_empty() { crate::deliver::TICK } else { Duration::ZERO }
    }

    /// Never: the newest values take the place of those waiting.
    fn holds(&self) -> bool {
        false
    }

    /// The newest values, when the last interval's update did not have them.
    fn ended(&mut self, queue: &mut Queue<Job>) {
        if self.unsent {
            if let Some(j) = self.job() {
                self.sent_at_end = true;
                self.unsent = false;
                queue.push(j);
            }
        }
    }

    /// Said in the summary: updates skipped while the server was busy.
    fn say_dropped(&self, _n: u64, _all: u64, _capacity: usize) {}

    fn close(self, queue: &Queue<Job>, skipped: u64) -> bool {
        if skipped > 0 {
            eprintln!("han-push: {skipped} lines of stdin were not readings (skipped)");
        }
        let busy = queue.dropped();
        if self.missed > 0 || busy > 0 {
            eprintln!(
                "han-push: domoticz: updates: {} sent, {} missed, {busy} skipped while the server was still busy with the one before",
                self.sent, self.missed
            );
        }
        if self.readings > 0 && self.last.is_none() && !self.sent_at_end {
            eprintln!(
                "han-push: domoticz: no reading had what the devices need (energy registers, a gas reading): nothing was sent"
            );
            return false;
        }
        if self.last.is_some() && !self.last_ok {
            eprintln!("han-push: domoticz: the newest readings could not be delivered");
            return false;
        }
        true
    }
}
