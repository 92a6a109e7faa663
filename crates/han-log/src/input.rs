//! Reading and checking the input, on its own thread: stdin in chunks,
//! split into lines, each checked to be a reading (`Line::parse`), put in
//! its day and reduced to what the live page needs; the main thread then
//! only stores. On two cores the checking (most of the work for long DSMR
//! lines) runs beside the writing, and the main loop keeps its sync and
//! retry times while no input comes.

use std::io::{self, Read};
use std::ops::Range;
use std::sync::mpsc::{Receiver, SyncSender};

use chrono::Utc;
use han_common::line::{Line, LineError, QUANTITIES, STREAM_VERSION, Value};
use han_common::tz::Tz;

use crate::cli::Clock;
use crate::csv;
use han_common::days::{Days, Stamp};

/// Input is read in chunks up to this size.
const CHUNK: usize = 256 * 1024;
/// A line longer than this is no reading (the longest DSMR lines are a few
/// KiB): it is reported, and skipped to its end, rather than held in memory.
pub const MAX_LINE: usize = 1 << 20;
/// Bytes of an over-long line kept to report it.
const SHOW: usize = 120;

/// The quantities that make a reading "full" for the live page.
const PHASES: [&str; 6] =
    ["voltage_l1_v", "voltage_l2_v", "voltage_l3_v", "current_l1_a", "current_l2_a", "current_l3_a"];

/// What the live page takes from a reading.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sample {
    pub import_w: Option<f64>,
    pub export_w: Option<f64>,
    pub energy_import_kwh: Option<f64>,
    pub energy_export_kwh: Option<f64>,
    pub meter_id: Option<String>,
    /// Whether it has per-phase values (voltage or current).
    pub phases: bool,
    /// Its energy registers with its id and times, a JSON object (the
    /// page's `last_registers`), when it has any register.
    pub registers: Option<String>,
}

/// Whether a quantity is an energy register (kWh or kvarh).
fn is_register(name: &str) -> bool {
    name.starts_with("energy_") || name.starts_with("reactive_energy_")
}

/// The energy registers of a line with its meter id and times, as a JSON
/// object; the numbers exactly as in the line.
fn registers(line: &Line<'_>) -> Option<String> {
    let regs = || {
        line.quantities.iter().zip(QUANTITIES).filter_map(|(v, name)| match v {
            Some(Value::Num(n)) if is_register(name) => Some((*name, *n)),
            _ => None,
        })
    };
    regs().next()?;
    let mut o = String::from("{");
    let text = [("meter_id", &line.meter_id), ("meter_time", &line.meter_time), ("received", &line.received)];
    for (name, value) in text {
        if let Some(t) = value {
            // Serialising a str cannot fail.
            let quoted = serde_json::to_string(t.as_ref()).unwrap_or_default();
            o.push_str(&format!("\"{name}\":{quoted},"));
        }
    }
    for (name, n) in regs() {
        o.push_str(&format!("\"{name}\":{n},"));
    }
    o.pop();
    o.push('}');
    Some(o)
}

impl Sample {
    /// The sample of a line.
    pub fn of(line: &Line<'_>) -> Sample {
        Sample {
            import_w: line.number("power_import_w"),
            export_w: line.number("power_export_w"),
            energy_import_kwh: line.number("energy_import_kwh"),
            energy_export_kwh: line.number("energy_export_kwh"),
            meter_id: line.meter_id.as_deref().map(str::to_owned),
            phases: PHASES.iter().any(|q| line.number(q).is_some()),
            registers: registers(line),
        }
    }
}

/// One input line, checked.
#[derive(Debug)]
pub enum Item {
    /// A reading: where its line is in the batch, its day, its CSV row.
    Reading { line: Range<usize>, stamp: Stamp, sample: Option<Sample>, csv: Range<usize> },
    /// A line that is not a reading.
    Bad { line: Range<usize>, error: LineError },
}

/// Whole lines of input, checked.
#[derive(Debug, Default)]
pub struct Batch {
    /// The lines, each with its newline (the last may lack it at the end of input).
    pub bytes: Vec<u8>,
    pub items: Vec<Item>,
    /// The CSV rows of the readings (with `--csv`).
    pub csv: Vec<u8>,
}

/// What the input thread sends.
#[derive(Debug)]
pub enum Input {
    Batch(Batch),
    End,
    Failed(io::Error),
}

/// What the thread needs to know.
#[derive(Debug, Clone, Copy)]
pub struct Checking {
    pub tz: Tz,
    pub clock: Clock,
    pub csv: bool,
    pub live: bool,
}

