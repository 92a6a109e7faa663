//! The read loop: bytes from the input into the decoder, readings out as
//! JSON lines.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use han::profiles::MeterProfiles;
use han::{Config, Decoder, EventRef, Reading, Stats};

use han_common::shell::{self, is_closed_pipe};
use han_serial::live::Live;
use han_serial::serial::{OpenError, Probe, Verdict};

use crate::cli::Args;
use crate::input::Kind;
use crate::notes::Reporter;

/// Exit status when `--once` saw no reading before the input ended.
const NO_READING: u8 = 3;
/// Exit status when a file or stdin held bytes but not one reading.
const NOTHING_DECODED: u8 = 4;
/// Exit status for bad usage (as clap's own).
const USAGE: u8 = 2;

fn parse_key(name: &str, hex: &str) -> Result<[u8; 16]> {
    let hex: String = hex.chars().filter(|c| !c.is_whitespace() && *c != ':').collect();
    let hex = hex.strip_prefix("0x").unwrap_or(&hex);
    let mut k = [0u8; 16];
    if hex.len() != 32 {
        return Err(anyhow!("{name} must be 32 hex digits (16 bytes), got {} characters", hex.len()));
    }
    for (i, b) in k.iter_mut().enumerate() {
        let pair = hex.get(2 * i..2 * i + 2).unwrap_or("");
        *b = u8::from_str_radix(pair, 16).map_err(|_| anyhow!("{name}: {pair:?} is not a hex byte"))?;
    }
    Ok(k)
}

/// Settings from flags, the environment (through clap) and, for what neither
/// gives, the config file's `[han-read]` section.
fn config(args: &Args, file: &han_common::Config) -> Result<(Config, Option<String>)> {
    const SECTION: &str = "han-read";
    let tz = args.tz.clone().or(file.string(SECTION, "tz")?);
    let key = args.key.clone().or(file.string(SECTION, "key")?);
    let auth_key = args.auth_key.clone().or(file.string(SECTION, "auth_key")?);
    let input = args.input.clone().or(file.string(SECTION, "input")?);
    let tz = tz.as_deref().map(han_common::tz::parse).transpose().map_err(|e| anyhow!("--tz {e}"))?;
    let cfg = Config {
        framing: args.framing.into(),
        key: key.as_deref().map(|k| parse_key("--key", k)).transpose()?,
        auth_key: auth_key.as_deref().map(|k| parse_key("--auth-key", k)).transpose()?,
        tz,
        profiles: meter_profiles(args, file)?,
        ..Config::default()
    };
    Ok((cfg, input))
}

/// The user's meter profiles: the `--meter-profile` files, else the config
/// file's `meter_profiles` (relative to the config file's folder).
fn meter_profiles(args: &Args, file: &han_common::Config) -> Result<MeterProfiles> {
    let paths: Vec<(PathBuf, &str)> = if args.meter_profile.is_empty() {
        let dir = file.path().and_then(Path::parent).unwrap_or(Path::new(""));
        let listed = file.strings("han-read", "meter_profiles")?.unwrap_or_default();
        listed.iter().map(|p| (dir.join(p), "meter_profiles")).collect()
    } else {
        args.meter_profile.iter().map(|p| (p.clone(), "--meter-profile")).collect()
    };
    let mut all = MeterProfiles::default();
    for (path, whence) in paths {
        let text = std::fs::read_to_string(&path).with_context(|| format!("{whence} {}", path.display()))?;
        let p = MeterProfiles::parse(&text).map_err(|e| anyhow!("{whence} {}: {e}", path.display()))?;
        all.extend(&p);
    }
    Ok(all)
}

fn append(path: &std::path::Path, what: &str) -> Result<File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open {what} {}", path.display()))
}

/// Writes readings as JSON lines (or, with `--hexdump`/`--structure`, the
/// dumps the decoder's observer collected).
struct Output {
    out: Pending,
    once: bool,
    readings: u64,
    pace: Option<Pace>,
    dumps: Option<Arc<Mutex<Vec<String>>>>,
}

