//! han-sim: a smart electricity meter you can run without a meter. See `--help`.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use clap::Parser;
use han_sim::{Meter, Options, Simulator, parse_duration, parse_key, parse_profile};

/// Exit status for bad usage (clap uses it too).
const USAGE: u8 = 2;
/// The meter when none is named (the one scripts/demo.sh simulates), and what it is.
const DEFAULT_METER: (Meter, &str) = (Meter::KaifaNo, "Kaifa MA304H3E, Norway");

const EXAMPLES: &str = "\
Meters:
  aidon-no     Aidon 6534, Norway: list 1 every 2.5 s, list 2 every 10 s, list 3 at xx:00:10
  kaifa-no     Kaifa MA304H3E, Norway: list 1 every 2 s, list 2 every 10 s, list 3 at xx:00:10
  kamstrup-no  Kamstrup Omnipower, Norway: list 1 every 10 s, hourly list 2 at xx:00:05
  aidon-se     Aidon, Sweden (RJ12 HAN): a 27-item list every 10 s
  dsmr5        Iskra AM550, Netherlands DSMR 5.0.2 P1: a telegram every second, with gas
  dsmr4        Kaifa, Netherlands DSMR 4.2 P1: a telegram every 10 s, with gas
  fluvius      Fluvius e-MUCS 1.7.1, Belgium P1: every second, quarter-hour peaks, gas, water
  landisgyr-e360-ch  Landis+Gyr E360, Switzerland, VSE push every 5 s (bare values, U in 0.1 V)
  landisgyr-e450-ch  Landis+Gyr E450, Switzerland, VSE push every 5 s in GBT blocks (U in V)
  landisgyr-e570-ch  Landis+Gyr E570, Switzerland, VSE push every 5 s in GBT blocks (U in V)
  iskra-am550-ch     Iskraemeco AM550, Switzerland, VSE push every 5 s in HDLC segments
  acme-x3      Acme X3, a made-up meter no decoder knows: for han-read --meter-profile
               (docs/profiles.md)
Meter clocks run in Europe/Oslo (NO), Europe/Stockholm (SE), Europe/Amsterdam (NL),
Europe/Brussels (BE) and Europe/Zurich (CH) time, summer time included (Acme: Europe/Berlin).

Without --meter it simulates kaifa-no (and says so on stderr).

Examples:
  han-sim | han-read | head -3                            three readings of a Norwegian Kaifa
  han-sim --meter aidon-no --realtime | han-read          a live Norwegian meter
  han-sim --meter dsmr5 --count 5 --seed 1 | han-read     five telegrams, the same every time
  han-sim --meter kaifa-no --duration 7d --start 2025-01-06T00:00:00+01:00 -o week.bin
                                                          a week of frames, as fast as it goes
  han-sim --meter kamstrup-no --key 000102030405060708090A0B0C0D0E0F \\
          --auth-key D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF --count 100 > enc.bin
  han-sim --meter fluvius --profile watts.txt --duration 1d > day.txt

Exit status: 0 done (also when the reader closes the pipe), 1 output error, 2 bad usage.";

/// Writes the byte stream of a real smart meter (HAN or P1) with a simulated household's values.
///
/// Framing, list layout, checksums, cadence and clock copy captures of each meter; power follows a
/// household load (base load, morning and evening peaks, appliances, heating by season) or a
/// profile; the energy registers integrate it exactly over the meter's clock.
#[derive(Debug, Parser)]
#[command(name = "han-sim", version, after_help = EXAMPLES)]
struct Args {
    /// The meter to simulate (see the list below). Default: kaifa-no.
    #[arg(long, short = 'm', value_parser = parse_meter, value_name = "METER")]
    meter: Option<Meter>,
    /// Stop after this many frames / telegrams.
    #[arg(long, short = 'n', conflicts_with = "duration")]
    count: Option<u64>,
    /// Stop after this much meter time: 30s, 10m, 2h, 7d. Neither --count nor --duration: run forever.
    #[arg(long, value_parser = parse_duration)]
    duration: Option<Duration>,
    /// Send at the meter's own pace instead of as fast as possible.
    #[arg(long)]
    realtime: bool,
    /// When the meter clock starts (RFC 3339, e.g. 2025-01-15T06:00:00+01:00); default now.
    #[arg(long, value_parser = parse_start)]
    start: Option<DateTime<Utc>>,
    /// Seed for every random choice: the same seed and start give the same bytes. Default: from the clock.
    #[arg(long)]
    seed: Option<u64>,
    /// Encrypt with this AES-128 key (32 hex digits): HAN frames in general-glo-ciphering, P1 telegrams
    /// Smarty-style. Also $HAN_KEY.
    #[arg(long, env = "HAN_KEY", hide_env_values = true, value_parser = parse_key)]
    key: Option<[u8; 16]>,
    /// Authenticate with this key (32 hex digits): HAN gets security control 0x30 (else 0x20); P1 always
    /// authenticates, by default with the Smarty key 00112233445566778899AABBCCDDEEFF. Also $HAN_AUTH_KEY.
    #[arg(long, env = "HAN_AUTH_KEY", hide_env_values = true, value_parser = parse_key, requires = "key")]
    auth_key: Option<[u8; 16]>,
    /// Power from a file instead of the household model: one watts value per line, one line per
    /// minute, repeated; negative values are export.
    #[arg(long, value_name = "FILE")]
    profile: Option<PathBuf>,
    /// Write to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
}

fn parse_meter(s: &str) -> Result<Meter, String> {
    Meter::from_name(s).ok_or_else(|| {
        let names: Vec<_> = Meter::ALL.iter().map(|m| m.name()).collect();
        format!("unknown meter '{s}' (one of: {})", names.join(", "))
    })
}

fn parse_start(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.to_utc())
        .map_err(|e| format!("'{s}' is not an RFC 3339 time such as 2025-01-15T06:00:00+01:00 ({e})"))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let meter = args.meter.unwrap_or_else(|| {
        // One line, so that a bare `han-sim` does not leave the reader guessing what it sends.
        let (m, what) = DEFAULT_METER;
        eprintln!("han-sim: no --meter given: simulating {} ({what}); --help lists the others", m.name());
        m
    });
    let profile = match &args.profile {
        Some(path) => match std::fs::read_to_string(path).map_err(|e| e.to_string()).and_then(|t| parse_profile(&t)) {
            Ok(p) => Some(p),
            Err(e) => {
                eprintln!("han-sim: --profile {}: {e}", path.display());
                return ExitCode::from(USAGE);
            }
        },
        None => None,
    };
    let now = Utc::now();
    let start = args.start.unwrap_or(now);
    let seed = args.seed.unwrap_or_else(|| now.timestamp_nanos_opt().unwrap_or(0) as u64);
    let opts = Options { meter, start, seed, key: args.key, auth_key: args.auth_key, profile };
    let out: Box<dyn Write> = match &args.output {
        Some(path) => match std::fs::File::create(path) {
            Ok(f) => Box::new(f),
            Err(e) => {
                eprintln!("han-sim: cannot create {}: {e}", path.display());
                return ExitCode::from(1);
            }
        },
        None => Box::new(io::stdout().lock()),
    };
    match run(&args, opts, out) {
        Ok(()) => ExitCode::SUCCESS,
        // A closed stdout (`han-sim ... | head -c 100`) is the reader saying it is done.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("han-sim: write failed: {e}");
            ExitCode::from(1)
        }
    }
}

fn run(args: &Args, opts: Options, out: Box<dyn Write>) -> io::Result<()> {
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
