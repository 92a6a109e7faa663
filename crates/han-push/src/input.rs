//! The input: han-read's JSON lines on stdin (docs/stream.md), read on
//! their own thread so that a slow or absent server never stops stdin
//! being read, each checked by `han_common::line::Line::parse` and turned
//! into a [`Reading`] every backend uses. Lines that are not readings are
//! counted, the first is said on stderr, and they are skipped.

use std::borrow::Cow;
use std::io::{self, BufRead};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use chrono::{DateTime, Utc};
use han_common::line::{Line, QUANTITIES, STREAM_VERSION, Value};
use han_common::times::StreamTime;
use han_common::tz::Tz;

/// A line longer than this is no reading (the longest DSMR lines are a few
/// KiB): it is skipped to its end rather than held in memory.
pub const MAX_LINE: usize = 1 << 20;

/// One reading of the stream, as the backends need it.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// The meter's id, when the line has one.
    pub meter_id: Option<String>,
    /// When: the meter's clock when it has a UTC offset, else the time
    /// received, else the meter's clock in the system's zone, else now.
    pub time: DateTime<Utc>,
    /// The normalised quantities that are numbers, in the contract's order
    /// (`power_import_w`, W ...).
    pub quantities: Vec<(&'static str, f64)>,
    /// The normalised quantities that are times (`gas_time` ...), as written.
    pub times: Vec<(&'static str, String)>,
    /// The manufacturer (`Aidon`, `Iskra`), when the line names it.
    pub manufacturer: Option<String>,
    /// The meter model, when the line has it.
    pub model: Option<String>,
    /// The line as read, without its newline.
    pub line: Vec<u8>,
}

impl Reading {
    /// A number quantity by name.
    pub fn number(&self, name: &str) -> Option<f64> {
        self.quantities.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    /// The reading of a line; `tz` places a meter time without offset when
    /// the line has no `received`, `now` is the time of a line with no time.
    pub fn of(bytes: &[u8], tz: Tz, now: DateTime<Utc>) -> Result<Reading, String> {
        let line = Line::parse(bytes, true).map_err(|e| e.to_string())?;
        if line.v > u64::from(STREAM_VERSION) {
            return Err(format!("stream contract v{} (this han-push knows v{STREAM_VERSION})", line.v));
        }
        let parse = |t: &Option<Cow<'_, str>>| t.as_deref().and_then(StreamTime::parse);
        let meter = parse(&line.meter_time);
        let time = meter
            .filter(|m| m.offset.is_some())
            .or_else(|| parse(&line.received))
            .or(meter)
            .map_or(now, |t| t.instant(tz, Some(now)));
        let mut quantities = Vec::new();
        let mut times = Vec::new();
        for (name, value) in QUANTITIES.iter().zip(&line.quantities) {
            match value {
                Some(v @ Value::Num(_)) => {
                    if let Some(f) = v.as_f64().filter(|f| f.is_finite()) {
                        quantities.push((*name, f));
                    }
                }
                Some(Value::Text(t)) => times.push((*name, t.to_string())),
                None => {}
            }
        }
        let (manufacturer, model) = device(bytes);
        Ok(Reading {
            meter_id: line.meter_id.map(Cow::into_owned),
            time,
            quantities,
            times,
            manufacturer,
            model,
            line: bytes.to_vec(),
        })
    }
}

/// `manufacturer` and `meter_model` (which `Line` does not keep), looked
/// for only when the line names them.
fn device(bytes: &[u8]) -> (Option<String>, Option<String>) {
    #[derive(serde::Deserialize)]
    struct Device {
        manufacturer: Option<String>,
        meter_model: Option<String>,
    }
    let named = |k: &str| memchr::memmem::find(bytes, k.as_bytes()).is_some();
    if !named("\"manufacturer\"") && !named("\"meter_model\"") {
        return (None, None);
    }
    match serde_json::from_slice::<Device>(bytes) {
        Ok(d) => (d.manufacturer, d.meter_model),
        Err(_) => (None, None),
    }
}

/// What the input thread sends.
#[derive(Debug)]
pub enum Input {
    /// A reading.
    Reading(Box<Reading>),
    /// The input ended.
    End,
    /// Stdin could not be read.
    Failed(io::Error),
}

/// The input thread's side the backends hold.
#[derive(Debug)]
pub struct Stream {
    /// The readings, in order, then `End` or `Failed`.
    pub rx: Receiver<Input>,
    /// Lines that were not readings so far.
    pub skipped: Arc<AtomicU64>,
}

impl Stream {
    /// Lines that were not readings so far.
    pub fn skipped(&self) -> u64 {
        self.skipped.load(Ordering::Relaxed)
    }
}

/// Reads stdin on a thread; `capacity` readings wait in the channel before
/// the thread waits for the backend (which takes them into its own buffer).
pub fn stdin(tz: Tz, capacity: usize) -> Stream {
    spawn(io::stdin(), tz, capacity)
}

/// Reads `input` on a thread (stdin, or anything in tests).
pub fn spawn(input: impl io::Read + Send + 'static, tz: Tz, capacity: usize) -> Stream {
    let (tx, rx) = sync_channel(capacity.max(1));
    let skipped = Arc::new(AtomicU64::new(0));
    let count = Arc::clone(&skipped);
    std::thread::spawn(move || read(io::BufReader::with_capacity(64 * 1024, input), tz, &tx, &count));
    Stream { rx, skipped }
}

/// The thread: until the input ends or the receiver is gone.
fn read(mut input: impl BufRead, tz: Tz, tx: &SyncSender<Input>, skipped: &AtomicU64) {
    let mut line = Vec::new();
    loop {
        match next_line(&mut input, &mut line) {
            Ok(None) => {
                tx.send(Input::End).ok();
                return;
            }
            Ok(Some(whole)) => {
                let text = line.strip_suffix(b"\r").unwrap_or(&line);
                if text.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let got = if whole {
                    Reading::of(text, tz, Utc::now())
                } else {
                    Err(format!("a line of more than {MAX_LINE} bytes; skipped to its end"))
                };
                match got {
                    Ok(r) => {
                        if tx.send(Input::Reading(Box::new(r))).is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        if skipped.fetch_add(1, Ordering::Relaxed) == 0 {
                            eprintln!("han-push: stdin: not a reading, skipped: {e} (any more are only counted)");
                        }
                    }
                }
            }
            Err(e) => {
                tx.send(Input::Failed(e)).ok();
                return;
            }
        }
    }
}

/// The next line into `line` (without its newline): `Some(true)` a line,
/// `Some(false)` one longer than [`MAX_LINE`] (read to its end, its head
/// kept), `None` the end of input.
fn next_line(input: &mut impl BufRead, line: &mut Vec<u8>) -> io::Result<Option<bool>> {
    line.clear();
    let mut any = false;
    let mut whole = true;
    loop {
        let buf = match input.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok(any.then_some(whole));
        }
        any = true;
        let (take, done) = match memchr::memchr(b'\n', buf) {
            Some(i) => (i, true),
            None => (buf.len(), false),
        };
        let room = MAX_LINE.saturating_sub(line.len());
        if take > room {
            whole = false;
        }
        line.extend_from_slice(buf.get(..take.min(room)).unwrap_or_default());
        input.consume(if done { take + 1 } else { take });
        if done {
            return Ok(Some(whole));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P1: &str = r#"{"v":1,"meter_time":"2017-01-02T19:20:02+01:00","protocol":"p1","framing":"dsmr","manufacturer":"Iskra","meter_id":"K8EG004046395507","meter_model":"\\2MT382-1000","list":"50","power_import_w":244.0,"power_export_w":0.0,"energy_import_kwh":6.825,"tariff":2,"gas_m3":0.107,"gas_time":"2017-01-02T16:10:05+01:00","obis":{}}"#;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z").unwrap().to_utc()
    }

    #[test]
    fn a_reading_and_its_time() {
        let r = Reading::of(P1.as_bytes(), Tz::UTC, now()).unwrap();
        assert_eq!(r.meter_id.as_deref(), Some("K8EG004046395507"));
        assert_eq!(r.time.to_rfc3339(), "2017-01-02T18:20:02+00:00", "the meter's clock, with its offset");
        assert_eq!(
            r.quantities,
            [
                ("power_import_w", 244.0),
                ("power_export_w", 0.0),
                ("energy_import_kwh", 6.825),
                ("tariff", 2.0),
                ("gas_m3", 0.107)
            ]
        );
        assert_eq!(r.times, [("gas_time", "2017-01-02T16:10:05+01:00".to_owned())]);
        assert_eq!((r.manufacturer.as_deref(), r.model.as_deref()), (Some("Iskra"), Some("\\2MT382-1000")));
        assert_eq!(r.number("gas_m3"), Some(0.107));
        // A meter time without offset: the time received wins.
        let han = r#"{"v":1,"received":"2025-12-14T15:00:02.314Z","meter_time":"2025-12-14T16:00:00","protocol":"han","power_import_w":1.0,"obis":{}}"#;
        let r = Reading::of(han.as_bytes(), Tz::UTC, now()).unwrap();
        assert_eq!(r.time.timestamp_millis(), 1_765_724_402_314);
        assert_eq!((r.manufacturer, r.model), (None, None));
        // Nothing but the local meter time: in the zone given.
        let local = r#"{"v":1,"meter_time":"2025-12-14T16:00:00","protocol":"han","obis":{}}"#;
        let r = Reading::of(local.as_bytes(), Tz::Europe__Oslo, now()).unwrap();
        assert_eq!(r.time.to_rfc3339(), "2025-12-14T15:00:00+00:00");
        let none = r#"{"v":1,"protocol":"han","obis":{}}"#;
        assert_eq!(Reading::of(none.as_bytes(), Tz::UTC, now()).unwrap().time, now());
        let newer = r#"{"v":2,"protocol":"han","obis":{}}"#;
        assert!(Reading::of(newer.as_bytes(), Tz::UTC, now()).unwrap_err().contains("v2"));
    }

    #[test]
    fn lines_bad_lines_and_the_end() {
        let mut text = format!("{P1}\nnot json\n\r\n{P1}\r\n").into_bytes();
        text.extend(std::iter::repeat_n(b'x', MAX_LINE + 10));
        text.extend_from_slice(format!("\n{P1}").as_bytes());
        let s = spawn(io::Cursor::new(text), Tz::UTC, 2);
        let mut got = 0;
        for input in s.rx.iter() {
            match input {
                Input::Reading(r) => {
                    assert_eq!(r.line, P1.as_bytes());
                    got += 1;
                }
                Input::End => break,
                Input::Failed(e) => panic!("{e}"),
            }
        }
        assert_eq!((got, s.skipped()), (3, 2));
    }
}
