//! A run: the options from the flags, then frames written until the count
//! or the duration is reached, or for ever.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use chrono::Utc;
use han_common::Usage;
use han_simulator::{Meter, Options, Simulator};

use crate::cli::{Args, parse_profile};

/// The meter when none is named (the one scripts/demo.sh simulates), and what it is.
const DEFAULT_METER: (Meter, &str) = (Meter::KaifaNo, "Kaifa MA304H3E, Norway");

/// Simulates what the flags say; the exit status.
pub fn run(args: &Args) -> Result<u8> {
    let meter = args.meter.unwrap_or_else(|| {
        // One line, so that a bare `han-sim` does not leave the reader guessing what it sends.
        let (m, what) = DEFAULT_METER;
        eprintln!("han-sim: no --meter given: simulating {} ({what}); --help lists the others", m.name());
        m
    });
    let profile = match &args.profile {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| e.to_string())
                .and_then(|t| parse_profile(&t))
                .map_err(|e| Usage(format!("--profile {}: {e}", path.display())))?,
        ),
        None => None,
    };
    let now = Utc::now();
    let start = args.start.unwrap_or(now);
    let seed = args.seed.unwrap_or_else(|| now.timestamp_nanos_opt().unwrap_or(0) as u64);
    let opts = Options { meter, start, seed, key: args.key, auth_key: args.auth_key, profile };
    let out: Box<dyn Write> = match &args.output {
        Some(path) => {
            Box::new(std::fs::File::create(path).map_err(|e| anyhow!("cannot create {}: {e}", path.display()))?)
        }
        None => Box::new(io::stdout().lock()),
    };
    // A closed stdout (`han-sim ... | head -c 100`) is done: the shell's to say.
    write(args, opts, out).context("write failed")?;
    Ok(0)
}

fn write(args: &Args, opts: Options, out: Box<dyn Write>) -> io::Result<()> {
    let start_ms = opts.start.timestamp_millis();
    let end_ms = args.duration.map(|d| start_ms.saturating_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)));
    let mut sim = Simulator::new(opts);
    let mut out = io::BufWriter::with_capacity(if args.realtime { 4096 } else { 1 << 16 }, out);
    let began = Instant::now();
    loop {
        if args.count.is_some_and(|n| sim.frames() >= n) {
            break;
        }
        let due = sim.next_time_ms();
        if end_ms.is_some_and(|end| due >= end) {
            break;
        }
        if args.realtime {
            let at = began + Duration::from_millis(u64::try_from(due - start_ms).unwrap_or(0));
            let now = Instant::now();
            if at > now {
                // Nothing is sent while waiting: push out what is buffered first.
                out.flush()?;
                std::thread::sleep(at - now);
            }
        }
        let frame = sim.next_frame();
        out.write_all(&frame.bytes)?;
        if args.realtime {
            out.flush()?;
        }
    }
    out.flush()
}
