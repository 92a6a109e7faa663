//! A run: read the month, sum it up, write the page, send what is due;
//! with `--follow`, then the same on every few seconds of the live stream.

use std::io::{self, BufRead, Write};
use std::time::{Duration as StdDuration, Instant, SystemTime};

use anyhow::{Context, Result};
use chrono::{DateTime, Duration, Utc};
use han_common::line::Line;

use crate::alerts;
use crate::cache;
use crate::cli::Args;
use crate::page;
use crate::read::{Scan, TORN_AFTER, month_start, torn_files};
use crate::settings::{Settings, check_limit, settings};
use crate::state::{MonthPeak, Pending, State};
use crate::summary::{Given, Summary, summarise, utc};
use crate::text::{self, short};

/// Exit status: a mail could not be sent (it is kept and retried).
pub const MAIL_FAILED: u8 = 4;

/// How often `--follow` sums up and writes the page.
const FOLLOW_EVERY: StdDuration = StdDuration::from_secs(10);
/// How long a sent mail is remembered.
const KEEP_SENT: Duration = Duration::days(40);
/// How many months of peaks the state keeps (Belgium's mean takes 12).
const KEEP_MONTHS: usize = 14;

pub fn run(args: &Args) -> Result<u8> {
    let s = settings(args)?;
    if let Some(wh) = args.set_limit {
        let wh = check_limit(wh, "--set-limit")?;
        let mut state = State::load(&s.state)?;
        let old = state.limit_wh.replace(wh);
        state.save(&s.state)?;
        let was = old.map_or("none stored".to_owned(), |o| format!("was {o} Wh"));
        println!("maxpower: limit set to {wh} Wh ({was}) in {}", crate::state::path(&s.state).display());
        return Ok(0);
    }
    let mut state = State::load(&s.state)?;
    let now = s.now.unwrap_or_else(Utc::now);
    let first = month_start(now, s.tz);
    // The day before the month too: its last reading starts the month's first hour.
    let from = first.pred_opt().unwrap_or(first);
    let today = now.with_timezone(&s.tz).date_naive();
    if !s.dir.is_dir() {
        anyhow::bail!("no log directory {} (han-log's --dir; or --dir here)", s.dir.display());
    }
    let files = han_common::logs::day_files(&s.dir, Some(from), Some(today.succ_opt().unwrap_or(today)))
        .with_context(|| format!("cannot list {}", s.dir.display()))?;
    // Days before today are closed: their sums are kept for the next run.
    let (closed, open) = files.split_at(files.partition_point(|f| f.date < today));
    let threads = args.threads.map(usize::from);
    let key = (!args.no_cache).then(|| cache::Key::new(&s.dir, s.tz.name(), s.tariff, from));
    let kept = key.as_ref().and_then(|k| cache::load(&s.state, k, closed));
    let news = kept.as_ref().is_none_or(|(_, n)| *n < closed.len());
    let (mut scan, skip) = match kept {
        Some((saved, n)) => (Scan::resume(saved, s.tz, s.tariff), n),
        None => (Scan::new(s.tz, s.tariff), 0),
    };
    scan.until = s.now;
    scan.read_files(closed.get(skip..).unwrap_or_default(), now, threads)?;
    if let (Some(k), true) = (&key, news) {
        cache::save(&s.state, k, closed, scan.save());
    }
    scan.read_files(open, now, threads)?;
    if scan.bad > 0 {
        eprintln!("maxpower: {} lines in the logs were not readings (skipped)", scan.bad);
    }
    scan.torn = torn_files(&s.dir, &scan.unfinished, SystemTime::now());
    if !scan.torn.is_empty() {
        let n = scan.torn.len();
        eprintln!(
            "maxpower: {n} torn last {} skipped (no newline at the end, the file unchanged for {} s: a write cut short): {}",
            if n == 1 { "line" } else { "lines" },
            TORN_AFTER.as_secs(),
            scan.torn.join(", ")
        );
    }
    let mut out = io::stdout().lock();
    let (summary, mut code) = evaluate(&s, &mut state, &scan, now)?;
    let printed = if args.json {
        serde_json::to_writer(&mut out, &summary).map_err(io::Error::from).and_then(|()| writeln!(out))
    } else if args.follow {
        Ok(())
    } else {
        out.write_all(text::render(&summary).as_bytes())
    };
    han_common::shell::closed_pipe_is_done(printed.and_then(|()| out.flush())).context("cannot write the summary")?;
    if args.follow {
        code = code.max(follow(&s, &mut state, &mut scan, args.json, &mut out)?);
    }
    Ok(code)
}

