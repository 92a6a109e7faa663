//! kill -9 in the middle of a fast stream (han-sim | han-read | han-log):
//! every file holds whole lines, every reading up to the last sync is
//! there, in order, once; a restart cuts any torn tail and carries on.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{BIN, day_files};
use han_testkit::{Tmp, names, sibling};

/// The log's lines in day order (and whether the last file ended mid-line).
fn logged(dir: &std::path::Path) -> (Vec<Vec<u8>>, bool) {
    let mut out = Vec::new();
    let mut torn = false;
    for name in names(dir).iter().filter(|n| n.ends_with(".jsonl")) {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        torn = !bytes.is_empty() && !bytes.ends_with(b"\n");
        out.extend(bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()).map(<[u8]>::to_vec));
    }
    if torn {
        out.pop();
    }
    (out, torn)
}

#[test]
fn kill_9_loses_nothing_that_was_synced() {
    let t = Tmp::new("han-log-it", "kill9");
    let dir = t.join("log");
    let mut sim = Command::new(sibling("han-sim"))
        .args(["--meter", "dsmr5", "--count", "200000", "--seed", "9", "--start", "2025-03-30T23:59:00+02:00"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut read = Command::new(sibling("han-read"))
        .arg("--quiet")
        .stdin(sim.stdout.take().unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let args = ["--dir", dir.to_str().unwrap(), "--tz", "Europe/Amsterdam", "--sync-every", "200ms", "--verbose"];
    let mut log = Command::new(BIN).args(args).stdin(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();

    let said = Arc::new(Mutex::new(Vec::<String>::new()));
    let err = BufReader::new(log.stderr.take().unwrap());
    let said2 = Arc::clone(&said);
    std::thread::spawn(move || err.lines().map_while(Result::ok).for_each(|l| said2.lock().unwrap().push(l)));
    // Everything han-read wrote goes to han-log, and is kept to compare.
    let sent = Arc::new(Mutex::new(Vec::<u8>::new()));
    let (mut from, mut to, sent2) = (read.stdout.take().unwrap(), log.stdin.take().unwrap(), Arc::clone(&sent));
    let pump = std::thread::spawn(move || {
        let mut buf = vec![0; 64 * 1024];
        while let Ok(n @ 1..) = from.read(&mut buf) {
            sent2.lock().unwrap().extend_from_slice(&buf[..n]);
            if to.write_all(&buf[..n]).is_err() {
                break;
            }
        }
    });
    let syncs = || said.lock().unwrap().iter().filter(|l| l.contains("synced:")).count();
    let start = Instant::now();
    while syncs() < 4 {
        assert!(start.elapsed() < Duration::from_secs(60), "no syncs: {:?}", said.lock().unwrap());
        std::thread::sleep(Duration::from_millis(20));
    }
    log.kill().unwrap(); // SIGKILL
    log.wait().unwrap();
    sim.kill().ok();
    read.kill().ok();
    sim.wait().ok();
    read.wait().ok();
    pump.join().unwrap();
    std::thread::sleep(Duration::from_millis(100));

    let synced: usize = said
        .lock()
        .unwrap()
        .iter()
        .filter_map(|l| l.strip_prefix("han-log: synced: ")?.split(' ').next()?.parse().ok())
        .next_back()
        .unwrap();
    let mut sent = sent.lock().unwrap().clone();
    // han-read was killed too: its last line may be unfinished.
    sent.truncate(sent.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1));
    let reference: Vec<&[u8]> = sent.split(|b| *b == b'\n').filter(|l| !l.is_empty()).collect();
    let (got, _) = logged(&dir);
    assert!(got.len() >= synced, "{} lines in the log, {synced} were synced", got.len());
    assert!(got.len() > 60, "midnight crossed: {}", got.len());
    assert!(day_files(&dir).len() >= 2, "{:?}", day_files(&dir));
    for (i, line) in got.iter().enumerate() {
        assert_eq!(line.as_slice(), reference[i], "line {i}: the stream's, in order, once");
        serde_json::from_slice::<serde_json::Value>(line).unwrap_or_else(|e| panic!("line {i} is not JSON: {e}"));
    }

    // A restart cuts a torn tail (if the kill left one) and takes the rest.
    let rest: Vec<u8> = reference[got.len()..].iter().flat_map(|l| l.iter().copied().chain([b'\n'])).collect();
    let mut again = Command::new(BIN).args(&args[..4]).stdin(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut stdin = again.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || stdin.write_all(&rest));
    let out = again.wait_with_output().unwrap();
    feeder.join().unwrap().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (all, torn) = logged(&dir);
    assert!(!torn);
    assert_eq!(all.len(), reference.len());
    assert!(all.iter().zip(&reference).all(|(a, b)| a.as_slice() == *b), "after the restart: the whole stream, once");
}
