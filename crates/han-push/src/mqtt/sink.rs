//! The MQTT sink: the session with the broker. Every message is QoS 1, so
//! "delivered" means the broker has it; what was sent but not acknowledged
//! when the connection dropped is sent again after the reconnect (at least
//! once). The first connection waits for the first reading that names its
//! meter: the client id (by default) and the last will are that meter's.
//! After each connect: `online` for each meter (retained), every discovery
//! config made so far (retained: the broker may have restarted without
//! them), then the waiting messages in order.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::client::{Connection, Event, Lost, Options};
use super::meters::{Message, Meters};
use crate::deliver::{Away, Sink, Tried};
use crate::input::Reading;
use crate::queue::Queue;

/// Messages sent and not yet acknowledged, at most (the queue holds the rest).
const WINDOW: usize = 32;
/// A publish unacknowledged this long means the broker is gone.
const ACK_TIMEOUT: Duration = Duration::from_secs(30);
/// A connection that lasted this long starts the backoff afresh when lost.
const STABLE: Duration = Duration::from_secs(60);

/// A message on its way.
#[derive(Debug)]
struct Out {
    msg: Message,
    /// A reading's state (counted when undelivered), not a config or status.
    reading: bool,
    /// The packet id and when it went, once sent on this connection.
    sent: Option<(u16, Instant)>,
}

/// The session: the meters' messages out to the broker.
pub struct Session {
    /// `--client-id`, else none: the meter's.
    given_id: Option<String>,
    /// Its client id and will are set once the will's meter is known.
    opts: Options,
    meters: Meters,
    outbox: VecDeque<Out>,
    conn: Option<Connection>,
    connected_at: Option<Instant>,
    said_unnamed: bool,
}

impl Session {
    /// A session that connects once a reading names its meter.
    /// `opts.client_id` empty: `han-push-HOST-METER` ([`client_id`]).
    pub fn new(opts: &Options, meters: Meters) -> Session {
        Session {
            given_id: (!opts.client_id.is_empty()).then(|| opts.client_id.clone()),
            opts: opts.clone(),
            meters,
            outbox: VecDeque::new(),
            conn: None,
            connected_at: None,
            said_unnamed: false,
        }
    }

    /// The client id and the will, now that the first meter is known.
    fn will_chosen(&mut self) {
        if let Some(m) = self.meters.will() {
            self.opts.will_topic = self.meters.topics().availability(m);
            self.opts.client_id = self.given_id.clone().unwrap_or_else(|| client_id(&host_name(), m));
        }
    }

    fn waiting(&self, queue: &Queue<Reading>) -> usize {
        queue.len() + self.outbox.iter().filter(|o| o.reading).count()
    }

    fn connect(&mut self, queue: &Queue<Reading>, away: Option<&Away>) -> Tried {
        match Connection::open(&self.opts) {
            Ok(c) => {
                match (away, self.connected_at) {
                    (Some(away), Some(_)) => eprintln!(
                        "han-push: mqtt: {} is back after {} s; sending the {} readings that waited",
                        self.opts.broker,
                        away.since.elapsed().as_secs(),
                        self.waiting(queue)
                    ),
                    _ => eprintln!("han-push: mqtt: connected to {} as {}", self.opts.broker, self.opts.client_id),
                }
                self.conn = Some(c);
                self.connected_at = Some(Instant::now());
                // The broker may have lost the retained ones; again, in front of what waits.
                let first: Vec<Out> =
                    self.meters.announced().into_iter().map(|msg| Out { msg, reading: false, sent: None }).collect();
                // Configs and statuses still waiting are in `first` anew (and a broker
                // that keeps dropping the connection does not pile up copies).
                self.outbox.retain(|o| o.reading);
                for o in &mut self.outbox {
                    o.sent = None;
                }
                for o in first.into_iter().rev() {
                    self.outbox.push_front(o);
                }
                Tried::Done
            }
            Err(e) if e.is_permanent() => Tried::Fatal(anyhow::anyhow!("mqtt: {}: {e}", self.opts.broker)),
            Err(e) => {
                // Said once a time away (a lost connection was said).
                if away.is_none() {
                    eprintln!(
                        "han-push: mqtt: cannot connect to {}: {e}; retrying, readings wait in the buffer (at most {})",
                        self.opts.broker,
                        queue.capacity()
                    );
                }
                Tried::Away
            }
        }
    }

