//! The Rust crates people would pick instead of `han`, end to end as
//! han-read runs: a capture file in, one JSON line per reading out.
//!
//! - `han-peers dsmr5 FILE`: DSMR P1 telegrams with the `dsmr5` crate
//!   (`Reader` frames them, `to_telegram` checks the CRC, `State` holds the
//!   values, serde_json writes it).
//! - `han-peers dlms FILE`: HAN HDLC frames with `hdlcparse` (framing,
//!   HCS and FCS) and `dlms_cosem` (the data-notification APDU and its
//!   OBIS registers, `ObisMap`, serde_json writes it).
//!
//! JSON lines go to stdout; the last line on stderr says how many
//! frames were read and how many decoded. A frame a crate rejects (or
//! panics on) counts as not decoded. A benchmark harness built only by
//! scripts/bench.sh, never by the workspace.

use std::io::{BufWriter, Read, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(kind), Some(path)) = (args.next(), args.next()) else {
        eprintln!("usage: han-peers dsmr5|dlms FILE");
        std::process::exit(2);
    };
    // Read as a stream (as from a serial port), not whole: the memory
    // measured is the crate's, not the file's.
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("han-peers: {path}: {e}");
            std::process::exit(1);
        }
    };
    let mut input = Input { file, buf: vec![0; 1 << 16], start: 0, end: 0, eof: false };
    // A crate that panics on a frame rejects it: say nothing per frame.
    std::panic::set_hook(Box::new(|_| {}));
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let (read, decoded) = match kind.as_str() {
        "dsmr5" => dsmr5(&mut input, &mut out),
        "dlms" => dlms(&mut input, &mut out),
        _ => {
            eprintln!("han-peers: unknown kind {kind} (dsmr5 or dlms)");
            std::process::exit(2);
        }
    };
    if let Err(e) = out.flush() {
        eprintln!("han-peers: stdout: {e}");
        std::process::exit(1);
    }
    eprintln!("{kind}: {read} frames read, {decoded} decoded");
}

/// A file read in chunks: byte by byte for `dsmr5::Reader`, or as a
/// window of at least [`WINDOW`] bytes for the HDLC framing.
struct Input {
    file: std::fs::File,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
}

/// The most bytes an HDLC frame can take (an 11-bit length).
const WINDOW: usize = 2048 + 8;

impl Input {
    /// The bytes not consumed yet, at least [`WINDOW`] of them unless the
    /// file ends first.
    fn window(&mut self) -> &[u8] {
        if self.end - self.start < WINDOW && !self.eof {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            while self.end < self.buf.len() {
                match self.file.read(&mut self.buf[self.end..]) {
                    Ok(0) | Err(_) => {
                        self.eof = true;
                        break;
                    }
                    Ok(k) => self.end += k,
                }
            }
        }
        &self.buf[self.start..self.end]
    }

    fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
    }
}

impl Iterator for Input {
    type Item = Result<u8, ()>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.start == self.end && self.window().is_empty() {
            return None;
        }
        let b = *self.buf.get(self.start)?;
        self.start += 1;
        Some(Ok(b))
    }
}

/// Every telegram of `input` through `dsmr5`; (telegrams framed, decoded).
fn dsmr5(input: &mut Input, out: &mut impl Write) -> (usize, usize) {
    let reader = dsmr5::Reader::new(input);
    let (mut read, mut decoded) = (0, 0);
    for readout in reader {
        read += 1;
        let Ok(readout) = readout else { continue };
        let state = catch_unwind(AssertUnwindSafe(|| {
            let telegram = readout.to_telegram().ok()?;
            dsmr5::state::State::try_from(&telegram).ok()
        }));
        if let Ok(Some(state)) = state {
            if serde_json::to_writer(&mut *out, &state).is_ok() && out.write_all(b"\n").is_ok() {
                decoded += 1;
            }
        }
    }
    (read, decoded)
}

/// Every HDLC frame of `bytes` through `hdlcparse` and `dlms_cosem`;
/// (frames framed, decoded).
///
/// `dlms_cosem` turns a notification into OBIS registers (`ObisMap`, JSON
/// out) only when its body is a structure of (code, value, scaler-unit)
/// entries, the Austrian layout; for any other it gives the parsed APDU,
/// whose fields it keeps private: its `Debug` text is the line written.
/// Both count as decoded, which favours the crate.
fn dlms(input: &mut Input, out: &mut impl Write) -> (usize, usize) {
    use hdlcparse::type3::HdlcFrame;
    const FLAG: u8 = 0x7E;
    let (mut read, mut decoded, mut registers) = (0, 0, 0);
    loop {
        let rest = input.window();
        // The next opening flag.
        let Some(mut p) = rest.iter().position(|b| *b == FLAG) else {
            let n = rest.len();
            if n == 0 {
                break;
            }
            input.consume(n);
            continue;
        };
        // Two flags in a row: a closing flag and the next opening one.
        if rest.get(p + 1) == Some(&FLAG) {
            p += 1;
        }
        let rest = &rest[p..];
        match HdlcFrame::parse(rest) {
            Ok((after, frame)) => {
                read += 1;
                let ok = match apdu(frame.information) {
                    Some(Decoded::Registers(map)) => {
                        registers += 1;
                        serde_json::to_writer(&mut *out, &map).is_ok()
                    }
                    Some(Decoded::Apdu(apdu)) => write!(out, "{apdu:?}").is_ok(),
                    None => false,
                };
                if ok && out.write_all(b"\n").is_ok() {
                    decoded += 1;
                }
                let n = rest.len() - after.len();
                input.consume(p + n);
            }
            // The file ends inside a frame.
            Err(hdlcparse::Error::Incomplete(_)) if rest.len() < WINDOW => break,
            // Not a frame here: look for the next flag.
            Err(_) => input.consume(p + 1),
        }
    }
    eprintln!("dlms: {registers} of the decoded frames as OBIS registers");
    (read, decoded)
}

/// What `dlms_cosem` made of a frame.
enum Decoded {
    Registers(dlms_cosem::ObisMap),
    Apdu(dlms_cosem::Apdu),
}

/// An HDLC information field: an LLC header (`E6 E7 00`) and an
/// unencrypted data-notification APDU.
fn apdu(info: &[u8]) -> Option<Decoded> {
    let apdu = info.strip_prefix(&[0xE6, 0xE7, 0x00])?;
    // `Apdu::parse` panics on a tag it does not know: only a data
    // notification is given to it (an encrypted one needs the key).
    if apdu.first() != Some(&0x0F) {
        return None;
    }
    catch_unwind(|| {
        let (_, apdu) = dlms_cosem::Apdu::parse(apdu).ok()?;
        Some(match dlms_cosem::ObisMap::parse(&apdu) {
            Ok((_, map)) => Decoded::Registers(map),
            Err(_) => Decoded::Apdu(apdu),
        })
    })
    .ok()
    .flatten()
}