/// stdout with a buffer that lines are written into directly.
struct Pending {
    buf: Vec<u8>,
    stdout: io::Stdout,
}

impl Pending {
    /// Bytes gathered before they must go out. Lines also leave at the
    /// end of every input chunk, so this bounds only a file's writes: at
    /// 64 KB the kernel's time per write was a third of a HAN replay's CPU
    /// time, at the ~270 KB of a chunk's lines a fifth (docs/performance.md).
    const LIMIT: usize = 1024 * 1024;
}

impl Write for Pending {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            let mut out = self.stdout.lock();
            out.write_all(&self.buf)?;
            out.flush()?;
            self.buf.clear();
        }
        Ok(())
    }
}

/// `--realtime`: readings leave at the pace of the meter's clock.
struct Pace {
    start: Instant,
    first: Option<chrono::NaiveDateTime>,
}

impl Output {
    /// Writes what the observer collected so far.
    fn dumps(&mut self) -> Result<()> {
        let Some(d) = &self.dumps else { return Ok(()) };
        let taken = d.lock().map(|mut v| std::mem::take(&mut *v)).unwrap_or_default();
        for s in taken {
            self.out.write_all(s.as_bytes())?;
        }
        Ok(())
    }

    fn reading(&mut self, r: &Reading, received: chrono::DateTime<chrono::Utc>) -> Result<()> {
        if self.dumps.is_some() {
            self.dumps()?;
            let t = r.meter_time.map(|t| t.to_string()).unwrap_or_else(|| "no meter clock".into());
            writeln!(self.out, "=> reading: {} objects, {t}\n", r.obis.len())?;
            self.readings += 1;
            return Ok(());
        }
        if let Some(p) = &mut self.pace {
            match (r.meter_time, p.first) {
                (Some(t), Some(first)) => {
                    let due = (t.local - first).to_std().unwrap_or_default();
                    if let Some(wait) = due.checked_sub(p.start.elapsed()) {
                        self.out.flush()?;
                        std::thread::sleep(wait.min(Duration::from_secs(3600)));
                    }
                }
                (Some(t), None) => p.first = Some(t.local),
                // No meter clock: one reading a second, as DSMR 5 sends.
                (None, _) => {
                    self.out.flush()?;
                    std::thread::sleep(Duration::from_secs(1));
                }
            }
        }
        // A paced replay stamps each reading when it leaves.
        let received = if self.pace.is_some() { chrono::Utc::now() } else { received };
        // Lines are built right in the output buffer: no copy per line.
        r.write_json_line_received(Some(&received), &mut self.out.buf);
        if self.out.buf.len() >= Pending::LIMIT {
            self.out.flush()?;
        }
        self.readings += 1;
        if self.once {
            self.out.flush()?;
        }
        Ok(())
    }

    /// Lines leave once per input chunk: within the same read for a live
    /// link, in large writes for a file.
    fn flush(&mut self) -> Result<()> {
        self.out.flush().context("cannot write to stdout")
    }
}

