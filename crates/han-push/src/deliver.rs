//! The delivery engine every target shares: stdin's readings into one
//! bounded [`Queue`] (the oldest dropped when full, the drops said), out to
//! a [`Sink`] whenever it is due, tries that fail spaced by one backoff
//! schedule, a last try of what waits when the input ends (or a signal),
//! and the exit status. What a target sends, and what a failed try is to
//! it, is the sink's.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};

use crate::input::{self, Input, Reading, Stream};
use crate::queue::Queue;
use crate::run::NOT_ALL_DELIVERED;

/// How often the engine looks at the signal flag while nothing comes.
pub const TICK: Duration = Duration::from_millis(200);
/// After the input ends, tries come at least this often.
const LAST_TRIES: Duration = Duration::from_secs(2);
/// How often drops are said while they go on.
const SAY_EVERY: Duration = Duration::from_secs(60);

/// What one try came to.
#[derive(Debug)]
pub enum Tried {
    /// Done what it could: delivered, or given up on items the sink counts.
    Done,
    /// The target is away (the sink has said why): the items wait, tried
    /// again after the backoff.
    Away,
    /// Never: the run stops with this error.
    Fatal(anyhow::Error),
}

/// Since when tries fail, and how many did.
#[derive(Debug, Clone, Copy)]
pub struct Away {
    /// The first failed try.
    pub since: Instant,
    /// Failed tries so far.
    pub tries: u32,
}

/// A delivery target: what goes into the queue for a reading, and one try
/// of delivering what waits.
pub trait Sink {
    /// What waits in the queue.
    type Item;
    /// The wait after the first failed try; it doubles up to the second.
    const BACKOFF: (Duration, Duration);

    /// A reading in: what it makes goes into `queue`. Whether to try now
    /// rather than read more input first.
    fn take(&mut self, r: Reading, queue: &mut Queue<Self::Item>) -> bool;

    /// Whether a try is wanted now (the backoff aside); `ending` after the
    /// input ended.
    fn due(&self, queue: &Queue<Self::Item>, ending: bool) -> bool;

    /// One try; `away` when the tries before failed.
    fn deliver(&mut self, queue: &mut Queue<Self::Item>, away: Option<&Away>) -> Tried;

    /// How long the input may be waited for before the sink needs a turn.
    fn wait(&self, _queue: &Queue<Self::Item>) -> Duration {
        TICK
    }

    /// Whether, while the target takes what it is given, a full queue makes
    /// stdin wait (rather than drop the oldest).
    fn holds(&self) -> bool {
        true
    }

    /// Whether the target took what it was given long enough that the
    /// next failure starts the backoff afresh.
    fn stable(&self) -> bool {
        true
    }

    /// Items out of the queue but not yet delivered (in flight).
    fn in_flight(&self) -> bool {
        false
    }

    /// The input ended (or a signal): the last items, if any.
    fn ended(&mut self, _queue: &mut Queue<Self::Item>) {}

    /// Said once when the input ended while the target is away.
    fn last_try(&self, _queue: &Queue<Self::Item>, _for: Duration) {}

    /// Says `n` items were dropped from the full queue (`all` in all).
    fn say_dropped(&self, n: u64, all: u64, capacity: usize);

    /// The end: what it says, and whether every reading was delivered.
    fn close(self, queue: &Queue<Self::Item>, skipped: u64) -> bool;
}

/// The bounds of a run.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Items the queue holds.
    pub buffer: usize,
    /// After the input ends (or a signal), how long what waits is tried.
    pub last_try: Duration,
    /// Readings the input thread holds before it waits.
    pub input: usize,
}

/// The wait before the next try: [`Sink::BACKOFF`]'s first, doubled after
/// each failure up to its longest.
#[derive(Debug)]
struct Backoff {
    first: Duration,
    max: Duration,
    delay: Duration,
    next: Instant,
}

impl Backoff {
    fn failed(&mut self) {
        self.next = Instant::now() + self.delay;
        self.delay = (self.delay * 2).min(self.max);
    }
}

