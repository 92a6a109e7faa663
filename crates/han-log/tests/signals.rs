//! Signals: SIGTERM writes and syncs what was read, then exits 0 while the
//! input is still open; SIGUSR1 prints the counters and goes on.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{BIN, lines, reading};
use han_testkit::Tmp;

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill").arg(format!("-{sig}")).arg(pid.to_string()).status().unwrap();
    assert!(ok.success(), "kill -{sig}");
}

#[test]
fn term_stores_everything_and_usr1_says_the_counters() {
    let t = Tmp::new("han-log-it", "signals");
    let log = t.join("log");
    // A long sync interval: only the exit can have synced these.
    let mut child = Command::new(BIN)
        .args(["--dir", log.to_str().unwrap(), "--tz", "UTC", "--sync-every", "1h"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let said = Arc::new(Mutex::new(Vec::<String>::new()));
    let (err, said2) = (BufReader::new(child.stderr.take().unwrap()), Arc::clone(&said));
    let reader =
        std::thread::spawn(move || err.lines().map_while(Result::ok).for_each(|l| said2.lock().unwrap().push(l)));
    let mut stdin = child.stdin.take().unwrap();
    let sent: Vec<String> = (0..50)
        .map(|i| reading(Some(&format!("2025-03-01T12:00:{i:02}+00:00")), "2025-03-01T12:00:00.000Z", f64::from(i)))
        .collect();
    for l in &sent {
        writeln!(stdin, "{l}").unwrap();
    }
    stdin.flush().unwrap();
    let wait = |what: &str| {
        let start = Instant::now();
        while !said.lock().unwrap().iter().any(|l| l.contains(what)) {
            assert!(start.elapsed() < Duration::from_secs(20), "never said {what:?}: {:?}", said.lock().unwrap());
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    // Its signal handlers are set before it says where it stores.
    wait("storing in");
    // The counters, once all 50 are in.
    let start = Instant::now();
    loop {
        signal(child.id(), "USR1");
        std::thread::sleep(Duration::from_millis(100));
        if said.lock().unwrap().iter().any(|l| l.contains("50 readings, 50 stored")) {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "{:?}", said.lock().unwrap());
    }
    assert!(child.try_wait().unwrap().is_none(), "SIGUSR1 does not stop it");
    signal(child.id(), "TERM");
    let status = child.wait().unwrap();
    reader.join().unwrap();
    wait("stopping (signal)");
    assert_eq!(status.code(), Some(0), "{:?}", said.lock().unwrap());
    assert!(said.lock().unwrap().iter().any(|l| l.contains("50 stored (50 synced)")), "{:?}", said.lock().unwrap());
    assert_eq!(lines(&log.join("2025-03-01.jsonl")), sent);
    drop(stdin);
}
