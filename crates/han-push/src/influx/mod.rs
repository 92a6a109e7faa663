//! `han-push influx`: the readings as points in InfluxDB (1.x database or
//! 2.x bucket), in batches of `--batch` points or every `--flush-every`.
//! While the server is away (no connection, 5xx, 429) the points wait in a
//! bounded buffer and the batch is tried again after 1 s, 2 s ... up to
//! 60 s; stdin is read all along, and what the buffer cannot hold is dropped
//! oldest first, counted and said. A batch the server refuses as bad data
//! (400) is dropped and counted; refused credentials or a missing database
//! stop han-push (exit 1).

mod points;
mod send;

use std::sync::atomic::Ordering;
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use han_common::{Config, Usage};

use crate::cli::InfluxArgs;
use crate::queue::Queue;
use crate::run::{self, NOT_ALL_DELIVERED};
use crate::secrets::{self, INFLUX};
use crate::stream::Input;
use send::{Outcome, Target};

/// The keys of `[han-push.influx]`.
pub const CONFIG_KEYS: &[&str] = &[
    "url",
    "db",
    "org",
    "bucket",
    "user",
    "password",
    "token",
    "measurement",
    "batch",
    "flush_every",
    "buffer",
    "timeout",
    "last_try",
];

/// The first wait after a failed write; it doubles up to [`MAX_DELAY`].
const FIRST_DELAY: Duration = Duration::from_secs(1);
const MAX_DELAY: Duration = Duration::from_secs(60);
/// How often the loop looks at the signal flag while nothing comes.
const TICK: Duration = Duration::from_millis(200);
/// How often a failing server, and the points dropped, are said again.
const SAY_EVERY: Duration = Duration::from_secs(60);

/// The settings: flags, else `[han-push.influx]`, else defaults.
#[derive(Debug)]
struct Settings {
    target: Target,
    measurement: String,
    batch: usize,
    flush_every: Duration,
    buffer: usize,
    timeout: Duration,
    last_try: Duration,
}

fn settings(a: &InfluxArgs, c: &Config) -> Result<Settings, Usage> {
    let s = INFLUX;
    let url = run::string(a.url.as_ref(), c, s, "url")?
        .ok_or_else(|| Usage("which server? --url http://HOST:8086 (or url in [han-push.influx])".into()))?;
    let url = crate::http::base_url(&url, "--url")?;
    let db = run::string(a.db.as_ref(), c, s, "db")?;
    let org = run::string(a.org.as_ref(), c, s, "org")?;
    let bucket = run::string(a.bucket.as_ref(), c, s, "bucket")?;
    let user = run::string(a.user.as_ref(), c, s, "user")?;
    let target = match (db, org, bucket) {
        (Some(db), None, None) => {
            let login = secrets::login(c, s, user, "HAN_PUSH_INFLUX_PASSWORD")?;
            Target::V1 { url, db, login }
        }
        (None, Some(org), Some(bucket)) => {
            let token = secrets::secret(c, s, "token", "HAN_PUSH_INFLUX_TOKEN")?.ok_or_else(|| {
                Usage("InfluxDB 2.x needs a token: $HAN_PUSH_INFLUX_TOKEN or token in [han-push.influx]".into())
            })?;
            Target::V2 { url, org, bucket, token }
        }
        (None, None, None) => {
            return Err(Usage("where to? --db NAME (InfluxDB 1.x) or --org and --bucket (2.x)".into()));
        }
        (Some(_), _, _) => return Err(Usage("--db (InfluxDB 1.x) or --org and --bucket (2.x), not both".into())),
        (None, _, _) => return Err(Usage("InfluxDB 2.x needs both --org and --bucket".into())),
    };
    let measurement = run::string(a.measurement.as_ref(), c, s, "measurement")?.unwrap_or_else(|| "han".into());
    points::check_measurement(&measurement).map_err(Usage)?;
    let buffer = run::number(a.buffer, c, s, "buffer", 1)?.unwrap_or(100_000);
    let batch = run::number(a.batch, c, s, "batch", 1)?.unwrap_or(500).min(buffer);
    let size = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
    Ok(Settings {
        target,
        measurement,
        batch: size(batch),
        flush_every: run::duration(a.flush_every, c, s, "flush_every")?.unwrap_or(Duration::from_secs(10)),
        buffer: size(buffer),
        timeout: run::duration(a.timeout, c, s, "timeout")?.unwrap_or(Duration::from_secs(10)),
        last_try: run::duration(a.last_try, c, s, "last_try")?.unwrap_or(Duration::from_secs(10)),
    })
}

/// The counts of a run.
#[derive(Debug, Default)]
struct Counts {
    written: u64,
    /// Refused by the server as bad data.
    refused: u64,
    /// Readings without a number (no point to write).
    empty: u64,
}

/// The retry state while the server is away.
#[derive(Debug)]
struct Away {
    next: Instant,
    delay: Duration,
    since: Instant,
    tries: u32,
    said: Instant,
}

