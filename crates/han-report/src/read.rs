//! The day files into a [`Report`]: `.jsonl` and `.jsonl.gz` through the
//! shared log reader, and han-log's `.csv` for days that have neither.

use std::io::{BufRead, BufReader};
use std::path::Path;

use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use han_common::days::{Clock, Days};
use han_common::line::{Fields, Line};
use han_common::logs::{DayFile, date_of, day_files};
use han_energy::hours::Sample;
use han_report::report::Report;

/// How many threads read the logs at most.
const MAX_THREADS: usize = 4;

const FIELDS: [&str; 4] = ["power_import_w", "power_export_w", "energy_import_kwh", "energy_export_kwh"];

/// The first line skipped: where, and why.
type FirstSkip = Option<String>;

/// Reads the logs of `from..=to` into a report. Lines that are not
/// readings are counted in it and said on stderr (the first with its place).
pub fn read(
    dir: &Path,
    tz: Tz,
    (from, to): (Option<NaiveDate>, Option<NaiveDate>),
    threads: Option<usize>,
    mut report: Report,
) -> Result<Report> {
    // A day either side: the span's first and last hours need the readings
    // around them to be whole (the summary cuts to the span).
    let from = from.and_then(|f| f.pred_opt()).or(from);
    let to = to.and_then(|t| t.succ_opt()).or(to);
    // A day may have both files (readings that came after it was
    // compressed): both are read, the compressed one first.
    let files = day_files(dir, from, to).with_context(|| format!("cannot read {}", dir.display()))?;
    let mut csv: Vec<(NaiveDate, std::path::PathBuf)> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| {
            let e = e.ok()?;
            let name = e.file_name().into_string().ok()?;
            let date = date_of(&name, ".csv")?;
            Some((date, e.path()))
        })
        .filter(|(d, _)| {
            from.is_none_or(|f| *d >= f) && to.is_none_or(|t| *d <= t) && !files.iter().any(|f| f.date == *d)
        })
        .collect();
    csv.sort();
    // A bar on stderr for long runs, by bytes read; none when stderr is not
    // a terminal (cron, pipes), which indicatif sees by itself.
    let total: u64 = files
        .iter()
        .map(|f| &f.path)
        .chain(csv.iter().map(|(_, p)| p))
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let bar = indicatif::ProgressBar::with_draw_target(Some(total), indicatif::ProgressDrawTarget::stderr());
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg} ({eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    // One list in day order: each day's .jsonl(.gz), else its .csv.
    // (day, file, its log file when it is one; else it is a CSV)
    let mut items: Vec<(NaiveDate, &Path, Option<&DayFile>)> = files
        .iter()
        .map(|f| (f.date, f.path.as_path(), Some(f)))
        .chain(csv.iter().map(|(d, p)| (*d, p.as_path(), None)))
        .collect();
    items.sort_by_key(|(d, _, _)| *d);
    // Runs of days, one thread each; each first reads the day before it
    // without counting it, to carry the meter clock on as one pass would.
    let threads = threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()).min(MAX_THREADS))
        .clamp(1, items.len().max(1));
    let per = items.len().div_ceil(threads).max(1);
    let fields = Fields::of(&FIELDS);
    let idx: Vec<usize> = FIELDS.iter().filter_map(|n| han_common::line::index(n)).collect();
    let template = report.like();
    let parts: Vec<Result<(Report, FirstSkip)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (items, fields, idx, bar, template) = (&items, &fields, &idx, &bar, &template);
                scope.spawn(move || -> Result<(Report, FirstSkip)> {
                    let mut part = if t == 0 { template.like().first_part() } else { template.like() };
                    let mut first = None;
                    let mut days = Days::new(tz, Clock::Meter);
                    let from = t * per;
                    if from >= items.len() {
                        return Ok((part, first));
                    }
                    if let Some((_, _, Some(f))) = from.checked_sub(1).and_then(|i| items.get(i)) {
                        read_jsonl(f, fields, idx, &mut days, &mut Report::new(), &mut None)?;
                    }
                    for (date, path, log) in items.iter().skip(from).take(per) {
                        bar.set_message(date.to_string());
                        match log {
                            Some(f) => read_jsonl(f, fields, idx, &mut days, &mut part, &mut first)?,
                            None => read_csv(path, &mut part, &mut first)?,
                        }
                        bar.inc(std::fs::metadata(path).map_or(0, |m| m.len()));
                    }
                    Ok((part, first))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(anyhow::anyhow!("a reading thread failed"))))
            .collect()
    });
    let mut first_skip = None;
    for part in parts {
        let (part, first) = part?;
        first_skip = first_skip.or(first);
        report.append(part);
    }
    bar.finish_and_clear();
    if let Some(first) = first_skip {
        let n = report.skipped();
        let lines = if n == 1 { "line" } else { "lines" };
        eprintln!("han-report: warning: {n} {lines} of the logs skipped, not readings; the first: {first}");
    }
    Ok(report)
}

