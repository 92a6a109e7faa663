//! han-read on inputs that are not what it expects: a device that is no
//! serial port, a missing file, a directory, a text file, an empty file;
//! and the first minute, `han-sim | han-read | head -3`. Each asserts the
//! exit status, stdout, and what stderr says and in which order: the error
//! (naming the input) before any counters, the hint last.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use han_testkit::{Tmp, corpus, sibling};

const BIN: &str = env!("CARGO_BIN_EXE_han-read");
/// Every case here ends at once; a han-read that retries instead is killed.
const DEADLINE: Duration = Duration::from_secs(20);
/// The start of the counters line.
const COUNTERS: &str = "han-read: readings ";

fn han_read() -> Command {
    let mut c = Command::new(BIN);
    c.env_remove("HAN_KEY").env_remove("HAN_AUTH_KEY").env_remove("HAN_TOOLS_CONFIG");
    c
}

/// Waits for `child` to end; kills it and fails after [`DEADLINE`].
fn ended(child: &mut Child, what: &str) -> std::process::ExitStatus {
    let status = wait_until_or_kill(child, what);
    status.unwrap_or_else(|| panic!("{what}: still running after {DEADLINE:?}, killed"))
}

fn wait_until_or_kill(child: &mut Child, what: &str) -> Option<std::process::ExitStatus> {
    let start = std::time::Instant::now();
    while start.elapsed() < DEADLINE {
        if let Some(s) = child.try_wait().unwrap_or_else(|e| panic!("{what}: {e}")) {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().ok();
    child.wait().ok();
    None
}

/// han-read on `input`, which must end within the deadline (a retry loop
/// fails the test). What it says fits in the pipes' buffers.
fn run(input: &std::path::Path) -> Output {
    let mut child = han_read()
        .arg(input)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("han-read runs");
    let status = ended(&mut child, &format!("han-read {}", input.display()));
    let read = |r: Option<&mut dyn std::io::Read>| {
        let mut v = Vec::new();
        r.expect("piped").read_to_end(&mut v).expect("read");
        v
    };
    let stdout = read(child.stdout.as_mut().map(|r| r as &mut dyn std::io::Read));
    let stderr = read(child.stderr.as_mut().map(|r| r as &mut dyn std::io::Read));
    Output { status, stdout, stderr }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `said` is on stderr, and any counters come after it.
fn said_before_counters(err: &str, said: &str) {
    let at = err.find(said).unwrap_or_else(|| panic!("stderr lacks {said:?}:\n{err}"));
    if let Some(c) = err.find(COUNTERS) {
        assert!(at < c, "the message comes before the counters:\n{err}");
    }
}

#[test]
fn a_device_that_is_no_serial_port_is_an_error_not_a_retry() {
    let out = run(std::path::Path::new("/dev/null"));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(out.stdout.is_empty());
    said_before_counters(&err, "/dev/null is not a serial port");
    assert!(!err.contains("retrying"), "no retry: {err}");
    // Nothing was read: no counters.
    assert!(!err.contains(COUNTERS), "{err}");
}

#[test]
fn a_missing_file_is_named_and_nothing_is_counted() {
    let tmp = Tmp::new("han-read", "missing");
    let path = tmp.join("missing.bin");
    let out = run(&path);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(out.stdout.is_empty());
    said_before_counters(&err, &format!("han-read: cannot open {}: ", path.display()));
    assert!(!err.contains(COUNTERS), "nothing was read, nothing is counted: {err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn a_directory_is_said_to_be_one() {
    let tmp = Tmp::new("han-read", "directory");
    let out = run(tmp.path());
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(out.stdout.is_empty());
    said_before_counters(&err, &format!("han-read: {} is a directory", tmp.path().display()));
    assert!(!err.contains(COUNTERS), "{err}");
}

#[test]
fn a_text_file_ends_with_a_hint_and_status_4() {
    let tmp = Tmp::new("han-read", "text");
    let path = tmp.join("README.md");
    let text = "# han-tools\n\nSmall Unix-style tools that read smart electricity meters.\n\n\
                See [docs/han-read.md](docs/han-read.md) and https://example.org/p1/port!\n";
    std::fs::write(&path, text).expect("written");
    let out = run(&path);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(out.stdout.is_empty(), "no reading, no output");
    let lines: Vec<&str> = err.lines().collect();
    let hint = lines.last().copied().unwrap_or_default();
    let p = path.display();
    assert!(hint.starts_with(&format!("han-read: {p}: no reading in {} bytes: ", text.len())), "{err}");
    assert!(hint.contains("no frame or telegram found"), "{err}");
    assert!(hint.ends_with(&format!("bytes skipped; `han-read --hexdump {p}` shows its first bytes")), "{err}");
    assert!(err.contains(COUNTERS), "bytes were read: the counters come, before the hint: {err}");
    // ... and it does: in hex and as text, with status 0.
    let dump = han_read().arg("--hexdump").arg(&path).output().expect("runs");
    let shown = String::from_utf8_lossy(&dump.stdout);
    assert_eq!(dump.status.code(), Some(0), "{}", stderr(&dump));
    assert!(shown.starts_with(&format!("=> no frame or telegram in {} bytes", text.len())), "{shown}");
    assert!(shown.contains("  0000: 23 20 68 61 6E 2D 74 6F 6F 6C 73 0A 0A 53 6D 61  |# han-tools..Sma|"), "{shown}");
}

#[test]
fn frames_that_are_all_rejected_say_why() {
    let Some(dir) = corpus::dir() else { return };
    let path = dir.join("han/kamstrup-omnipower-no-list1-crcerr-01.bin");
    let out = run(&path);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(out.stdout.is_empty());
    let hint = err.lines().last().unwrap_or_default();
    assert!(hint.contains("no reading in 228 bytes: 1 frame or telegram rejected (checksum 1)"), "{err}");
    assert!(hint.ends_with("shows the frames"), "{err}");
    // --hexdump, as the hint says, shows the frame and is not a failure.
    let dump = han_read().arg("--hexdump").arg(&path).output().expect("runs");
    assert_eq!(dump.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&dump.stdout).contains("REJECTED (checksum)"));
}

#[test]
fn an_empty_file_is_no_error() {
    let tmp = Tmp::new("han-read", "empty");
    let path = tmp.join("empty.bin");
    std::fs::write(&path, b"").expect("written");
    let out = run(&path);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(out.stdout.is_empty());
    assert_eq!(err, format!("han-read: {} was empty: no reading\n", path.display()));
}

#[test]
fn han_sim_without_arguments_into_han_read_and_head() {
    let mut sim = Command::new(sibling("han-sim"))
        .env_remove("HAN_KEY")
        .env_remove("HAN_AUTH_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("han-sim runs");
    let mut read = han_read()
        .stdin(sim.stdout.take().expect("han-sim's stdout"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("han-read runs");
    // `head -3`: three lines, then the pipe closes.
    let mut lines = BufReader::new(read.stdout.take().expect("stdout")).lines();
    let first: Vec<serde_json::Value> = (0..3)
        .map(|_| serde_json::from_str(&lines.next().expect("a line").expect("read")).expect("a JSON line"))
        .collect();
    drop(lines);
    let (read_err, sim_err) = (read.stderr.take().expect("stderr"), sim.stderr.take().expect("stderr"));
    let read_status = ended(&mut read, "han-read to end after its reader left");
    let sim_status = ended(&mut sim, "han-sim to end after han-read left");
    let text = |mut r: std::process::ChildStderr| {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut r, &mut s).expect("stderr read");
        s
    };
    let (read_err, sim_err) = (text(read_err), text(sim_err));

    // A Kaifa's list 1 (power) every 2 s of its clock, list 2 (which names the meter) every 10 s.
    let mut times = Vec::new();
    for r in &first {
        assert_eq!((&r["protocol"], &r["framing"]), (&"han".into(), &"hdlc".into()), "{r}");
        assert!(r["power_import_w"].as_f64().is_some_and(|w| w > 0.0), "{r}");
        assert!(r["manufacturer"].is_null() || r["meter_model"] == "MA304H3E", "{r}");
        let t = r["meter_time"].as_str().unwrap_or_else(|| panic!("a meter time: {r}"));
        times.push(chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S").expect("the Kaifa's local time"));
    }
    let steps: Vec<i64> = times.windows(2).map(|w| (w[1] - w[0]).num_seconds()).collect();
    assert_eq!(steps, [2, 2], "{first:?}");
    // A closed pipe is the reader being done: both end with 0, no error.
    assert_eq!(read_status.code(), Some(0), "{read_err}");
    assert_eq!(sim_status.code(), Some(0), "{sim_err}");
    assert_eq!(
        sim_err,
        "han-sim: no --meter given: simulating kaifa-no (Kaifa MA304H3E, Norway); --help lists the others\n"
    );
    // han-read says its counters at exit, and nothing else.
    assert!(read_err.lines().all(|l| l.starts_with(COUNTERS)), "{read_err}");
}
