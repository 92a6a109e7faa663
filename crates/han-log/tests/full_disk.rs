//! A real full disk and a real read-only mount (a small tmpfs mounted here;
//! needs root, skipped loudly where mounting is impossible): han-log says
//! so, keeps reading, keeps the readings in memory, stores them when space
//! returns, and counts what its memory bound made it drop.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{BIN, lines, reading};
use han_testkit::Tmp;
use han_testkit::mount::Mount;

/// Fills the filesystem of `dir` to the last byte.
fn fill(dir: &Path) -> PathBuf {
    let p = dir.join("filler");
    let mut f = std::fs::File::create(&p).unwrap();
    let block = vec![b'x'; 4096];
    while f.write_all(&block).is_ok() {}
    while f.write_all(b"x").is_ok() {}
    p
}

struct Logger {
    child: Child,
    stdin: Option<ChildStdin>,
    said: Arc<Mutex<Vec<String>>>,
}

impl Logger {
    fn start(dir: &Path, extra: &[&str]) -> Logger {
        let mut child = Command::new(BIN)
            .args(["--dir", dir.to_str().unwrap(), "--tz", "UTC", "--sync-every", "100ms"])
            .args(extra)
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let said = Arc::new(Mutex::new(Vec::new()));
        let (err, said2) = (BufReader::new(child.stderr.take().unwrap()), Arc::clone(&said));
        std::thread::spawn(move || err.lines().map_while(Result::ok).for_each(|l| said2.lock().unwrap().push(l)));
        Logger { stdin: child.stdin.take(), child, said }
    }

    fn send(&mut self, lines: &[String]) {
        let s = self.stdin.as_mut().unwrap();
        for l in lines {
            s.write_all(l.as_bytes()).unwrap();
            s.write_all(b"\n").unwrap();
        }
        s.flush().unwrap();
    }

    fn wait_for(&self, what: &str) {
        let start = Instant::now();
        while !self.said.lock().unwrap().iter().any(|l| l.contains(what)) {
            assert!(start.elapsed() < Duration::from_secs(20), "never said {what:?}: {:?}", self.said.lock().unwrap());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    fn finish(mut self) -> (Option<i32>, String) {
        drop(self.stdin.take());
        let status = self.child.wait().unwrap();
        std::thread::sleep(Duration::from_millis(50));
        (status.code(), self.said.lock().unwrap().join("\n"))
    }
}

fn batch(from: u32, n: u32) -> Vec<String> {
    (from..from + n)
        .map(|i| {
            let at = format!("2025-05-01T{:02}:{:02}:{:02}+00:00", i / 3600, i / 60 % 60, i % 60);
            reading(Some(&at), "2025-05-01T10:00:00.000Z", f64::from(i))
        })
        .collect()
}

fn assert_whole_and_in_order(path: &Path, want: &[String]) {
    let got = lines(path);
    for l in &got {
        serde_json::from_str::<serde_json::Value>(l).unwrap_or_else(|e| panic!("a torn line {l:?}: {e}"));
    }
    assert_eq!(got, want);
}

#[test]
fn a_full_disk_is_survived_and_storing_resumes() {
    let t = Tmp::new("han-log-it", "full");
    let Some(m) = Mount::tmpfs(&t.join("disk"), "256k") else { return };
    let log = m.0.join("log");
    std::fs::create_dir_all(&log).unwrap();
    let filler = fill(&m.0);
    let mut g = Logger::start(&log, &[]);
    g.send(&batch(0, 20));
    g.wait_for("cannot write");
    g.send(&batch(20, 20));
    std::thread::sleep(Duration::from_millis(300));
    assert!(g.alive(), "han-log keeps reading on a full disk");
    std::fs::remove_file(filler).unwrap();
    g.wait_for("storing again");
    g.send(&batch(40, 20));
    let (code, said) = g.finish();
    assert_eq!(code, Some(0), "{said}");
    assert!(said.contains("No space left on device"), "{said}");
    assert_whole_and_in_order(&log.join("2025-05-01.jsonl"), &batch(0, 60));
}

#[test]
fn the_memory_bound_drops_new_readings_and_counts_them() {
    let t = Tmp::new("han-log-it", "bound");
    let Some(m) = Mount::tmpfs(&t.join("disk"), "4m") else { return };
    let log = m.0.join("log");
    std::fs::create_dir_all(&log).unwrap();
    let filler = fill(&m.0);
    let mut g = Logger::start(&log, &["--max-buffer", "1"]);
    // About 1.4 MiB of readings while nothing can be written.
    let all = batch(0, 6000);
    g.send(&all);
    g.wait_for("cannot write");
    std::thread::sleep(Duration::from_millis(300));
    // Space returns while han-log makes its last tries after the input ended.
    drop(g.stdin.take());
    std::thread::sleep(Duration::from_millis(300));
    std::fs::remove_file(filler).unwrap();
    let (code, said) = g.finish();
    assert_eq!(code, Some(3), "{said}");
    let stored = lines(&log.join("2025-05-01.jsonl")).len();
    assert!(stored > 3000 && stored < 6000, "{stored} of 6000 stored");
    assert!(said.contains(&format!("{} lost (memory bound)", 6000 - stored)), "{said}");
    assert!(said.contains(&format!("{} readings could not be stored", 6000 - stored)), "{said}");
    assert_whole_and_in_order(&log.join("2025-05-01.jsonl"), &all[..stored]);
}

#[test]
fn a_read_only_mount_is_survived() {
    let t = Tmp::new("han-log-it", "ro");
    let Some(m) = Mount::tmpfs(&t.join("disk"), "4m") else { return };
    let log = m.0.join("log");
    std::fs::create_dir_all(&log).unwrap();
    m.remount("ro");
    let mut g = Logger::start(&log, &[]);
    g.send(&batch(0, 10));
    g.wait_for("Read-only file system");
    g.send(&batch(10, 10));
    std::thread::sleep(Duration::from_millis(300));
    assert!(g.alive());
    m.remount("rw");
    g.wait_for("storing again");
    let (code, said) = g.finish();
    assert_eq!(code, Some(0), "{said}");
    assert_whole_and_in_order(&log.join("2025-05-01.jsonl"), &batch(0, 20));
}
