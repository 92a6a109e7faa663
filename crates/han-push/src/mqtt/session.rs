//! The session: stdin's readings into the bounded buffer all the time, and
//! out to the broker whenever it is there. Every message is QoS 1, so
//! "delivered" means the broker has it; what was sent but not acknowledged
//! when the connection dropped is sent again after the reconnect (at least
//! once). The first connection waits for the first reading that names its
//! meter: the client id (by default) and the last will are that meter's.
//! After each connect: `online` for each meter (retained), every discovery
//! config made so far (retained: the broker may have restarted without
//! them), then the waiting messages in order.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};

use super::client::{Connection, Event, Lost, Options};
use super::meters::{Message, Meters};
use crate::queue::Queue;
use crate::stream::{Input, Reading, Stream};

/// Messages sent and not yet acknowledged, at most (the buffer holds the rest).
const WINDOW: usize = 32;
/// A publish unacknowledged this long means the broker is gone.
const ACK_TIMEOUT: Duration = Duration::from_secs(30);
const BACKOFF_MIN: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// A connection that lasted this long starts the backoff afresh when lost.
const STABLE: Duration = Duration::from_secs(60);
/// After the input ends, tries come at least this often.
const LAST_TRIES: Duration = Duration::from_secs(2);
/// How often drops are said while they go on.
const SAY_EVERY: Duration = Duration::from_secs(60);

/// A message on its way.
#[derive(Debug)]
struct Out {
    msg: Message,
    /// A reading's state (counted when undelivered), not a config or status.
    reading: bool,
    /// The packet id and when it went, once sent on this connection.
    sent: Option<(u16, Instant)>,
}

/// The bounds of a session.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Readings the buffer holds.
    pub buffer: usize,
    /// After the input ends (or a signal), how long what waits is tried.
    pub last_try: Duration,
}

/// How the session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Readings the buffer dropped, and readings never acknowledged.
    pub dropped: u64,
    pub undelivered: u64,
    /// Readings that named no meter before any did (not published).
    pub unnamed: u64,
}

/// Runs until the input ends (or `stop`), then says `offline` and
/// disconnects. An error only for a refusal retrying cannot mend.
/// `opts.client_id` empty: `han-push-HOST-METER` ([`client_id`]).
pub fn run(
    opts: &Options,
    mut meters: Meters,
    stream: &Stream,
    limits: Limits,
    stop: &AtomicBool,
) -> anyhow::Result<Outcome> {
    let mut s = Session {
        given_id: (!opts.client_id.is_empty()).then(|| opts.client_id.clone()),
        opts: opts.clone(),
        queue: Queue::new(limits.buffer),
        outbox: VecDeque::new(),
        conn: None,
        connected_at: None,
        away_since: Some(Instant::now()),
        backoff: BACKOFF_MIN,
        next_attempt: Instant::now(),
        failures: 0,
        last_said: None,
    };
    let mut ended: Option<Instant> = None;
    let mut said_unnamed = false;
    loop {
        // 1. The broker, before the input: at the start, readings are not to
        // be taken (and dropped) faster than a broker that is there can take them.
        if s.conn.is_none() && meters.will().is_some() && Instant::now() >= s.next_attempt {
            s.connect(&meters)?;
        }
        // 2. The input: wait for it when there is nothing else to do.
        let wait = s.idle_wait();
        if ended.is_none() {
            let mut first = Some(wait);
            loop {
                if s.conn.is_some() {
                    s.fill(&mut meters);
                    // Connected, a full buffer waits for the broker (a replay faster than it):
                    // stdin waits. Away, the buffer drops the oldest and stdin goes on.
                    if s.queue.is_full() {
                        break;
                    }
                }
                let got = match first.take() {
                    Some(w) if !w.is_zero() => {
                        stream.rx.recv_timeout(w).map_err(|e| e == RecvTimeoutError::Disconnected)
                    }
                    _ => stream.rx.try_recv().map_err(|e| e == TryRecvError::Disconnected),
                };
                match got {
                    Ok(Input::Reading(r)) if meters.will().is_none() && r.meter_id.is_none() => {
                        // Before any line named its meter: nowhere to publish it (counted).
                        meters.reading(&r);
                    }
                    Ok(Input::Reading(r)) => {
                        let first = meters.choose_will(&r);
                        s.queue.push(*r);
                        if first {
                            s.will_chosen(&meters);
                            break; // connect now, before more input piles up
                        }
                    }
                    Ok(Input::End) | Err(true) => {
                        ended = Some(Instant::now() + limits.last_try);
                        break;
                    }
                    Ok(Input::Failed(e)) => {
                        eprintln!("han-push: stdin: {e}; stopping");
                        ended = Some(Instant::now() + limits.last_try);
                        break;
                    }
                    Err(false) => break,
                }
            }
        } else if !wait.is_zero() {
            std::thread::sleep(wait.min(Duration::from_millis(200)));
        }
        if stop.load(Ordering::Relaxed) && ended.is_none() {
            eprintln!("han-push: stopping (signal)");
            ended = Some(Instant::now() + limits.last_try);
        }
        if ended.is_some() {
            s.next_attempt = s.next_attempt.min(Instant::now() + LAST_TRIES);
        }
        // 3. Out to the broker.
        if s.conn.is_some() {
            s.fill(&mut meters);
            if meters.unnamed > 0 && !said_unnamed {
                said_unnamed = true;
                eprintln!(
                    "han-push: mqtt: a reading that names no meter (a list 1 line) before any that does: \
                     skipped until one names it"
                );
            }
            if let Err(e) = s.exchange() {
                s.lost(&e);
            }
        }
        s.say_drops(false);
        // 4. The end: all delivered, or the grace time is over.
        if let Some(deadline) = ended {
            if (s.queue.is_empty() && s.outbox.is_empty()) || Instant::now() >= deadline {
                return Ok(s.finish(&meters));
            }
        }
    }
}