/// The input thread: runs until the input ends or the receiver is gone.
pub fn run(mut input: impl Read, how: Checking, tx: SyncSender<Input>, spare: Receiver<Batch>) {
    let mut days = Days::new(how.tz, how.clock.into());
    let mut carry = Vec::new();
    let mut newer = false;
    // Inside an over-long line: input is dropped up to the next newline.
    let mut skipping = false;
    loop {
        let mut batch = spare.try_recv().unwrap_or_default();
        batch.items.clear();
        batch.csv.clear();
        let mut buf = std::mem::take(&mut batch.bytes);
        buf.clear();
        buf.append(&mut carry);
        let have = buf.len();
        buf.resize(have + CHUNK, 0);
        let n = match input.read(buf.get_mut(have..).unwrap_or_default()) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                buf.truncate(have);
                carry = buf;
                continue;
            }
            Err(e) => {
                tx.send(Input::Failed(e)).ok();
                return;
            }
        };
        buf.truncate(have + n);
        let end = n == 0;
        if skipping {
            match memchr::memchr(b'\n', &buf) {
                Some(i) => {
                    buf.drain(..=i);
                    skipping = false;
                }
                None => buf.clear(),
            }
        }
        if !end {
            // Whole lines only; the rest waits for the next read.
            let whole = memchr::memrchr(b'\n', &buf).map_or(0, |i| i + 1);
            carry.extend_from_slice(buf.get(whole..).unwrap_or_default());
            buf.truncate(whole);
        }
        batch.bytes = buf;
        check(&mut batch, &mut days, how, &mut newer);
        if carry.len() > MAX_LINE {
            let at = batch.bytes.len();
            batch.bytes.extend_from_slice(carry.get(..SHOW).unwrap_or_default());
            let error = LineError::Json(format!("a line of more than {MAX_LINE} bytes; skipped to its end"));
            batch.items.push(Item::Bad { line: at..batch.bytes.len(), error });
            carry.clear();
            skipping = true;
        }
        if !batch.items.is_empty() && tx.send(Input::Batch(batch)).is_err() {
            return;
        }
        if end {
            tx.send(Input::End).ok();
            return;
        }
    }
}

/// Checks every line of a batch.
fn check(batch: &mut Batch, days: &mut Days, how: Checking, newer: &mut bool) {
    let Batch { bytes, items, csv: rows } = batch;
    let want = how.csv || how.live;
    // For readings with no time at all; one clock reading a batch.
    let now = Utc::now();
    let mut start = 0;
    while start < bytes.len() {
        let end = memchr::memchr(b'\n', bytes.get(start..).unwrap_or_default()).map_or(bytes.len(), |i| start + i);
        let raw = bytes.get(start..end).unwrap_or_default();
        let range = start..end;
        start = end + 1;
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let line = match Line::parse(raw, want) {
            Ok(l) => l,
            Err(error) => {
                items.push(Item::Bad { line: range, error });
                continue;
            }
        };
        if line.v > u64::from(STREAM_VERSION) && !*newer {
            *newer = true;
            eprintln!("han-log: readings of stream contract v{} (this han-log knows v1): stored as they are", line.v);
        }
        let stamp = days.stamp(&line, now);
        let from = rows.len();
        if how.csv {
            csv::row(rows, &line, stamp, how.tz);
        }
        let sample = how.live.then(|| Sample::of(&line));
        items.push(Item::Reading { line: range, stamp, sample, csv: from..rows.len() });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Gives its bytes a few at a time.
    struct Slow(Vec<u8>, usize);
    impl Read for Slow {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.1.min(self.0.len()).min(out.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0.drain(..n);
            Ok(n)
        }
    }

    #[test]
    fn lines_across_reads_and_an_unfinished_last_one() {
        let good = r#"{"v":1,"protocol":"p1","received":"2025-01-01T10:00:00.000Z","power_import_w":5.0,"obis":{}}"#;
        let text = format!("{good}\nnot json\n\n{good}\n{good}");
        let how = Checking { tz: Tz::UTC, clock: Clock::Meter, csv: true, live: true };
        let (tx, rx) = std::sync::mpsc::sync_channel(100);
        let (_spare_tx, spare) = std::sync::mpsc::channel();
        run(Slow(text.into_bytes(), 7), how, tx, spare);
        let mut readings = Vec::new();
        let mut bad = 0;
        for msg in rx.iter() {
            match msg {
                Input::Batch(b) => {
                    for item in &b.items {
                        match item {
                            Item::Reading { line, sample, csv, .. } => {
                                assert_eq!(&b.bytes[line.clone()], good.as_bytes());
                                assert_eq!(sample.as_ref().unwrap().import_w, Some(5.0));
                                assert!(b.csv[csv.clone()].starts_with(b"2025-01-01T10:00:00+00:00,"));
                                readings.push(());
                            }
                            Item::Bad { line, .. } => {
                                assert_eq!(&b.bytes[line.clone()], b"not json");
                                bad += 1;
                            }
                        }
                    }
                }
                Input::End => break,
                Input::Failed(e) => panic!("{e}"),
            }
        }
        assert_eq!((readings.len(), bad), (3, 1));
    }

    #[test]
    fn an_endless_line_is_reported_and_skipped_not_kept() {
        let good = r#"{"v":1,"protocol":"p1","received":"2025-01-01T10:00:00.000Z","obis":{}}"#;
        let mut text = format!("{good}\n").into_bytes();
        text.extend(std::iter::repeat_n(b'x', 3 * MAX_LINE));
        text.extend_from_slice(format!("\n{good}\n").as_bytes());
        let how = Checking { tz: Tz::UTC, clock: Clock::Meter, csv: false, live: false };
        let (tx, rx) = std::sync::mpsc::sync_channel(1000);
        let (_spare_tx, spare) = std::sync::mpsc::channel();
        run(Slow(text, 64 * 1024), how, tx, spare);
        let (mut readings, mut bad) = (0, Vec::new());
        let mut biggest = 0;
        for msg in rx.iter() {
            let Input::Batch(b) = msg else { break };
            biggest = biggest.max(b.bytes.capacity());
            for item in &b.items {
                match item {
                    Item::Reading { .. } => readings += 1,
                    Item::Bad { line, error } => bad.push((b.bytes[line.clone()].to_vec(), error.to_string())),
                }
            }
        }
        assert_eq!(readings, 2, "the readings on both sides survive");
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].0, vec![b'x'; SHOW]);
        assert!(bad[0].1.contains("more than 1048576 bytes"), "{}", bad[0].1);
        assert!(biggest < 2 * MAX_LINE + CHUNK, "memory stays bounded: {biggest}");
    }
}
