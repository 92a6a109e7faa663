//! cron/han-tools parses as a cron.d file: environment lines, then lines of
//! five time fields (or @reboot and the like), a user, a command; every
//! field in range; every command one of the workspace's binaries.

use han_testkit::BINS;

const CRONTAB: &str = include_str!("../../../cron/han-tools");

/// A cron field: `*`, numbers, ranges, lists and steps, within `lo..=hi`.
fn field_ok(f: &str, lo: u32, hi: u32) -> bool {
    f.split(',').all(|part| {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, Some(s)),
            None => (part, None),
        };
        if step.is_some_and(|s| s.parse::<u32>().map_or(true, |n| n == 0)) {
            return false;
        }
        if range == "*" {
            return true;
        }
        let n = |s: &str| s.parse::<u32>().ok().filter(|n| (lo..=hi).contains(n));
        match range.split_once('-') {
            Some((a, b)) => matches!((n(a), n(b)), (Some(a), Some(b)) if a <= b),
            None => n(range).is_some(),
        }
    })
}

#[test]
fn every_line_parses() {
    let mut jobs = 0;
    for (i, line) in CRONTAB.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some((name, _)) = line.split_once('=') {
            if name.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
                continue;
            }
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let rest = if words.first().is_some_and(|w| w.starts_with('@')) {
            let known = ["@reboot", "@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@annually", "@midnight"];
            assert!(known.contains(&words[0]), "line {}: {line}", i + 1);
            &words[1..]
        } else {
            assert!(words.len() > 6, "line {}: five fields, a user, a command: {line}", i + 1);
            let bounds = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)];
            for (f, (lo, hi)) in words.iter().zip(bounds) {
                assert!(field_ok(f, lo, hi), "line {}: field {f:?}: {line}", i + 1);
            }
            &words[5..]
        };
        assert_eq!(rest.first(), Some(&"han"), "line {}: runs as han: {line}", i + 1);
        let cmd = rest.get(1).copied().unwrap_or_default();
        assert!(BINS.contains(&cmd), "line {}: {cmd} is not one of the tools", i + 1);
        jobs += 1;
    }
    assert!(jobs >= 6, "maxpower, spotprices (3), relay, logcopy: {jobs}");
    assert!(field_ok("5,25,45", 0, 59) && field_ok("*/15", 0, 59) && field_ok("13-22", 0, 23));
    assert!(!field_ok("61", 0, 59) && !field_ok("*/0", 0, 59) && !field_ok("5-3", 0, 59));
}