struct Session {
    /// `--client-id`, else none: the meter's.
    given_id: Option<String>,
    /// Its client id and will are set once the will's meter is known.
    opts: Options,
    queue: Queue<Reading>,
    outbox: VecDeque<Out>,
    conn: Option<Connection>,
    connected_at: Option<Instant>,
    away_since: Option<Instant>,
    backoff: Duration,
    next_attempt: Instant,
    failures: u64,
    last_said: Option<Instant>,
}

impl Session {
    /// The client id and the will, now that the first meter is known.
    fn will_chosen(&mut self, meters: &Meters) {
        if let Some(m) = meters.will() {
            self.opts.will_topic = meters.topics().availability(m);
            self.opts.client_id = self.given_id.clone().unwrap_or_else(|| client_id(&host_name(), m));
        }
    }

    /// How long the loop may wait for input before the broker needs it.
    fn idle_wait(&self) -> Duration {
        match &self.conn {
            None => self.next_attempt.saturating_duration_since(Instant::now()).min(Duration::from_millis(500)),
            // Acknowledgements are awaited on the socket, not here.
            Some(_) if !self.outbox.is_empty() || !self.queue.is_empty() => Duration::ZERO,
            Some(_) => Duration::from_millis(250),
        }
    }

    fn connect(&mut self, meters: &Meters) -> anyhow::Result<()> {
        match Connection::open(&self.opts) {
            Ok(c) => {
                match (self.away_since.take(), self.connected_at) {
                    (Some(away), Some(_)) => {
                        let waiting = self.queue.len() + self.outbox.iter().filter(|o| o.reading).count();
                        eprintln!(
                            "han-push: mqtt: {} is back after {} s; sending the {waiting} readings that waited",
                            self.opts.broker,
                            away.elapsed().as_secs()
                        );
                    }
                    _ => eprintln!("han-push: mqtt: connected to {} as {}", self.opts.broker, self.opts.client_id),
                }
                self.conn = Some(c);
                self.connected_at = Some(Instant::now());
                self.failures = 0;
                self.say_drops(true);
                // The broker may have lost the retained ones; again, in front of what waits.
                let first: Vec<Out> =
                    meters.announced().into_iter().map(|msg| Out { msg, reading: false, sent: None }).collect();
                // Configs and statuses still waiting are in `first` anew (and a broker
                // that keeps dropping the connection does not pile up copies).
                self.outbox.retain(|o| o.reading);
                for o in &mut self.outbox {
                    o.sent = None;
                }
                for o in first.into_iter().rev() {
                    self.outbox.push_front(o);
                }
                Ok(())
            }
            Err(e) if e.is_permanent() => Err(anyhow::anyhow!("mqtt: {}: {e}", self.opts.broker)),
            Err(e) => {
                if self.failures == 0 {
                    eprintln!(
                        "han-push: mqtt: cannot connect to {}: {e}; retrying, readings wait in the buffer (at most {})",
                        self.opts.broker,
                        self.queue.capacity()
                    );
                }
                self.failures += 1;
                self.retry_later();
                Ok(())
            }
        }
    }

    fn retry_later(&mut self) {
        self.next_attempt = Instant::now() + self.backoff;
        self.backoff = (self.backoff * 2).min(BACKOFF_MAX);
    }