/// Runs `han-push influx`.
pub fn run(args: &InfluxArgs, config: &Config) -> Result<u8> {
    let s = settings(args, config)?;
    let stop = run::stop_flag()?;
    let input = run::input(1024);
    let agent = crate::http::agent(s.timeout);
    let mut queue: Queue<String> = Queue::new(s.buffer);
    let mut counts = Counts::default();
    let mut apart = points::Apart::default();
    let mut away: Option<Away> = None;
    // When the oldest point waiting (of the next batch) came.
    let mut first_at = Instant::now();
    let mut last_drop_said = Instant::now();
    // Set at the end of input (or a signal): then only the last tries.
    let mut ended: Option<Instant> = None;
    let mut failed: Option<std::io::Error> = None;
    let mut said_end = false;
    loop {
        if ended.is_none() && stop.load(Ordering::Relaxed) {
            eprintln!("han-push: stopping (signal)");
            ended = Some(Instant::now());
        }
        let now = Instant::now();
        let ready = away.as_ref().is_none_or(|a| now >= a.next);
        let due = ended.is_some() || queue.len() >= s.batch || now >= first_at + s.flush_every;
        if !queue.is_empty() && ready && due {
            let n = queue.len().min(s.batch);
            let body = queue.iter().take(n).map(String::as_str).collect::<Vec<_>>().join("\n");
            match send::write(&agent, &s.target, &body, n) {
                Outcome::Written => {
                    queue.remove_front(n);
                    counts.written += n as u64;
                    if let Some(a) = away.take() {
                        eprintln!(
                            "han-push: influx: writing again after {} failed tries in {}s",
                            a.tries,
                            a.since.elapsed().as_secs()
                        );
                    }
                }
                Outcome::Refused { dropped, why } => {
                    queue.remove_front(n);
                    counts.refused += dropped as u64;
                    counts.written += (n - dropped) as u64;
                    eprintln!("han-push: influx: the server refused {dropped} of {n} points, dropped: {why}");
                    away = None;
                }
                Outcome::Retry(why) => {
                    let a = away.get_or_insert_with(|| Away {
                        next: now,
                        delay: FIRST_DELAY / 2,
                        since: now,
                        tries: 0,
                        said: now - SAY_EVERY,
                    });
                    a.tries += 1;
                    a.delay = (a.delay * 2).clamp(FIRST_DELAY, MAX_DELAY);
                    let delay = if ended.is_some() { a.delay.min(Duration::from_secs(2)) } else { a.delay };
                    a.next = Instant::now() + delay;
                    if a.said.elapsed() >= SAY_EVERY {
                        a.said = Instant::now();
                        eprintln!(
                            "han-push: influx: cannot write to {}: {why}; {} points wait (buffer {}), retrying",
                            s.target.describe(),
                            queue.len(),
                            s.buffer
                        );
                    }
                }
                Outcome::Fatal(why) => {
                    let lost = queue.len() as u64 + queue.dropped() + counts.refused;
                    return Err(anyhow!("influx: {why} ({lost} readings were not delivered)"));
                }
            }
            first_at = Instant::now();
            continue;
        }
        if last_drop_said.elapsed() >= SAY_EVERY || ended.is_some() {
            if let Some(n) = queue.unsaid() {
                eprintln!("han-push: influx: the buffer was full ({} points): {n} oldest dropped", s.buffer);
            }
            last_drop_said = Instant::now();
        }
        if let Some(end) = ended {
            if !said_end && away.is_some() && !queue.is_empty() {
                said_end = true;
                let (n, t) = (queue.len(), han_common::duration::format(s.last_try));
                eprintln!("han-push: influx: input ended; trying the {n} points still waiting for up to {t}");
            }
            if let Some(a) = away.as_mut() {
                // The last tries come quicker.
                a.next = a.next.min(Instant::now() + Duration::from_secs(2));
            }
            if queue.is_empty() || end.elapsed() >= s.last_try {
                break;
            }
            let wake = away.as_ref().map_or(now, |a| a.next);
            std::thread::sleep(wake.saturating_duration_since(Instant::now()).min(TICK));
            continue;
        }
        // Healthy and full: let stdin wait (the server is slower than the input) rather than drop.
        if away.is_none() && queue.is_full() {
            continue;
        }
        let mut wake = now + TICK;
        if !queue.is_empty() {
            wake = wake.min(first_at + s.flush_every);
        }
        if let Some(a) = &away {
            wake = wake.min(a.next);
        }
        match input.rx.recv_timeout(wake.saturating_duration_since(now)) {
            Ok(Input::Reading(r)) => match points::point(&s.measurement, &r, apart.seq(&r)) {
                Some(p) => {
                    if queue.is_empty() {
                        first_at = Instant::now();
                    }
                    queue.push(p);
                }
                None => {
                    counts.empty += 1;
                    if counts.empty == 1 {
                        eprintln!(
                            "han-push: influx: a reading without quantities is not written (a point needs a field)"
                        );
                    }
                }
            },
            Ok(Input::End) | Err(RecvTimeoutError::Disconnected) => ended = Some(Instant::now()),
            Ok(Input::Failed(e)) => {
                failed = Some(e);
                ended = Some(Instant::now());
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
    }
    if apart.tagged > 0 {
        eprintln!(
            "han-push: influx: {} readings had the meter and the time of the reading before them (a Norwegian \
             meter's hourly list and the list of the same second): written with a tag seq=N, as points of their own",
            apart.tagged
        );
    }
    finish(&s, &queue, &counts, input.skipped(), failed)
}

/// The summary at the end, and the exit status.
fn finish(
    s: &Settings,
    queue: &Queue<String>,
    counts: &Counts,
    skipped: u64,
    failed: Option<std::io::Error>,
) -> Result<u8> {
    if skipped > 0 {
        eprintln!("han-push: {skipped} lines of stdin were not readings (skipped)");
    }
    let (dropped, waiting) = (queue.dropped(), queue.len() as u64);
    let lost = dropped + waiting + counts.refused;
    if lost > 0 {
        eprintln!(
            "han-push: influx: {lost} readings could not be delivered to {} ({dropped} dropped from the full buffer, {} refused by the server, {waiting} still waiting at the end); {} written",
            s.target.describe(),
            counts.refused,
            counts.written
        );
    }
    if let Some(e) = failed {
        return Err(anyhow!("cannot read stdin: {e}"));
    }
    Ok(if lost > 0 { NOT_ALL_DELIVERED } else { 0 })
}