/// Drains the decoder; `true` when `--once` is satisfied. The counters are
/// published before the readings leave, so a SIGUSR1 sent after a reading
/// was seen counts it.
fn drain(dec: &mut Decoder, out: &mut Output, rep: &mut Reporter, shared: &Mutex<Stats>) -> Result<bool> {
    // The readings of one chunk of input arrived together.
    let received = chrono::Utc::now();
    // Readings are lent: nothing is copied out of the decoder.
    while let Some(ev) = dec.next_event_ref() {
        if out.dumps.is_some() {
            if let EventRef::Rejected { error, bytes } = &ev {
                out.dumps()?;
                let framing = match bytes.first() {
                    Some(0x68) => han::Framing::Mbus,
                    Some(b'/') => han::Framing::Dsmr,
                    Some(0x7E) => han::Framing::Hdlc,
                    _ => han::Framing::Apdu,
                };
                writeln!(out.out, "=> REJECTED ({}): {error}", error.kind())?;
                out.out.write_all(crate::dump::frame(framing, bytes).as_bytes())?;
                writeln!(out.out)?;
                continue;
            }
        }
        match ev {
            EventRef::Reading(r) => {
                out.reading(r, received)?;
                if out.once {
                    warnings(dec, rep);
                    publish(shared, dec);
                    return Ok(true);
                }
            }
            EventRef::Rejected { error, bytes } => rep.rejected(&error, &bytes),
        }
        warnings(dec, rep);
    }
    warnings(dec, rep);
    publish(shared, dec);
    out.dumps()?;
    out.flush()?;
    Ok(false)
}