    fn lost(&mut self, e: &Lost) {
        self.conn = None;
        if self.connected_at.is_some_and(|t| t.elapsed() >= STABLE) {
            self.backoff = BACKOFF_MIN;
        }
        self.away_since = Some(Instant::now());
        eprintln!(
            "han-push: mqtt: lost {}: {e}; reconnecting, readings wait in the buffer (at most {})",
            self.opts.broker,
            self.queue.capacity()
        );
        // Counted as the first failure: the next one is not said again.
        self.failures = 1;
        self.retry_later();
    }

    /// Readings from the buffer into the outbox, as messages, while the window has room.
    fn fill(&mut self, meters: &mut Meters) {
        while self.outbox.len() < WINDOW {
            let Some(r) = self.queue.pop() else { break };
            for msg in meters.reading(&r) {
                let reading = !msg.retain;
                self.outbox.push_back(Out { msg, reading, sent: None });
            }
        }
    }

    /// Sends what is unsent, reads acknowledgements.
    fn exchange(&mut self) -> Result<(), Lost> {
        let Some(c) = self.conn.as_mut() else { return Ok(()) };
        for o in self.outbox.iter_mut().filter(|o| o.sent.is_none()) {
            let id = c.publish(&o.msg)?;
            o.sent = Some((id, Instant::now()));
        }
        let wait = if self.outbox.is_empty() { Duration::from_millis(1) } else { Duration::from_millis(20) };
        for Event::Acked(id) in c.poll(wait)? {
            if let Some(i) = self.outbox.iter().position(|o| o.sent.is_some_and(|(s, _)| s == id)) {
                self.outbox.remove(i);
            }
        }
        if let Some((_, at)) = self.outbox.front().and_then(|o| o.sent) {
            if at.elapsed() > ACK_TIMEOUT {
                return Err(Lost::Other(format!("no acknowledgement in {} s", ACK_TIMEOUT.as_secs())));
            }
        }
        Ok(())
    }

    /// Says what the buffer dropped since it last did: at once when `now`,
    /// else at most every minute.
    fn say_drops(&mut self, now: bool) {
        if !now && self.last_said.is_some_and(|t| t.elapsed() < SAY_EVERY) {
            return;
        }
        if let Some(n) = self.queue.unsaid() {
            self.last_said = Some(Instant::now());
            eprintln!(
                "han-push: mqtt: {n} readings dropped, the oldest first: the broker was away and the buffer holds {} \
                 ({} dropped in all)",
                self.queue.capacity(),
                self.queue.dropped()
            );
        }
    }

    /// `offline` for each meter, DISCONNECT; what was not delivered counted.
    fn finish(mut self, meters: &Meters) -> Outcome {
        self.say_drops(true);
        let undelivered = (self.queue.len() + self.outbox.iter().filter(|o| o.reading).count()) as u64;
        if let Some(mut c) = self.conn.take() {
            if undelivered == 0 {
                // Await their acknowledgements briefly: the broker then has them before the DISCONNECT.
                let mut waiting: Vec<u16> = meters.offline().iter().filter_map(|m| c.publish(m).ok()).collect();
                let deadline = Instant::now() + Duration::from_secs(5);
                while !waiting.is_empty() && Instant::now() < deadline {
                    match c.poll(Duration::from_millis(50)) {
                        Ok(ev) => waiting.retain(|id| !ev.contains(&Event::Acked(*id))),
                        Err(_) => break,
                    }
                }
                c.disconnect();
            }
            // Else no DISCONNECT: the will says offline (for the will's meter; the
            // others' sensors also watch the will's topic).
        }
        Outcome { dropped: self.queue.dropped(), undelivered, unnamed: meters.unnamed }
    }
}

/// The default client id, `han-push-HOST-METER`: one per meter, so that
/// any number of han-push (one per meter) share a broker, and the same
/// across restarts. A broker drops the older connection of an id.
pub fn client_id(host: &str, meter: &str) -> String {
    let meter = super::discovery::slug(meter);
    match super::discovery::slug(host.trim()).as_str() {
        "_" => format!("han-push-{meter}"),
        h => format!("han-push-{h}-{meter}"),
    }
}

/// This machine's name ("" when it cannot be read).
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .unwrap_or_default()
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::client_id;

    #[test]
    fn a_client_id_per_host_and_meter() {
        assert_eq!(client_id("pi", "6970631403275928"), "han-push-pi-6970631403275928");
        assert_eq!(client_id("my host.lan", "K8EG/004"), "han-push-my_host_lan-K8EG_004");
        assert_eq!(client_id("", "6970631403275928"), "han-push-6970631403275928", "no host name");
    }
}
