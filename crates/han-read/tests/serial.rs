//! han-read on a real serial path: a pty pair made by socat. The test
//! writes captures into one end; han-read reads the other with `--baud
//! auto`. Then socat is killed mid-stream and started again: han-read
//! reopens the device by itself and loses no later frame.

#[path = "../../han/tests/common/mod.rs"]
mod common;

use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_han-read");

fn socat_available() -> bool {
    let ok =
        Command::new("socat").arg("-V").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success());
    if !ok {
        let msg = "socat is not installed (scripts/test.sh installs it): serial tests did not run";
        if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
            panic!("{msg}");
        }
        eprintln!("!!!!!!!! {msg} !!!!!!!!");
    }
    ok
}

/// A pty pair: `meter` is the end the test writes, `port` the one han-read opens.
struct Pair {
    socat: Child,
    meter: PathBuf,
    port: PathBuf,
}

impl Pair {
    fn start(dir: &Path) -> Pair {
        let (meter, port) = (dir.join("meter"), dir.join("port"));
        let socat = Command::new("socat")
            .arg(format!("pty,raw,echo=0,link={}", meter.display()))
            .arg(format!("pty,raw,echo=0,link={}", port.display()))
            .stderr(Stdio::null())
            .spawn()
            .expect("socat starts");
        let t = Instant::now();
        while !(meter.exists() && port.exists()) && t.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(meter.exists() && port.exists(), "socat made no ptys");
        Pair { socat, meter, port }
    }

    fn send(&self, bytes: &[u8]) {
        let mut f = OpenOptions::new().write(true).open(&self.meter).expect("meter end opens");
        // Send in small pieces, as a UART would.
        for c in bytes.chunks(64) {
            f.write_all(c).expect("written");
            f.flush().ok();
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    fn stop(mut self) {
        self.socat.kill().ok();
        self.socat.wait().ok();
    }
}

/// Lines from han-read's stdout, arriving on a channel.
fn lines(stdout: ChildStdout) -> mpsc::Receiver<serde_json::Value> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(serde_json::from_str(&line).expect("JSON line")).is_err() {
                break;
            }
        }
    });
    rx
}

fn next(rx: &mpsc::Receiver<serde_json::Value>) -> serde_json::Value {
    rx.recv_timeout(Duration::from_secs(20)).expect("a reading within 20 s")
}

#[test]
fn pty_with_auto_settings_survives_the_device_vanishing() {
    let Some(dir) = common::corpus_dir() else { return };
    if !socat_available() {
        return;
    }
    let tmp = std::env::temp_dir().join(format!("han-read-serial-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("tmp dir");
    let aidon = std::fs::read(dir.join("han/aidon-6534-list3-01.bin")).expect("capture");
    let kamstrup = std::fs::read(dir.join("han/kamstrup-omnipower-no-list2-01.bin")).expect("capture");
    let dsmr = std::fs::read(dir.join("p1/dsmr50-iskra-am550-01.txt")).expect("capture");

    let pair = Pair::start(&tmp);
    let mut child =
        Command::new(BIN).arg(&pair.port).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("han-read runs");
    let rx = lines(child.stdout.take().expect("stdout"));
    std::thread::sleep(Duration::from_millis(300));
    pair.send(&aidon);
    assert_eq!(next(&rx)["meter_id"], "7359992890497997");
    pair.send(&dsmr);
    assert_eq!(next(&rx)["protocol"], "p1");

    // The adapter is unplugged mid-frame...
    let half = kamstrup.len() / 2;
    pair.send(&kamstrup[..half]);
    pair.stop();
    std::thread::sleep(Duration::from_millis(1500));
    // ... and plugged in again: han-read reopens it and reads on.
    let pair = Pair::start(&tmp);
    std::thread::sleep(Duration::from_millis(3000));
    pair.send(&kamstrup);
    pair.send(&aidon);
    let r = next(&rx);
    assert_eq!(r["list"], "Kamstrup_V0001", "{r}");
    assert_eq!(next(&rx)["manufacturer"], "Aidon");
    child.kill().ok();
    child.wait().ok();
    pair.stop();
    std::fs::remove_dir_all(&tmp).ok();
}

#[test]
fn pty_with_fixed_settings() {
    let Some(dir) = common::corpus_dir() else { return };
    if !socat_available() {
        return;
    }
    let dsmr = std::fs::read(dir.join("p1/dsmr50-iskra-am550-01.txt")).expect("capture");
    let kaifa = std::fs::read(dir.join("han/kaifa-ma304h3e-list2-01.bin")).expect("capture");
    for (flags, bytes) in [(&["--baud", "2400", "--parity", "even"][..], &kaifa), (&["--baud", "115200"][..], &dsmr)] {
        let tmp = std::env::temp_dir().join(format!("han-read-fixed-{}-{}", std::process::id(), flags[1]));
        std::fs::create_dir_all(&tmp).expect("tmp dir");
        let pair = Pair::start(&tmp);
        let mut child = Command::new(BIN)
            .args(flags)
            .arg("--once")
            .arg(&pair.port)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("han-read runs");
        let rx = lines(child.stdout.take().expect("stdout"));
        std::thread::sleep(Duration::from_millis(300));
        pair.send(bytes);
        let r = next(&rx);
        assert!(r["obis"].as_object().is_some_and(|o| !o.is_empty()), "{flags:?}: {r}");
        let status = child.wait().expect("ends");
        assert!(status.success(), "{flags:?}: --once ends with 0");
        pair.stop();
        std::fs::remove_dir_all(&tmp).ok();
    }
}
