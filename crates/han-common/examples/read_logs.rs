//! Reads a log directory back through the shared reader and counts it: the
//! figure `scripts/bench-log.sh` reports.
//!
//! `read_logs DIR [--parse]`: lines and bytes of every day; with `--parse`
//! also every line through `han_common::line::Line` (times and quantities),
//! the way a report reads them.

use std::time::Instant;

use han_common::line::Line;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().unwrap_or_else(|| ".".into());
    let parse = args.next().is_some_and(|a| a == "--parse");
    let start = Instant::now();
    let (mut bytes, mut bad, mut watts) = (0u64, 0u64, 0.0f64);
    let stats = han_common::logs::for_each_line(std::path::Path::new(&dir), None, None, |_, line| {
        bytes += line.len() as u64 + 1;
        if parse {
            match Line::scan(line, true) {
                Ok(l) => watts += l.number("power_import_w").unwrap_or(0.0),
                Err(_) => bad += 1,
            }
        }
        true
    })?;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{} files, {} lines, {:.0} MB in {secs:.2} s: {:.2} M lines/s, {:.0} MB/s{}",
        stats.files,
        stats.lines,
        bytes as f64 / 1e6,
        stats.lines as f64 / secs / 1e6,
        bytes as f64 / secs / 1e6,
        if parse {
            format!(" (parsed; {bad} not readings; mean import {:.0} W)", watts / stats.lines.max(1) as f64)
        } else {
            String::new()
        }
    );
    Ok(())
}