    fn lost(&mut self, e: &Lost, queue: &Queue<Reading>) -> Tried {
        self.conn = None;
        eprintln!(
            "han-push: mqtt: lost {}: {e}; reconnecting, readings wait in the buffer (at most {})",
            self.opts.broker,
            queue.capacity()
        );
        Tried::Away
    }

    /// Readings from the queue into the outbox, as messages, while the window has room.
    fn fill(&mut self, queue: &mut Queue<Reading>) {
        while self.outbox.len() < WINDOW {
            let Some(r) = queue.pop() else { break };
            for msg in self.meters.reading(&r) {
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
}

impl Sink for Session {
    type Item = Reading;
    const BACKOFF: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(30));

    fn take(&mut self, r: Reading, queue: &mut Queue<Reading>) -> bool {
        if self.meters.will().is_none() && r.meter_id.is_none() {
            // Before any line named its meter: nowhere to publish it (counted).
            self.meters.reading(&r);
            return false;
        }
        let first = self.meters.choose_will(&r);
        queue.push(r);
        if first {
            self.will_chosen();
        }
        first // connect now, before more input piles up
    }

    fn due(&self, _queue: &Queue<Reading>, _ending: bool) -> bool {
        self.conn.is_some() || self.meters.will().is_some()
    }

    fn deliver(&mut self, queue: &mut Queue<Reading>, away: Option<&Away>) -> Tried {
        if self.conn.is_none() {
            return self.connect(queue, away);
        }
        self.fill(queue);
        if self.meters.unnamed > 0 && !self.said_unnamed {
            self.said_unnamed = true;
            eprintln!(
                "han-push: mqtt: a reading that names no meter (a list 1 line) before any that does: \
                 skipped until one names it"
            );
        }
        if let Err(e) = self.exchange() {
            return self.lost(&e, queue);
        }
        // Room in the queue for the input.
        self.fill(queue);
        Tried::Done
    }

    /// Acknowledgements are awaited on the socket, not here.
    fn wait(&self, queue: &Queue<Reading>) -> Duration {
        match &self.conn {
            None if self.meters.will().is_some() => Duration::ZERO,
            None => crate::deliver::TICK,
            Some(_) if !self.outbox.is_empty() || !queue.is_empty() => Duration::ZERO,
            Some(_) => Duration::from_millis(250),
        }
    }

    /// Connected, a full queue waits for the broker (a replay faster than
    /// it); before the first connection, the queue drops the oldest.
    fn holds(&self) -> bool {
        self.conn.is_some()
    }

    fn stable(&self) -> bool {
        self.connected_at.is_some_and(|t| t.elapsed() >= STABLE)
    }

    fn in_flight(&self) -> bool {
        !self.outbox.is_empty()
    }

    fn say_dropped(&self, n: u64, all: u64, capacity: usize) {
        eprintln!(
            "han-push: mqtt: {n} readings dropped, the oldest first: the broker was away and the buffer holds {capacity} \
             ({all} dropped in all)"
        );
    }

    /// `offline` for each meter, DISCONNECT; what was not delivered counted.
    fn close(mut self, queue: &Queue<Reading>, skipped: u64) -> bool {
        let undelivered = self.waiting(queue) as u64;
        if let Some(mut c) = self.conn.take() {
            if undelivered == 0 {
                // Await their acknowledgements briefly: the broker then has them before the DISCONNECT.
                let mut waiting: Vec<u16> = self.meters.offline().iter().filter_map(|m| c.publish(m).ok()).collect();
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
        let (dropped, unnamed) = (queue.dropped(), self.meters.unnamed);
        if unnamed > 0 {
            eprintln!("han-push: mqtt: {unnamed} readings before the first that named its meter were not published");
        }
        if skipped > 0 {
            eprintln!("han-push: mqtt: {skipped} lines of stdin were not readings");
        }
        if dropped + undelivered == 0 {
            return true;
        }
        eprintln!(
            "han-push: mqtt: not all delivered: {dropped} readings dropped from the full buffer, {undelivered} still waiting at the end"
        );
        false
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
