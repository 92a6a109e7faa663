//! The one reader of the serial port: every chunk goes to the clients as it
//! is read; with `--baud auto` the bytes also go through a decoder until a
//! line setting gives frames whose checksum holds.

use std::time::Instant;

use han::Decoder;
use han_serial::live::Live;
use han_serial::serial::{self, Probe, Verdict};

use crate::fanout::Fanout;
use crate::notes::Notes;

/// Judges the line settings while `--baud auto` has not settled.
#[derive(Debug)]
pub struct Detect {
    probe: Probe,
    decoder: Decoder,
    /// Sound frames at the current setting.
    sound: u64,
}

impl Detect {
    /// Starts at the first of the settings auto tries.
    pub fn new(now: Instant) -> Detect {
        Detect { probe: Probe::new(now), decoder: Decoder::new(han::Config::default()), sound: 0 }
    }

    /// The setting to open the port at first.
    pub fn first(&self) -> han_serial::serial::LineSettings {
        self.probe.current()
    }

    /// Looks at a chunk; what the probe makes of it so far.
    fn feed(&mut self, chunk: &[u8], now: Instant) -> Verdict {
        self.decoder.push(chunk);
        while let Some(ev) = self.decoder.next_event_ref() {
            // Without a key an encrypted meter gives no reading, but its frames' checksums hold.
            if serial::sound(&ev) {
                self.sound += 1;
            }
        }
        let v = self.probe.step(self.sound, now);
        if let Verdict::Next { .. } = v {
            self.decoder = Decoder::new(han::Config::default());
            self.sound = 0;
        }
        v
    }
}

/// Reads the port for ever, handing each chunk to the clients (or to none).
pub fn pump(mut live: Live, mut detect: Option<Detect>, fan: &Fanout, mut notes: Notes) {
    // No chunk larger than a client's budget: a small --client-buffer
    // would otherwise drop every client on the first big read.
    let mut buf = vec![0u8; (64 * 1024).min(fan.budget()).max(1)];
    loop {
        let n = live.read(&mut buf, &mut notes);
        let chunk = buf.get(..n).unwrap_or(&[]);
        fan.send(chunk);
        let Some(d) = &mut detect else { continue };
        match d.feed(chunk, Instant::now()) {
            Verdict::Listen => {}
            Verdict::Found(s) => {
                notes.note(&format!("line settings {s} give valid frames; keeping them"));
                detect = None;
            }
            Verdict::Next { failed, next } => {
                notes.note(&format!("no valid frame at {failed}; trying {next}"));
                live.set_settings(next);
            }
        }
    }
}
