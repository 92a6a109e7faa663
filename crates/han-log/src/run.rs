//! The loop: stdin lines in, day files (and the live page's data) out.

use std::io;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use chrono::{NaiveDate, Utc};
use han_common::Usage;
use han_common::line::Line;
use han_common::logs::date_of;
use han_common::shell;
use han_common::tz::Tz;

use crate::cli::{Args, Clock};
use crate::compress::{self, Done};
use crate::csv;
use crate::input::{self, Batch, Checking, Input, Item, Sample};
use crate::notes::Reporter;
use crate::page::{self, Live};
use crate::store::{self, Busy, Files};
use han_common::days::Days;

/// Exit status: the input ended but some readings could not be stored.
pub const NOT_ALL_STORED: u8 = 3;

/// How often the loop looks at the clock when no input comes.
const TICK: Duration = Duration::from_millis(200);
/// A file nothing was written to for this long is closed.
const IDLE: Duration = Duration::from_secs(120);
/// How long readings still waiting at the end of input are retried.
const LAST_TRY: Duration = Duration::from_secs(10);
/// How often old days are looked for while running (and when the date changes).
const COMPRESS_EVERY: Duration = Duration::from_secs(3600);

/// Settings from flags, else the config file's `[han-log]`, else defaults.
#[derive(Debug)]
struct Settings {
    dir: PathBuf,
    www: Option<PathBuf>,
    tz: Tz,
    tz_from: &'static str,
    clock: Clock,
    csv: bool,
    sync_every: Duration,
    compress_after: Option<u32>,
    max_buffer: usize,
}

fn settings(args: &Args) -> Result<Settings> {
    const S: &str = "han-log";
    let file = han_common::Config::load(args.config.as_deref()).map_err(|e| Usage(e.to_string()))?;
    let known = ["dir", "www", "tz", "clock", "csv", "sync_every", "compress_after", "max_buffer"];
    for w in file.warnings(S, &known) {
        eprintln!("han-log: warning: {w}");
    }
    let usage = |e: han_common::ConfigError| anyhow!(Usage(e.to_string()));
    let (tz, tz_from) = match args.tz.clone().or(file.string(S, "tz").map_err(usage)?) {
        Some(z) => (han_common::tz::parse(&z).map_err(|e| Usage(format!("--tz: {e}")))?, "--tz"),
        None => han_common::tz::system(),
    };
    let clock = match file.string(S, "clock").map_err(usage)?.as_deref() {
        _ if args.clock != Clock::Meter => args.clock,
        None | Some("meter") => Clock::Meter,
        Some("received") => Clock::Received,
        Some(other) => return Err(Usage(format!("config [han-log] clock = {other:?}: meter or received")).into()),
    };
    let sync_every = match (args.sync_every, file.string(S, "sync_every").map_err(usage)?) {
        (Some(d), _) => d,
        (None, Some(s)) => han_common::duration::parse(&s).map_err(|e| Usage(format!("config sync_every: {e}")))?,
        (None, None) => Duration::from_secs(5),
    };
    if sync_every.is_zero() {
        return Err(Usage("--sync-every must be more than 0".into()).into());
    }
    let compress_after = match args.compress_after {
        Some(n) => Some(n),
        None => file
            .integer(S, "compress_after")
            .map_err(usage)?
            .map(|n| u32::try_from(n).map_err(|_| Usage(format!("config compress_after = {n}: 0 or more days"))))
            .transpose()?,
    };
    let mib = match args.max_buffer {
        Some(n) => u64::from(n),
        None => match file.integer(S, "max_buffer").map_err(usage)? {
            None => 32,
            Some(n) => u64::try_from(n)
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| Usage(format!("config max_buffer = {n}: 1 or more MiB")))?,
        },
    };
    Ok(Settings {
        dir: args
            .dir
            .clone()
            .or(file.string(S, "dir").map_err(usage)?.map(PathBuf::from))
            .unwrap_or(han_common::paths::LOG_DIR.into()),
        www: args.www.clone().or(file.string(S, "www").map_err(usage)?.map(PathBuf::from)),
        tz,
        tz_from,
        clock,
        csv: args.csv || file.boolean(S, "csv").map_err(usage)?.unwrap_or(false),
        sync_every,
        compress_after,
        max_buffer: usize::try_from(mib.saturating_mul(1 << 20)).unwrap_or(usize::MAX),
    })
}

/// Everything the loop keeps.
struct Logger {
    s: Settings,
    logs: Files,
    csv: Option<Files>,
    live: Option<Live>,
    report: Reporter,
    busy: Arc<Mutex<Busy>>,
    readings: u64,
}