/// Reads the live stream on stdin until it ends.
fn follow(s: &Settings, state: &mut State, scan: &mut Scan, json: bool, out: &mut impl Write) -> Result<u8> {
    let stdin = io::stdin();
    let mut input = stdin.lock();
    let mut buf = Vec::new();
    let mut last = Instant::now();
    let mut code = 0;
    let mut fresh = false;
    // A wrong pipe must not flood the journal.
    let mut bad = han_common::limit::PerMinute::new(5);
    loop {
        buf.clear();
        let n = input.read_until(b'\n', &mut buf).context("cannot read stdin")?;
        if n > 0 {
            let bytes = buf.strip_suffix(b"\n").unwrap_or(&buf);
            let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
            if !bytes.is_empty() {
                let line = Line::parse(bytes, true);
                if let Err(e) = &line {
                    let (show, held) = bad.allow();
                    if let Some(n) = held {
                        eprintln!("maxpower: {n} more lines on stdin were not readings");
                    }
                    if show {
                        eprintln!("maxpower: stdin: not a reading, skipped: {e}");
                    }
                }
                scan.take(bytes, line, Utc::now());
                fresh = true;
            }
        }
        if fresh && (n == 0 || last.elapsed() >= FOLLOW_EVERY) {
            // The stream is live: its newest reading is now.
            let now = scan.quarters().last_reading().unwrap_or_else(Utc::now);
            scan.forget_before(now - Duration::days(40));
            let (summary, c) = evaluate(s, state, scan, now)?;
            code = code.max(c);
            if json {
                let line =
                    serde_json::to_writer(&mut *out, &summary).map_err(io::Error::from).and_then(|()| writeln!(out));
                match line.and_then(|()| out.flush()) {
                    Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(code),
                    other => other.context("cannot write the summary")?,
                }
            }
            last = Instant::now();
            fresh = false;
        }
        if n == 0 {
            return Ok(code);
        }
    }
}

/// Sums up, writes the page, sends what is due; the summary and the exit status.
fn evaluate(s: &Settings, state: &mut State, scan: &Scan, now: DateTime<Utc>) -> Result<(Summary, u8)> {
    let limit = s.limit_flag.or(state.limit_wh).or(s.limit_config);
    let summary = summarise(
        scan,
        &Given { now, tz: s.tz, tariff: s.tariff, limit_wh: limit, steps: &s.steps, months: &state.months },
    );
    let mut changed = false;
    if let Some(m) = summary.belgium.as_ref().and_then(|b| b.months.first()).filter(|m| m.month == summary.month) {
        let peak = MonthPeak { peak_w: m.peak_w, source: m.source.clone() };
        if state.months.get(&m.month) != Some(&peak) {
            state.months.insert(m.month.clone(), peak);
            while state.months.len() > KEEP_MONTHS {
                state.months.pop_first();
            }
            changed = true;
        }
    }
    if let Some(www) = &s.www {
        page::write(www, &summary)?;
    }
    let code = mail(s, state, &summary, &mut changed)?;
    if changed {
        state.save(&s.state)?;
    }
    Ok((summary, code))
}

/// What a mail sent late says: what it is about, when it was due, and
/// when it went out (local times).
fn late_note(p: &Pending, sent: DateTime<Utc>, tz: han_common::tz::Tz) -> String {
    let local = |rfc3339: &str| match DateTime::parse_from_rfc3339(rfc3339) {
        Ok(t) => short(&t.with_timezone(&tz).to_rfc3339()),
        Err(_) => rfc3339.to_owned(),
    };
    let about = if p.about.is_empty() { format!("the period from {}", local(&p.hour)) } else { p.about.clone() };
    format!(
        "(Sent late: this mail about {about} was due at {}, but could not be sent until {} ({}).)",
        local(&p.since),
        short(&sent.with_timezone(&tz).to_rfc3339()),
        tz.name()
    )
}

/// Queues the mails due that were never sent, then sends what waits.
fn mail(s: &Settings, state: &mut State, summary: &Summary, changed: &mut bool) -> Result<u8> {
    let due = alerts::due(summary, s.warn_projected, s.warn_step);
    // Without a mail server the summary is all there is.
    let Some(smtp) = &s.smtp else { return Ok(0) };
    let current = summary.current.as_ref().map_or(summary.at, |c| c.at);
    let watch_from = state.watch_from.get_or_insert_with(|| {
        *changed = true;
        utc(current)
    });
    let watch_from = watch_from.clone();
    for d in due {
        let hour = utc(d.hour);
        if hour < watch_from || state.known(d.kind, &hour) {
            continue;
        }
        state.pending.push(Pending {
            kind: d.kind.to_owned(),
            hour,
            about: d.about,
            subject: d.subject,
            body: d.body,
            since: utc(summary.at),
            tries: 0,
        });
        // Kept before it is sent: a crash now still sends it next time.
        state.save(&s.state)?;
    }
    let keep_from = utc(summary.at - KEEP_SENT);
    let this_run = utc(summary.at);
    while let Some(p) = state.pending.first_mut() {
        // Late: it failed, or it was found due by an earlier run and waited
        // behind one that failed.
        let body = if p.tries > 0 || p.since != this_run {
            format!("{}\n{}\n", p.body, late_note(p, summary.at, s.tz))
        } else {
            p.body.clone()
        };
        match smtp.send(&p.subject, &body) {
            Ok(()) => {
                let p = state.pending.remove(0);
                state.mark_sent(&p.kind, &p.hour, &keep_from);
                state.save(&s.state)?;
                eprintln!("maxpower: mailed: {}", p.subject);
            }
            Err(e) => {
                p.tries += 1;
                let waiting = state.pending.len();
                eprintln!(
                    "maxpower: cannot send mail ({e}); {waiting} kept in the state file, retried on the next run"
                );
                state.save(&s.state)?;
                return Ok(MAIL_FAILED);
            }
        }
    }
    Ok(0)
}
