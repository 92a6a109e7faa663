//! A run: the settings, the checks of the target, then each directory's
//! files in date order, and a one-line summary for cron's mail. A plain day
//! file is moved under its lock (`han_common::gzday`), so han-log cannot
//! append to it meanwhile.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use chrono::Utc;
use han_common::gzday::{self, Claimed, DayState, Merged};
use han_common::{Config, Usage};
use logcopy::select::{self, Action, Daily};

use crate::cli::Args;
use crate::copy::{self, Outcome};
use crate::target;

pub const REFUSED: u8 = 3;
pub const NO_SPACE: u8 = 4;
pub const CLASH: u8 = 5;
pub const NOT_MOUNTED: u8 = 6;

#[derive(Debug, Default)]
struct Tally {
    moved: usize,
    copied: usize,
    there: usize,
    waiting: usize,
    clashes: usize,
    failed: usize,
    bytes: u64,
}

pub fn run(args: &Args) -> Result<u8> {
    let file = Config::load(args.config.as_deref()).map_err(|e| anyhow!(Usage(e.to_string())))?;
    for w in file.warnings("logcopy", &["to", "keep_days", "gzip", "mount_point"]) {
        eprintln!("logcopy: warning: {w}");
    }
    let u = |e: han_common::ConfigError| anyhow!(Usage(e.to_string()));
    let to = args
        .to
        .clone()
        .or(file.string("logcopy", "to").map_err(u)?.map(PathBuf::from))
        .ok_or_else(|| Usage("where to? --to DIR (the stick), or `to` in [logcopy]".into()))?;
    let logs = args
        .logs
        .clone()
        .or(file.string("han-log", "dir").map_err(u)?.map(PathBuf::from))
        .unwrap_or(han_common::paths::LOG_DIR.into());
    let prices_given = args.prices.is_some();
    let prices = args
        .prices
        .clone()
        .or(file.string("spotprices", "dir").map_err(u)?.map(PathBuf::from))
        .unwrap_or(han_common::paths::PRICES_DIR.into());
    let keep_days = match args.keep_days {
        Some(k) => k,
        None => u32::try_from(file.integer("logcopy", "keep_days").map_err(u)?.unwrap_or(0))
            .map_err(|_| Usage("keep_days: 0 or more".into()))?,
    };
    let gzip = args.gzip || file.boolean("logcopy", "gzip").map_err(u)?.unwrap_or(false);
    let mount_point = match &args.mount_point {
        Some(m) => Some((m.clone(), "--mount-point")),
        None => {
            file.string("logcopy", "mount_point").map_err(u)?.map(|m| (PathBuf::from(m), "mount_point in [logcopy]"))
        }
    };
    let tz = match args.tz.clone().or(file.string("han-log", "tz").map_err(u)?) {
        Some(z) => han_common::tz::parse(&z).map_err(|e| Usage(format!("time zone: {e}")))?,
        None => han_common::tz::system().0,
    };
    let now = han_common::times::now_flag(args.now.as_deref())?.unwrap_or_else(Utc::now);
    let today = now.with_timezone(&tz).date_naive();

    if !logs.is_dir() {
        return Err(anyhow!("the log directory {} is not there", logs.display()));
    }
    let mut dirs: Vec<(&str, &Path)> = vec![("log", &logs)];
    if prices.is_dir() {
        dirs.push(("prices", &prices));
    } else if prices_given {
        return Err(anyhow!("the prices directory {} is not there", prices.display()));
    }
    let sources: Vec<&Path> = dirs.iter().map(|(_, d)| *d).collect();
    let mount_point = mount_point.as_ref().map(|(m, from)| (m.as_path(), *from));
    match target::check(&to, &sources, mount_point, &args.fstab) {
        Ok(()) => {}
        Err(e @ target::Refused::NotUnder { .. }) => return Err(Usage(e.to_string()).into()),
        Err(e @ (target::Refused::NotMounted(_) | target::Refused::NoMountTable(_))) => {
            eprintln!("logcopy: {e}");
            return Ok(NOT_MOUNTED);
        }
        Err(e) => {
            eprintln!("logcopy: {e}");
            return Ok(REFUSED);
        }
    }
    // (source, target folder, file, action)
    let mut work: Vec<(PathBuf, PathBuf, Daily, Action)> = Vec::new();
    for (sub, dir) in &dirs {
        let mut files: Vec<Daily> = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read {}", dir.display()))?
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter_map(|n| select::daily(&n))
            .collect();
        files.sort_by(|a, b| a.name.cmp(&b.name));
        let not_closed = |f: &Daily| match gzday::state(&dir.join(&f.name), f.date, today) {
            Ok(DayState::Closed) => None,
            Ok(DayState::NotOver) => Some("not closed yet"),
            Ok(DayState::InUse) => Some("han-log has it open"),
            Ok(DayState::Gone) => Some("gone meanwhile"),
            Err(e) => {
                eprintln!("logcopy: {e}");
                Some("cannot tell whether han-log has it open")
            }
        };
        for (f, a) in select::plan(&files, today, keep_days, not_closed) {
            work.push((dir.join(&f.name), to.join(sub), f, a));
        }
    }
    // Compressing only shrinks, so the sizes here are enough.
    let need: u64 = work
        .iter()
        .filter(|(_, _, _, a)| !matches!(a, Action::Wait(_)))
        .filter(|(_, t, f, _)| !t.join(copy::target_name(&f.name, gzip)).exists())
        .filter_map(|(src, _, _, _)| std::fs::metadata(src).ok())
        .map(|m| m.len())
        .sum();
    if let Err(e) = target::room(&to, need) {
        eprintln!("logcopy: {e}");
        return Ok(NO_SPACE);
    }
    let mut t = Tally::default();
    // The .gz files whose plain part could not be merged: they wait for it.
    let mut unmerged: Vec<PathBuf> = Vec::new();
    for (src, tdir, f, action) in &work {
        let remove = match action {
            Action::Wait(why) => {
                t.waiting += 1;
                if args.dry_run {
                    println!("wait  {} ({why})", src.display());
                }
                continue;
            }
            Action::Merge if args.dry_run => {
                println!("merge {} into {}", src.display(), gzday::gz_path(src).display());
                continue;
            }
            Action::Merge => {
                match gzday::merge(src) {
                    Ok(Merged::Appended(_) | Merged::Gone) => {}
                    Ok(Merged::Finished(gz)) => eprintln!(
                        "logcopy: {} already ended with {} (a merge stopped before its last step): removed the plain file",
                        gz.display(),
                        src.display()
                    ),
                    Ok(Merged::InUse) => {
                        t.waiting += 1;
                        unmerged.push(gzday::gz_path(src));
                    }
                    Err(e) => {
                        eprintln!("logcopy: cannot merge {} into its .gz: {e}", src.display());
                        t.failed += 1;
                        unmerged.push(gzday::gz_path(src));
                    }
                }
                continue;
            }
            _ if unmerged.contains(src) => {
                t.waiting += 1;
                continue;
            }
            Action::Move => true,
            Action::Copy => false,
        };
        if args.dry_run {
            println!(
                "{} {} -> {}",
                if remove { "move " } else { "copy " },
                src.display(),
                tdir.join(copy::target_name(&f.name, gzip)).display()
            );
            if remove {
                t.moved += 1
            } else {
                t.copied += 1
            }
            continue;
        }
        // Held until the file is moved: han-log cannot open it meanwhile.
        let _claim = if f.is_plain() {
            match gzday::claim(src) {
                Ok(Claimed::Yes(c)) => Some(c),
                Ok(Claimed::InUse) => {
                    t.waiting += 1;
                    continue;
                }
                Ok(Claimed::Gone) => continue,
                Err(e) => {
                    eprintln!("logcopy: {e}");
                    t.failed += 1;
                    continue;
                }
            }
        } else {
            None
        };
        std::fs::create_dir_all(tdir).with_context(|| format!("cannot make {}", tdir.display()))?;
        match copy::transfer(src, tdir, gzip, remove) {
            Ok(Outcome::Done { bytes }) => {
                t.bytes += bytes;
                if remove { t.moved += 1 } else { t.copied += 1 }
            }
            Ok(Outcome::AlreadyThere) => t.there += 1,
            Ok(Outcome::Clash(target)) => {
                eprintln!(
                    "logcopy: {} holds other content than {}: both kept, look at them",
                    target.display(),
                    src.display()
                );
                t.clashes += 1;
            }
            Err(e) => {
                // The source is kept; the next run tries again.
                eprintln!("logcopy: {e:#}");
                t.failed += 1;
                if is_full(&e) {
                    eprintln!("logcopy: the target is full; stopping");
                    println!("{}", summary(&t, &to, args.dry_run));
                    return Ok(NO_SPACE);
                }
            }
        }
    }
    println!("{}", summary(&t, &to, args.dry_run));
    Ok(if t.failed > 0 {
        1
    } else if t.clashes > 0 {
        CLASH
    } else {
        0
    })
}

fn is_full(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.raw_os_error() == Some(28)))
}

fn summary(t: &Tally, to: &Path, dry: bool) -> String {
    format!(
        "logcopy{}: {} moved, {} copied and kept, {} already there, {} waiting, {} clashes, {} failed ({:.1} MB) -> {}",
        if dry { " (dry run, nothing done)" } else { "" },
        t.moved,
        t.copied,
        t.there,
        t.waiting,
        t.clashes,
        t.failed,
        t.bytes as f64 / 1e6,
        to.display()
    )
}