/// What the decoder said about the readings it gave, on stderr.
fn warnings(dec: &mut Decoder, rep: &mut Reporter) {
    while let Some(w) = dec.next_warning() {
        rep.warning(&w);
    }
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let file = match han_common::Config::load(args.config.as_deref()) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("han-read: {e}");
            return Ok(ExitCode::from(USAGE));
        }
    };
    for w in file.warnings("han-read", &["tz", "key", "auth_key", "input", "meter_profiles"]) {
        eprintln!("han-read: warning: {w}");
    }
    let (cfg, input) = match config(args, &file) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("han-read: {e:#}");
            return Ok(ExitCode::from(USAGE));
        }
    };
    let kind = Kind::of(input.as_deref());
    let settings = match args.serial.settings() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("han-read: {e:#}");
            return Ok(ExitCode::from(USAGE));
        }
    };
    let mut rep = Reporter::new(args.quiet, args.bad_frames.as_deref())?;
    let mut raw = args.raw_log.as_deref().map(|p| append(p, "--raw-log file")).transpose()?;
    if args.anonymise {
        return match crate::anonymise::run(cfg, &kind, settings, &mut rep, &mut raw) {
            Err(e) if is_closed_pipe(&e) => Ok(ExitCode::SUCCESS),
            Err(e) => {
                eprintln!("han-read: {e:#}");
                Ok(ExitCode::from(1))
            }
            ok => ok,
        };
    }
    let pace = (args.realtime && !kind.is_live()).then(|| Pace { start: Instant::now(), first: None });
    let dumps = (args.hexdump || args.structure).then(|| Arc::new(Mutex::new(Vec::new())));
    let mut out = Output {
        out: Pending { buf: Vec::with_capacity(Pending::LIMIT + 8192), stdout: io::stdout() },
        once: args.once,
        readings: 0,
        pace,
        dumps: dumps.clone(),
    };
    let shared = Arc::new(Mutex::new(Stats::default()));
    // A file never blocks: its loop looks at a flag between chunks, and no
    // thread is started (qemu-user on some hosts cannot start one, and the
    // cross-built binary is smoke-run there on a file).
    let flag = match &kind {
        Kind::File(_) => counters_flag(),
        _ => {
            counters_on_signal(Arc::clone(&shared));
            None
        }
    };

    let make_decoder = || {
        let mut d = Decoder::new(cfg.clone());
        if let Some(sink) = &dumps {
            let (sink, structure) = (Arc::clone(sink), args.structure);
            let mut drafts = crate::dump::Drafts::new(cfg.profiles.clone());
            d.observe(Box::new(move |seen| {
                let text = if structure { crate::dump::structure(seen) } else { crate::dump::hexdump(seen) };
                // A list no profile describes: a draft profile, once per layout.
                let draft = match seen {
                    han::Seen::Apdu(apdu) => drafts.of(apdu),
                    han::Seen::Frame { .. } => None,
                };
                if let Ok(mut v) = sink.lock() {
                    v.extend(text.into_iter().chain(draft));
                }
            }));
        }
        d
    };
    let mut dec = make_decoder();
    let mut buf = vec![0u8; 64 * 1024];
    let mut done = false;
    // Bytes taken from the input: none, and there is nothing to count.
    let mut total: u64 = 0;
    // The input's first bytes, for the dumps of an input without a frame.
    let mut head: Vec<u8> = Vec::new();
    let name = match &kind {
        Kind::Stdin => "stdin",
        Kind::File(p) | Kind::Serial(p) | Kind::Tcp(p) => p.as_str(),
    };
    let result = (|| -> Result<()> {
        match &kind {
            Kind::Stdin | Kind::File(_) => {
                let mut src = open_reader(&kind)?;
                loop {
                    let n = read_some(&mut src, &mut buf, name)?;
                    total += n as u64;
                    let chunk = buf.get(..n).unwrap_or(&[]);
                    if dumps.is_some() && head.len() < crate::dump::HEAD {
                        head.extend(chunk.iter().take(crate::dump::HEAD - head.len()));
                    }
                    if n == 0 {
                        dec.finish();
                    } else {
                        log_raw(&mut raw, chunk, &mut rep);
                        dec.push(chunk);
                    }
                    done = drain(&mut dec, &mut out, &mut rep, &shared)?;
                    if flag.as_ref().is_some_and(|f| f.swap(false, std::sync::atomic::Ordering::Relaxed)) {
                        Reporter::counters(dec.stats());
                    }
                    if done || n == 0 {
                        return Ok(());
                    }
                }
            }
            Kind::Serial(_) | Kind::Tcp(_) => {
                let auto = matches!(kind, Kind::Serial(_)) && settings.is_none();
                let mut probe = auto.then(|| Probe::new(Instant::now()));
                let mut live = Live::new(kind.link().context("a live link")?, settings);
                // A device that is no serial port stays one: stop here rather than retry for
                // ever. Any other failure (unplugged, busy) is retried by `live.read`.
                if let Err(e @ OpenError::NotSerial(_)) = live.open_now(&mut rep) {
                    return Err(e.into());
                }
                if let Some(p) = &probe {
                    rep.note(&format!("trying {} (--baud auto)", p.current()));
                }
                loop {
                    let n = live.read(&mut buf, &mut rep);
                    total += n as u64;
                    let chunk = buf.get(..n).unwrap_or(&[]);
                    log_raw(&mut raw, chunk, &mut rep);
                    dec.push(chunk);
                    done = drain(&mut dec, &mut out, &mut rep, &shared)?;
                    if done {
                        return Ok(());
                    }
                    if probe_step(&mut probe, dec.stats().readings, &mut live, &mut rep) {
                        dec = make_decoder();
                    }
                }
            }
        }
    })();
    // Errors first, then the counters (when anything was read), then the hint.
    if let Err(e) = result {
        if is_closed_pipe(&e) {
            Reporter::counters(dec.stats());
            // main: the reader is done, status 0.
            return Err(e);
        }
        eprintln!("han-read: {e:#}");
        if total > 0 {
            Reporter::counters(dec.stats());
        }
        return Ok(ExitCode::from(1));
    }
    if total == 0 {
        rep.note(&format!("{name} was empty: no reading"));
    } else {
        Reporter::counters(dec.stats());
    }
    let s = dec.stats();
    let frames = s.readings + s.bad_checksum + s.unparsed + s.rejected_other + s.empty_frames;
    if dumps.is_some() && total > 0 && frames == 0 && !kind.is_live() {
        let shown = out.out.write_all(crate::dump::no_frame(&head, total, s.skipped_bytes).as_bytes());
        if let Err(e) = shown.and_then(|()| out.out.flush()) {
            // A reader gone already is done; anything else is an output failure.
            if e.kind() == io::ErrorKind::BrokenPipe {
                return Ok(ExitCode::SUCCESS);
            }
            eprintln!("han-read: cannot write to stdout: {e}");
            return Ok(ExitCode::from(1));
        }
    }
    if args.once && !done {
        eprintln!("han-read: the input ended without a reading");
    }
    // Bytes but not one reading: say what they were, last. The dumps of
    // --hexdump and --structure already show it.
    let nothing = total > 0 && dec.stats().readings == 0 && dumps.is_none();
    if nothing {
        let look = match &kind {
            Kind::File(p) => format!("`han-read --hexdump {p}`"),
            _ => "`han-read --hexdump` on the same input".to_owned(),
        };
        let look =
            if frames == 0 { format!("{look} shows its first bytes") } else { format!("{look} shows the frames") };
        rep.no_reading(name, &look, total, dec.stats());
    }
    Ok(ExitCode::from(match () {
        () if args.once && !done => NO_READING,
        () if nothing => NOTHING_DECODED,
        () => 0,
    }))
}

