//! logcopy against a real second filesystem: a tmpfs mounted by the test
//! (needs root; skipped loudly where mounting is impossible, and a failure
//! under CI=true).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use han_testkit::in_ci;
use han_testkit::mount::Mount;
use sha2::{Digest, Sha256};

const BIN: &str = env!("CARGO_BIN_EXE_logcopy");
const NOW: &str = "2026-01-10T12:00:00+01:00";

/// A temp dir with `log` and `prices`; `usb` unmounted before it goes.
struct Tmp(han_testkit::Tmp);
impl Tmp {
    fn new(name: &str) -> Tmp {
        Tmp(han_testkit::Tmp::with_dirs("logcopy", name, &["log", "prices"]))
    }
    fn join(&self, s: &str) -> PathBuf {
        self.0.join(s)
    }
}
impl Drop for Tmp {
    fn drop(&mut self) {
        Command::new("umount").arg("-l").arg(self.join("usb")).stderr(Stdio::null()).status().ok();
    }
}

fn usb(tmp: &Tmp, size: &str) -> Option<Mount> {
    let m = Mount::tmpfs(&tmp.join("usb"), size);
    assert!(m.is_some() || !in_ci(), "CI must be able to mount a tmpfs (root)");
    m
}

/// A day's log of `lines` readings-like lines.
fn day(tmp: &Tmp, name: &str, lines: usize) -> Vec<u8> {
    let mut v = Vec::new();
    for i in 0..lines {
        writeln!(
            v,
            r#"{{"v":1,"received":"{name}T00:00:{:02}Z","protocol":"han","power_import_w":{i},"obis":{{}}}}"#,
            i % 60
        )
        .expect("line");
    }
    std::fs::write(tmp.join("log").join(name), &v).expect("written");
    v
}