/// Runs `sink` until the input ends (or a signal) and what waits is
/// delivered or the last try is over; the exit status as [`crate::run`]
/// documents it.
pub fn run<S: Sink>(sink: S, limits: Limits) -> Result<u8> {
    let stop = han_common::shell::stop_flag()?;
    // A meter time without offset (in a line without `received`) is taken
    // in the system's zone.
    drive(sink, limits, &input::stdin(han_common::tz::system().0, limits.input), &stop)
}

/// [`run`] on `input`, stopped early by `stop`.
fn drive<S: Sink>(mut sink: S, limits: Limits, input: &Stream, stop: &AtomicBool) -> Result<u8> {
    let mut queue = Queue::new(limits.buffer);
    let (first, max) = S::BACKOFF;
    let mut backoff = Backoff { first, max, delay: first, next: Instant::now() };
    let mut away: Option<Away> = None;
    let mut ended: Option<Instant> = None;
    let mut failed: Option<io::Error> = None;
    let mut said_last_try = false;
    let mut drops_said: Option<Instant> = None;
    loop {
        let now = Instant::now();
        // 1. The target, before the input: readings are not to be taken (and
        // dropped) faster than a target that is there can take them.
        if now >= backoff.next && sink.due(&queue, ended.is_some()) {
            match sink.deliver(&mut queue, away.as_ref()) {
                Tried::Done => {
                    if away.take().is_some() {
                        say_drops(&sink, &mut queue, &mut drops_said, true);
                    }
                }
                Tried::Away => {
                    if away.is_none() && sink.stable() {
                        backoff.delay = backoff.first;
                    }
                    away.get_or_insert(Away { since: now, tries: 0 }).tries += 1;
                    backoff.failed();
                }
                Tried::Fatal(e) => return Err(e),
            }
        }
        // 2. The input: waited for when there is nothing else to do.
        let mut wait = sink.wait(&queue).min(TICK);
        if away.is_some() {
            wait = wait.max(backoff.next.saturating_duration_since(Instant::now())).min(TICK);
        }
        if ended.is_none() {
            let mut first = Some(wait);
            loop {
                // Taken, a full queue waits for the target; away, it drops the oldest.
                if away.is_none() && sink.holds() && queue.is_full() {
                    break;
                }
                let got = match first.take() {
                    Some(w) if !w.is_zero() => {
                        input.rx.recv_timeout(w).map_err(|e| e == RecvTimeoutError::Disconnected)
                    }
                    _ => input.rx.try_recv().map_err(|e| e == TryRecvError::Disconnected),
                };
                match got {
                    Ok(Input::Reading(r)) => {
                        if sink.take(*r, &mut queue) {
                            break;
                        }
                    }
                    Ok(Input::End) | Err(true) => {
                        ended = Some(Instant::now());
                        break;
                    }
                    Ok(Input::Failed(e)) => {
                        failed = Some(e);
                        ended = Some(Instant::now());
                        break;
                    }
                    Err(false) => break,
                }
            }
            if ended.is_some() {
                sink.ended(&mut queue);
            }
        } else if !wait.is_zero() {
            std::thread::sleep(wait);
        }
        if stop.load(Ordering::Relaxed) && ended.is_none() {
            eprintln!("han-push: stopping (signal)");
            ended = Some(Instant::now());
            sink.ended(&mut queue);
        }
        say_drops(&sink, &mut queue, &mut drops_said, false);
        // 3. The end: all delivered, or the last try is over.
        if let Some(end) = ended {
            if away.is_some() && !queue.is_empty() && !said_last_try {
                said_last_try = true;
                sink.last_try(&queue, limits.last_try);
            }
            backoff.next = backoff.next.min(Instant::now() + LAST_TRIES);
            if (queue.is_empty() && !sink.in_flight()) || end.elapsed() >= limits.last_try {
                break;
            }
        }
    }
    say_drops(&sink, &mut queue, &mut drops_said, true);
    let all = sink.close(&queue, input.skipped());
    if let Some(e) = failed {
        return Err(anyhow!("cannot read stdin: {e}"));
    }
    Ok(if all { 0 } else { NOT_ALL_DELIVERED })
}