/// Opens a capture file; a directory is said to be one (its open succeeds,
/// and only the first read would fail, without the path).
pub(crate) fn open_file(p: &str) -> Result<File> {
    if std::fs::metadata(p).is_ok_and(|m| m.is_dir()) {
        anyhow::bail!("{p} is a directory, not a capture file");
    }
    File::open(p).with_context(|| format!("cannot open {p}"))
}

/// A file input opened (see [`open_file`]), else standard input.
pub(crate) fn open_reader(kind: &Kind) -> Result<Box<dyn Read>> {
    Ok(match kind {
        Kind::File(p) => Box::new(open_file(p)?),
        _ => Box::new(io::stdin().lock()),
    })
}

/// The next bytes of a file or stdin into `buf` (0 at its end), read again
/// when a signal interrupted the read.
pub(crate) fn read_some(src: &mut dyn Read, buf: &mut [u8], name: &str) -> Result<usize> {
    loop {
        match src.read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e).with_context(|| format!("cannot read {name}")),
        }
    }
}

/// Lets the `--baud auto` probe judge the link after a read, `sound` being the
/// frames decoded so far: notes what it finds, and when it moves on sets the
/// next line settings on `live` and returns true, so that the caller starts a
/// fresh decoder (what came at the old settings is noise).
pub(crate) fn probe_step(probe: &mut Option<Probe>, sound: u64, live: &mut Live, rep: &mut Reporter) -> bool {
    let Some(p) = probe else { return false };
    match p.step(sound, Instant::now()) {
        Verdict::Listen => false,
        Verdict::Found(s) => {
            rep.note(&format!("line settings {s} give valid frames; keeping them"));
            *probe = None;
            false
        }
        Verdict::Next { failed, next } => {
            rep.note(&format!("no valid frame at {failed}; trying {next}"));
            live.set_settings(next);
            true
        }
    }
}

pub(crate) fn log_raw(raw: &mut Option<File>, chunk: &[u8], rep: &mut Reporter) {
    if let Some(f) = raw {
        if let Err(e) = f.write_all(chunk) {
            // A full disk stops the capture, not the readings.
            rep.warn(&format!("--raw-log: {e}; no longer logging raw bytes"));
            *raw = None;
        }
    }
}

fn publish(shared: &Mutex<Stats>, dec: &Decoder) {
    if let Ok(mut s) = shared.lock() {
        s.clone_from(dec.stats());
    }
}

/// SIGUSR1 raises a flag that a loop that never blocks looks at.
fn counters_flag() -> Option<Arc<std::sync::atomic::AtomicBool>> {
    shell::flag(&[shell::SIGUSR1]).ok()
}

/// SIGUSR1 prints the counters, without stopping anything.
fn counters_on_signal(shared: Arc<Mutex<Stats>>) {
    let Ok(mut signals) = shell::Signals::new([shell::SIGUSR1]) else { return };
    std::thread::spawn(move || {
        for _ in signals.forever() {
            if let Ok(s) = shared.lock() {
                Reporter::counters(&s);
            }
        }
    });
}