/// Notes a skipped line: counted, and the first one's place kept.
fn skip(report: &mut Report, first: &mut FirstSkip, path: &Path, n: u64, why: &dyn std::fmt::Display) {
    report.skip();
    if first.is_none() {
        *first = Some(format!("{} line {n}: {why}", path.display()));
    }
}

fn read_jsonl(
    f: &DayFile,
    fields: &Fields,
    idx: &[usize],
    days: &mut Days,
    report: &mut Report,
    first: &mut FirstSkip,
) -> Result<()> {
    let mut lines = f.lines().with_context(|| format!("cannot read {}", f.path.display()))?;
    let now = Utc::now();
    let mut n = 0u64;
    while let Some(bytes) = lines.next_line().with_context(|| format!("cannot read {}", f.path.display()))? {
        n += 1;
        let line = match Line::scan_fields(bytes, fields) {
            Ok(line) => line,
            Err(e) => {
                skip(report, first, &f.path, n, &e);
                continue;
            }
        };
        let at = days.stamp(&line, now).at;
        let n = |i: usize| idx.get(i).and_then(|q| line.number_at(*q));
        report.add(at, &Sample { import_w: n(0), export_w: n(1), import_kwh: n(2), export_kwh: n(3) });
    }
    Ok(())
}

/// han-log's CSV: a header, then a row per reading; `time` is the instant
/// that filed it (RFC 3339 with offset). Fields may be quoted (RFC 4180).
fn read_csv(path: &Path, report: &mut Report, first: &mut FirstSkip) -> Result<()> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut rows = BufReader::new(file).lines();
    let Some(header) = rows.next().transpose().with_context(|| format!("cannot read {}", path.display()))? else {
        return Ok(());
    };
    let head = fields(&header);
    let col = |name: &str| head.iter().position(|h| h == name);
    let Some(time) = col("time") else {
        // Not han-log's CSV: every row is skipped, and said.
        for (n, _) in rows.enumerate() {
            skip(report, first, path, n as u64 + 2, &"no \"time\" column in the header");
        }
        return Ok(());
    };
    let cols: Vec<Option<usize>> = FIELDS.iter().map(|n| col(n)).collect();
    for (n, row) in rows.enumerate() {
        let row = row.with_context(|| format!("cannot read {}", path.display()))?;
        let cells = fields(&row);
        let Some(at) = cells.get(time).and_then(|t| DateTime::parse_from_rfc3339(t).ok()).map(|t| t.to_utc()) else {
            skip(report, first, path, n as u64 + 2, &"no RFC 3339 time");
            continue;
        };
        let n =
            |i: usize| cols.get(i).copied().flatten().and_then(|c| cells.get(c)).and_then(|v| v.parse::<f64>().ok());
        report.add(at, &Sample { import_w: n(0), export_w: n(1), import_kwh: n(2), export_kwh: n(3) });
    }
    Ok(())
}

/// The fields of a CSV row.
fn fields(row: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = row.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}
