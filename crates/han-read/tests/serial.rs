//! han-read on a real serial path: a pty pair made by socat. The test
//! writes captures into one end; han-read reads the other with `--baud
//! auto`. Then socat is killed mid-stream and started again: han-read
//! reopens the device by itself and loses no later frame.

use std::io::{BufRead, BufReader};
use std::process::{ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use han_testkit::pty::{self, Pair};
use han_testkit::{Tmp, corpus};

const BIN: &str = env!("CARGO_BIN_EXE_han-read");

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
    let Some(dir) = corpus::dir() else { return };
    let Some((tmp, pair)) = pty::line("han-read", "serial", Duration::from_secs(5)) else { return };
    let aidon = std::fs::read(dir.join("han/aidon-6534-list3-01.bin")).expect("capture");
    let kamstrup = std::fs::read(dir.join("han/kamstrup-omnipower-no-list2-01.bin")).expect("capture");
    let dsmr = std::fs::read(dir.join("p1/dsmr50-iskra-am550-01.txt")).expect("capture");

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
    let pair = Pair::start(tmp.path(), Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(3000));
    pair.send(&kamstrup);
    pair.send(&aidon);
    let r = next(&rx);
    assert_eq!(r["list"], "Kamstrup_V0001", "{r}");
    assert_eq!(next(&rx)["manufacturer"], "Aidon");
    child.kill().ok();
    child.wait().ok();
    pair.stop();
}

#[test]
fn pty_with_fixed_settings() {
    let Some(dir) = corpus::dir() else { return };
    if !pty::socat_available() {
        return;
    }
    let dsmr = std::fs::read(dir.join("p1/dsmr50-iskra-am550-01.txt")).expect("capture");
    let kaifa = std::fs::read(dir.join("han/kaifa-ma304h3e-list2-01.bin")).expect("capture");
    for (flags, bytes) in [(&["--baud", "2400", "--parity", "even"][..], &kaifa), (&["--baud", "115200"][..], &dsmr)] {
        let tmp = Tmp::new("han-read", &format!("fixed-{}", flags[1]));
        let pair = Pair::start(tmp.path(), Duration::from_secs(5));
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
    }
}