impl Logger {
    /// Takes a checked batch of input lines.
    fn take(&mut self, batch: &Batch) {
        for item in &batch.items {
            match item {
                Item::Bad { line, error } => {
                    self.report.not_a_reading(batch.bytes.get(line.clone()).unwrap_or_default(), error)
                }
                Item::Reading { line, stamp, sample, csv } => {
                    let raw = batch.bytes.get(line.clone()).unwrap_or_default();
                    self.readings += 1;
                    self.logs.push(stamp.date, raw);
                    if let Some(c) = &mut self.csv {
                        c.push(stamp.date, batch.csv.get(csv.clone()).unwrap_or_default());
                    }
                    if let (Some(l), Some(sample)) = (&mut self.live, sample) {
                        l.add(raw, sample, *stamp);
                    }
                }
            }
        }
    }

    /// Writes what waits, saying when storing starts or stops failing.
    fn write(&mut self) {
        let result = self.logs.write();
        let csv = self.csv.as_mut().map_or(Ok(()), Files::write);
        self.report.store(result.and(csv), &self.logs, self.s.max_buffer);
        if let Some(l) = &mut self.live {
            if let Some(msg) = l.write(false) {
                eprintln!("han-log: {msg}");
            }
        }
    }

    fn sync(&mut self, verbose: bool) {
        let result = self.logs.sync();
        let csv = self.csv.as_mut().map_or(Ok(()), Files::sync);
        if let Err(f) = result.and(csv) {
            eprintln!("han-log: cannot sync {}: {}", f.path.display(), f.message);
        } else if verbose {
            eprintln!("han-log: synced: {} readings stored", self.logs.synced);
        }
        self.logs.close_idle(IDLE);
        if let Some(c) = &mut self.csv {
            c.close_idle(IDLE);
        }
    }

    fn waiting(&self) -> u64 {
        self.logs.waiting_lines()
    }

    fn counters(&self) {
        eprintln!(
            "han-log: {} readings, {} stored ({} synced) in {}, {} waiting, {} lost (memory bound), {} lines not readings",
            self.readings,
            self.logs.stored,
            self.logs.synced,
            self.s.dir.display(),
            self.waiting(),
            self.logs.lost,
            self.report.rejected,
        );
    }
}

