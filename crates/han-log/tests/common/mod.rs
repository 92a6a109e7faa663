//! What han-log's integration tests share: stream lines of chosen times,
//! running the binary (temp dirs and the rest: han-testkit).
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output, Stdio};

use han_testkit::Run;

pub const BIN: &str = env!("CARGO_BIN_EXE_han-log");

/// A stream line: a meter time (or none), a receive time, a power.
pub fn reading(meter_time: Option<&str>, received: &str, watts: f64) -> String {
    let mt = meter_time.map(|m| format!(",\"meter_time\":\"{m}\"")).unwrap_or_default();
    format!(
        "{{\"v\":1,\"received\":\"{received}\"{mt},\"protocol\":\"p1\",\"framing\":\"dsmr\",\"meter_id\":\"E0001\",\
         \"power_import_w\":{watts:.1},\"power_export_w\":0.0,\"obis\":{{\"1-0:1.7.0\":{{\"value\":{kw},\"unit\":\"kW\"}}}}}}",
        kw = watts / 1000.0
    )
}

/// Runs han-log with `args` on `input`.
pub fn run(args: &[&str], input: &str) -> Output {
    Run::new(BIN).args(args).stdin(Some(input.as_bytes())).output()
}

/// The lines of a file.
pub fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(str::to_owned)
        .collect()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The files of a log directory, but han-log's lock file (`.han-log.lock`,
/// left there on purpose: removing a lock file races with the next han-log).
pub fn day_files(dir: &Path) -> Vec<String> {
    han_testkit::names(dir).into_iter().filter(|n| n != ".han-log.lock").collect()
}

/// The stream lines of a simulated Norwegian Kaifa (han-sim | han-read, the
/// binaries), its clock starting at `start` (RFC 3339), `count` frames, in
/// Europe/Oslo time: from `hh:00:10` it sends the hourly list 3 (with the
/// energy registers), list 1 at :12 ... :18 and list 2 at :20.
pub fn kaifa_lines(start: &str, count: u32) -> Vec<String> {
    let mut sim = Command::new(han_testkit::sibling("han-sim"))
        .args(["--meter", "kaifa-no", "--seed", "7", "--start", start, "--count", &count.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("han-sim starts");
    let read = Command::new(han_testkit::sibling("han-read"))
        .args(["--quiet", "--tz", "Europe/Oslo"])
        .stdin(sim.stdout.take().expect("han-sim's stdout"))
        .output()
        .expect("han-read runs");
    assert!(sim.wait().expect("han-sim ends").success(), "han-sim failed");
    assert!(read.status.success(), "han-read: {}", stderr(&read));
    let lines: Vec<String> = String::from_utf8(read.stdout).unwrap().lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), count as usize, "a reading per frame");
    lines
}