fn logcopy(tmp: &Tmp, extra: &[&str]) -> Output {
    Command::new(BIN)
        .args(["--to", tmp.join("usb/meter").to_str().expect("path")])
        .args([
            "--logs",
            tmp.join("log").to_str().expect("path"),
            "--prices",
            tmp.join("prices").to_str().expect("path"),
        ])
        .args(["--tz", "Europe/Oslo", "--now", NOW])
        .args(extra)
        .env_remove("HAN_TOOLS_CONFIG")
        .output()
        .expect("logcopy runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|r| r.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

fn gunzip(p: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(std::fs::File::open(p).expect("gz")), &mut out)
        .expect("gunzip");
    out
}

#[test]
fn closed_days_move_verified_today_stays() {
    let tmp = Tmp::new("move");
    let Some(_m) = usb(&tmp, "64m") else { return };
    let d8 = day(&tmp, "2026-01-08.jsonl", 2000);
    let d9 = day(&tmp, "2026-01-09.jsonl", 3000);
    day(&tmp, "2026-01-10.jsonl", 10);
    std::fs::write(tmp.join("log/2026-01-09.csv"), "a,b\n1,2\n").expect("csv");
    std::fs::write(tmp.join("prices/2026-01-09.json"), "{}\n").expect("price");
    std::fs::write(tmp.join("prices/2026-01-11.json"), "{}\n").expect("tomorrow's price");
    // A dry run does nothing.
    let out = logcopy(&tmp, &["--dry-run"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("(dry run, nothing done): 4 moved"), "{}", text(&out.stdout));
    assert_eq!(files(&tmp.join("log")).len(), 4);
    assert!(!tmp.join("usb/meter").exists());

    let out = logcopy(&tmp, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let line = text(&out.stdout);
    assert_eq!(line.lines().count(), 1, "one line for cron: {line}");
    assert!(
        line.starts_with("logcopy: 4 moved, 0 copied and kept, 0 already there, 2 waiting, 0 clashes, 0 failed"),
        "{line}"
    );
    assert_eq!(files(&tmp.join("log")), ["2026-01-10.jsonl"], "today's file stays");
    assert_eq!(files(&tmp.join("prices")), ["2026-01-11.json"]);
    assert_eq!(files(&tmp.join("usb/meter/log")), ["2026-01-08.jsonl", "2026-01-09.csv", "2026-01-09.jsonl"]);
    assert_eq!(std::fs::read(tmp.join("usb/meter/log/2026-01-08.jsonl")).expect("copy"), d8);
    assert_eq!(
        Sha256::digest(std::fs::read(tmp.join("usb/meter/log/2026-01-09.jsonl")).expect("copy")),
        Sha256::digest(&d9)
    );
    assert_eq!(files(&tmp.join("usb/meter/prices")), ["2026-01-09.json"]);

    // --gzip and --keep-days: the next day, the 10th is copied, compressed, and kept.
    let out = Command::new(BIN)
        .args([
            "--to",
            tmp.join("usb/meter").to_str().expect("path"),
            "--logs",
            tmp.join("log").to_str().expect("path"),
        ])
        .args(["--prices", tmp.join("prices").to_str().expect("path"), "--tz", "Europe/Oslo"])
        .args(["--now", "2026-01-11T00:30:00+01:00", "--gzip", "--keep-days", "1"])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("0 moved, 1 copied and kept"), "{}", text(&out.stdout));
    assert_eq!(files(&tmp.join("log")), ["2026-01-10.jsonl"]);
    let d10 = std::fs::read(tmp.join("log/2026-01-10.jsonl")).expect("kept");
    assert_eq!(gunzip(&tmp.join("usb/meter/log/2026-01-10.jsonl.gz")), d10);
}

#[test]
fn an_interrupted_copy_is_finished_by_the_next_run() {
    let tmp = Tmp::new("kill");
    let Some(_m) = usb(&tmp, "120m") else { return };
    // Big enough that compressing takes a while.
    let mut big = Vec::with_capacity(40 << 20);
    let mut x: u64 = 1;
    while big.len() < 40 << 20 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        writeln!(big, "{{\"v\":1,\"power_import_w\":{},\"n\":{x}}}", x >> 50).expect("line");
    }
    std::fs::write(tmp.join("log/2026-01-09.jsonl"), &big).expect("written");
    let mut child = Command::new(BIN)
        .args([
            "--to",
            tmp.join("usb/meter").to_str().expect("path"),
            "--logs",
            tmp.join("log").to_str().expect("path"),
        ])
        .args(["--tz", "Europe/Oslo", "--now", NOW, "--gzip"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("runs");
    let partial = tmp.join("usb/meter/log/.2026-01-09.jsonl.gz.logcopy-partial");
    let until = Instant::now() + Duration::from_secs(30);
    while !partial.exists() {
        assert!(Instant::now() < until, "no temporary file appeared");
        std::thread::sleep(Duration::from_millis(1));
    }
    std::thread::sleep(Duration::from_millis(50));
    child.kill().expect("killed");
    child.wait().expect("reaped");
    // Killed mid-file: the source whole, no final file, the partial left.
    assert_eq!(std::fs::read(tmp.join("log/2026-01-09.jsonl")).expect("source"), big);
    assert!(!tmp.join("usb/meter/log/2026-01-09.jsonl.gz").exists(), "killed before the rename");
    assert!(partial.exists());
    let out = logcopy(&tmp, &["--gzip"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("logcopy: 1 moved"), "{}", text(&out.stdout));
    assert_eq!(gunzip(&tmp.join("usb/meter/log/2026-01-09.jsonl.gz")), big);
    assert_eq!(files(&tmp.join("usb/meter/log")), ["2026-01-09.jsonl.gz"], "no temporary file left");
    assert!(files(&tmp.join("log")).is_empty());
}

#[test]
fn a_name_clash_keeps_both_and_a_copy_already_there_finishes_the_move() {
    let tmp = Tmp::new("clash");
    let Some(_m) = usb(&tmp, "16m") else { return };
    let d8 = day(&tmp, "2026-01-08.jsonl", 100);
    let d9 = day(&tmp, "2026-01-09.jsonl", 100);
    std::fs::create_dir_all(tmp.join("usb/meter/log")).expect("target");
    std::fs::write(tmp.join("usb/meter/log/2026-01-08.jsonl"), b"other content\n").expect("clash");
    // The 9th is already there, identical: a run that stopped before removing.
    std::fs::write(tmp.join("usb/meter/log/2026-01-09.jsonl"), &d9).expect("same");
    let out = logcopy(&tmp, &[]);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("2026-01-08.jsonl holds other content than"), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("0 moved, 0 copied and kept, 1 already there, 0 waiting, 1 clashes"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(std::fs::read(tmp.join("log/2026-01-08.jsonl")).expect("kept"), d8, "both kept");
    assert_eq!(std::fs::read(tmp.join("usb/meter/log/2026-01-08.jsonl")).expect("kept"), b"other content\n");
    assert!(!tmp.join("log/2026-01-09.jsonl").exists(), "the identical copy finished the move");
}

#[test]
fn a_target_too_small_or_not_mounted_is_refused() {
    let tmp = Tmp::new("refuse");
    // Not mounted: the mount point is a folder on this filesystem.
    std::fs::create_dir_all(tmp.join("usb")).expect("mount point");
    day(&tmp, "2026-01-09.jsonl", 100);
    let out = logcopy(&tmp, &[]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("is on the same filesystem as"), "{}", text(&out.stderr));
    assert!(files(&tmp.join("usb")).is_empty(), "nothing written to the empty mount point");
    assert!(tmp.join("log/2026-01-09.jsonl").exists());
    // Mounted but 2 MB, for 3 MB of logs.
    let Some(_m) = usb(&tmp, "2m") else { return };
    day(&tmp, "2026-01-07.jsonl", 20000);
    day(&tmp, "2026-01-08.jsonl", 20000);
    let out = logcopy(&tmp, &[]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("are needed; nothing copied"), "{}", text(&out.stderr));
    assert_eq!(files(&tmp.join("log")).len(), 3, "every source kept");
    assert!(files(&tmp.join("usb")).is_empty());
}