/// Runs han-log; returns the exit status.
pub fn run(args: &Args) -> Result<u8> {
    // First of all: a SIGUSR1 (`pkill -USR1 han-log`) during start-up must
    // not kill it (the default action), nor a SIGTERM lose what was read.
    let term = shell::stop_flag()?;
    let usr1 = shell::flag(&[shell::SIGUSR1]).context("cannot set up SIGUSR1")?;
    let s = settings(args)?;
    let busy = Arc::new(Mutex::new(Busy::default()));
    let logs = Files::new(&s.dir, "jsonl", None, s.max_buffer, Arc::clone(&busy));
    let csv = s.csv.then(|| Files::new(&s.dir, "csv", Some(csv::header()), s.max_buffer, Arc::clone(&busy)));
    eprintln!(
        "han-log: storing in {} by local day in {} ({}), {} clock, synced every {:?}",
        s.dir.display(),
        s.tz.name(),
        s.tz_from,
        match s.clock {
            Clock::Meter => "meter",
            Clock::Received => "receive",
        },
        s.sync_every
    );
    // Before anything touches the day files: one han-log per directory.
    let _lock = crate::lock::take(&s.dir)?;
    repair_newest(&s.dir);
    let live = match &s.www {
        Some(www) => {
            let wrote =
                page::install_page(www).with_context(|| format!("cannot set up the web folder {}", www.display()));
            match wrote {
                Ok(files) if !files.is_empty() => eprintln!("han-log: wrote the live page into {}", www.display()),
                Ok(_) => {}
                Err(e) => eprintln!("han-log: {e:#} (will keep trying to write its data)"),
            }
            let mut l = Live::new(www, s.tz);
            rebuild_today(&mut l, &s);
            Some(l)
        }
        None => None,
    };
    let how = Checking { tz: s.tz, clock: s.clock, csv: csv.is_some(), live: live.is_some() };
    let mut g = Logger { logs, csv, live, report: Reporter::default(), busy, readings: 0, s };

    let (tx, rx) = mpsc::sync_channel(2);
    let (spare_tx, spare_rx) = mpsc::channel();
    std::thread::spawn(move || input::run(io::stdin().lock(), how, tx, spare_rx));

    let mut input_failed = None;
    let mut last_sync = Instant::now();
    let mut compressor: Option<JoinHandle<()>> = None;
    let mut compressed: Option<(NaiveDate, Instant)> = None;
    loop {
        match rx.recv_timeout(TICK) {
            Ok(Input::Batch(batch)) => {
                g.take(&batch);
                spare_tx.send(batch).ok();
            }
            Ok(Input::End) | Err(RecvTimeoutError::Disconnected) => break,
            Ok(Input::Failed(e)) => {
                input_failed = Some(e);
                break;
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
        g.write();
        if last_sync.elapsed() >= g.s.sync_every {
            g.sync(args.verbose);
            last_sync = Instant::now();
        }
        if let Some(n) = g.s.compress_after {
            let today = local_today(g.s.tz);
            let due = compressed.is_none_or(|(day, at)| day != today || at.elapsed() >= COMPRESS_EVERY);
            if due && compressor.as_ref().is_none_or(JoinHandle::is_finished) {
                compressed = Some((today, Instant::now()));
                compressor = Some(spawn_compressor(&g.s.dir, today, n, &g.busy));
            }
        }
        if usr1.swap(false, Ordering::Relaxed) {
            g.counters();
        }
        if term.load(Ordering::Relaxed) {
            eprintln!("han-log: stopping (signal)");
            break;
        }
    }

    // The end: everything out.
    let deadline = Instant::now() + LAST_TRY;
    loop {
        g.write();
        if g.waiting() == 0 || Instant::now() >= deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    g.sync(args.verbose);
    if let Some(l) = &mut g.live {
        if let Some(msg) = l.write(true) {
            eprintln!("han-log: {msg}");
        }
    }
    if let Some(c) = compressor {
        c.join().ok();
    }
    // The files are closed now: a day that got late readings is compressed too.
    g.logs.close_idle(Duration::ZERO);
    if let Some(c) = &mut g.csv {
        c.close_idle(Duration::ZERO);
    }
    if let Some(n) = g.s.compress_after {
        spawn_compressor(&g.s.dir, local_today(g.s.tz), n, &g.busy).join().ok();
    }
    g.counters();
    if let Some(e) = input_failed {
        return Err(anyhow!(e).context("cannot read the input"));
    }
    let unstored = g.waiting() + g.logs.lost;
    if unstored > 0 {
        eprintln!("han-log: {unstored} readings could not be stored");
        return Ok(NOT_ALL_STORED);
    }
    Ok(0)
}

/// Today's date in `tz`, by the system clock.
fn local_today(tz: Tz) -> NaiveDate {
    Utc::now().with_timezone(&tz).date_naive()
}

/// Cuts the tails a crash may have torn in the newest day files, at start.
fn repair_newest(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut plain: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            // Day files only: nothing else in the folder is cut.
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            date_of(name, ".jsonl").or_else(|| date_of(name, ".csv")).is_some()
        })
        .collect();
    plain.sort();
    for path in plain.iter().rev().take(4) {
        let Ok(mut f) = std::fs::OpenOptions::new().read(true).append(true).open(path) else { continue };
        match store::repair_tail(&mut f, path) {
            Ok(Some(cut)) => store::say_cut(path, cut),
            Ok(None) => {}
            Err(e) => eprintln!("han-log: {}: cannot check its last line: {e}", path.display()),
        }
    }
}

/// Today's chart and energy and the last registers survive a restart:
/// today's log read back; yesterday's too when today's has no registers
/// yet (just after midnight, or han-log was stopped since yesterday).
fn rebuild_today(live: &mut Live, s: &Settings) {
    let now = Utc::now();
    let today = local_today(s.tz);
    let mut days = Days::new(s.tz, s.clock.into());
    let read = han_common::logs::for_each_line(&s.dir, Some(today), Some(today), |_, raw| {
        if let Ok(line) = Line::scan(raw, true) {
            let stamp = days.stamp(&line, now);
            live.replay(&Sample::of(&line), stamp);
        }
        true
    });
    let read = read.and_then(|_| match today.pred_opt() {
        Some(yesterday) if !live.has_registers() => {
            han_common::logs::for_each_line(&s.dir, Some(yesterday), Some(yesterday), |_, raw| {
                if let Ok(line) = Line::scan(raw, true) {
                    live.keep_registers(&Sample::of(&line));
                }
                true
            })
            .map(drop)
        }
        _ => Ok(()),
    });
    if let Err(e) = read {
        if e.kind() != io::ErrorKind::NotFound {
            eprintln!("han-log: cannot read today's log back for the live page: {e}");
        }
    }
}

fn spawn_compressor(dir: &std::path::Path, today: NaiveDate, after: u32, busy: &Arc<Mutex<Busy>>) -> JoinHandle<()> {
    let (dir, busy) = (dir.to_owned(), Arc::clone(busy));
    let before = today - chrono::Duration::days(i64::from(after));
    std::thread::spawn(move || match compress::compress_old(&dir, before, &busy) {
        Ok(done) => {
            for d in done {
                match d {
                    Done::Compressed(p) => eprintln!("han-log: compressed {}", p.display()),
                    Done::Finished(p) => eprintln!(
                        "han-log: {} already held its day's plain file (a compression was stopped): removed the plain file",
                        p.display()
                    ),
                    Done::Failed(p, e) => eprintln!("han-log: cannot compress {}: {e}", p.display()),
                }
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => eprintln!("han-log: cannot look for days to compress in {}: {e}", dir.display()),
    })
}