/// Says what the queue dropped since it last did: at once when `now`, else
/// at most every minute.
fn say_drops<S: Sink>(sink: &S, queue: &mut Queue<S::Item>, said: &mut Option<Instant>, now: bool) {
    if !now && said.is_some_and(|t| t.elapsed() < SAY_EVERY) {
        return;
    }
    if let Some(n) = queue.unsaid() {
        *said = Some(Instant::now());
        sink.say_dropped(n, queue.dropped(), queue.capacity());
    }
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;

    use super::*;

    /// What a test sink delivered and said.
    #[derive(Default)]
    struct Seen {
        delivered: RefCell<Vec<u32>>,
        said: Cell<u64>,
    }

    /// Takes each reading's power as an item; away for its first `fails` tries.
    struct Flaky {
        fails: u32,
        tries: u32,
        seen: Rc<Seen>,
    }

    impl Sink for Flaky {
        type Item = u32;
        const BACKOFF: (Duration, Duration) = (Duration::from_millis(1), Duration::from_millis(4));

        fn take(&mut self, r: Reading, queue: &mut Queue<u32>) -> bool {
            queue.push(r.number("power_import_w").unwrap_or(0.0) as u32);
            false
        }

        fn due(&self, queue: &Queue<u32>, _ending: bool) -> bool {
            !queue.is_empty()
        }

        fn deliver(&mut self, queue: &mut Queue<u32>, _away: Option<&Away>) -> Tried {
            self.tries += 1;
            if self.tries <= self.fails {
                return Tried::Away;
            }
            self.seen.delivered.borrow_mut().extend(queue.pop());
            Tried::Done
        }

        fn wait(&self, queue: &Queue<u32>) -> Duration {
            if queue.is_empty() { TICK } else { Duration::ZERO }
        }

        fn say_dropped(&self, n: u64, _all: u64, _capacity: usize) {
            self.seen.said.set(self.seen.said.get() + n);
        }

        fn close(self, queue: &Queue<u32>, _skipped: u64) -> bool {
            queue.is_empty() && queue.dropped() == 0
        }
    }

    /// The exit status of `n` readings (power 0, 1 ...) to a sink away for `fails` tries.
    fn push(n: u32, fails: u32, limits: Limits) -> (u8, Rc<Seen>) {
        let text: String = (0..n)
            .map(|i| format!("{{\"v\":1,\"protocol\":\"han\",\"power_import_w\":{i},\"obis\":{{}}}}\n"))
            .collect();
        let input = crate::input::spawn(std::io::Cursor::new(text), han_common::tz::Tz::UTC, 16);
        let seen = Rc::new(Seen::default());
        let sink = Flaky { fails, tries: 0, seen: Rc::clone(&seen) };
        (drive(sink, limits, &input, &AtomicBool::new(false)).unwrap(), seen)
    }

    #[test]
    fn what_waits_is_delivered_in_order_after_failed_tries() {
        let (status, seen) = push(20, 3, Limits { buffer: 100, last_try: Duration::from_secs(10), input: 16 });
        assert_eq!(status, 0);
        assert_eq!(*seen.delivered.borrow(), (0..20).collect::<Vec<_>>());
        assert_eq!(seen.said.get(), 0);
    }

    #[test]
    fn a_target_away_to_the_end_is_exit_3_and_every_drop_is_said() {
        let (status, seen) = push(20, u32::MAX, Limits { buffer: 5, last_try: Duration::from_millis(50), input: 16 });
        assert_eq!(status, NOT_ALL_DELIVERED);
        assert!(seen.delivered.borrow().is_empty());
        assert_eq!(seen.said.get(), 15, "20 readings, 5 kept");
    }
}
