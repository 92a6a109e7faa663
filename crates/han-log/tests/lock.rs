//! One han-log per directory: a second one on the same directory is
//! refused with the first one's pid, and writes nothing; once the first has
//! gone (even killed), the directory is free again.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{BIN, lines, reading, run, stderr};
use han_testkit::{Tmp, wait_until};

#[test]
fn a_second_han_log_on_the_same_directory_is_refused() {
    let t = Tmp::new("han-log-it", "lock");
    let log = t.join("log");
    let dir = log.to_str().expect("path");
    let args = ["--dir", dir, "--tz", "UTC", "--sync-every", "1s"];
    let mut first = Command::new(BIN)
        .args(args)
        .env_remove("HAN_TOOLS_CONFIG")
        .stdin(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("han-log starts");
    let mut input = first.stdin.take().expect("stdin");
    writeln!(input, "{}", reading(Some("2026-03-01T10:00:00Z"), "2026-03-01T10:00:00.100Z", 500.0)).expect("line");
    input.flush().expect("flushed");
    let day = log.join("2026-03-01.jsonl");
    wait_until("the first han-log's line", Duration::from_secs(60), || {
        (day.exists() && !lines(&day).is_empty()).then_some(())
    });

    // The second is refused, names the first, and stores nothing.
    let second = run(&args, &format!("{}\n", reading(Some("2026-03-01T10:00:01Z"), "2026-03-01T10:00:01.100Z", 600.0)));
    assert_eq!(second.status.code(), Some(1), "{}", stderr(&second));
    let err = stderr(&second);
    assert!(err.contains(&format!("another han-log (pid {}) is storing in {dir}", first.id())), "{err}");
    assert_eq!(lines(&day).len(), 1);
    let held = std::fs::read_to_string(log.join(".han-log.lock")).expect("the lock file");
    assert_eq!(held.trim(), first.id().to_string());

    // The first goes on, then is killed: the lock goes with it.
    writeln!(input, "{}", reading(Some("2026-03-01T10:00:02Z"), "2026-03-01T10:00:02.100Z", 700.0)).expect("line");
    input.flush().expect("flushed");
    wait_until("the first han-log's second line", Duration::from_secs(60), || (lines(&day).len() == 2).then_some(()));
    first.kill().expect("killed");
    first.wait().expect("gone");
    let third = run(&args, &format!("{}\n", reading(Some("2026-03-01T10:00:03Z"), "2026-03-01T10:00:03.100Z", 800.0)));
    assert_eq!(third.status.code(), Some(0), "{}", stderr(&third));
    assert_eq!(lines(&day).len(), 3);
}
