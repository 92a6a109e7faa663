//! `han-read --anonymise` as a user runs it: on a capture file, on stdin,
//! on a serial port while recording; what comes out decodes with han-read
//! itself, without the key, to the same values with other ids.

use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use han_testkit::pty;
use han_testkit::{Run, corpus};
use serde_json::Value as Json;

const BIN: &str = env!("CARGO_BIN_EXE_han-read");

fn han_read(args: &[&str], stdin: &[u8]) -> Output {
    Run::new(BIN).args(args).env_remove("HAN_KEY").env_remove("HAN_AUTH_KEY").stdin(Some(stdin)).output()
}

/// The readings han-read prints for some bytes (no key).
fn readings(bytes: &[u8]) -> Vec<Json> {
    let out = han_read(&["--quiet"], bytes);
    String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).expect("JSON line")).collect()
}

/// A reading without `received`, its ids, and what decryption changes.
fn masked(r: &Json) -> Json {
    let mut r = r.clone();
    let m = r.as_object_mut().expect("object");
    for k in ["received", "meter_id", "encrypted", "manufacturer"] {
        m.remove(k);
    }
    m["obis"].as_object_mut().expect("obis").retain(|k, _| !k.contains(":96.1.") || k.ends_with(":96.1.7"));
    m["obis"].as_object_mut().expect("obis").retain(|k, _| !k.ends_with(":42.0.0") && !k.contains(":0.0."));
    if let Some(subs) = m.get_mut("submeters").and_then(Json::as_array_mut) {
        for s in subs {
            s.as_object_mut().expect("sub-meter").remove("id");
        }
    }
    r
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn entry<'a>(m: &'a [Json], file: &str) -> &'a Json {
    m.iter().find(|e| e["file"] == file).unwrap_or_else(|| panic!("{file} in the manifest"))
}

#[test]
fn a_capture_file_with_its_key_comes_out_decrypted_with_other_ids() {
    let Some(dir) = corpus::dir() else { return };
    let manifest = corpus::manifest(&dir);
    let file = "han/kaifa-ma309-pl-enc-01.bin";
    let key = entry(&manifest, file)["key"].as_str().expect("key").to_owned();
    let path = dir.join(file);
    let out = han_read(&["--anonymise", "--key", &key, path.to_str().expect("path")], b"");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("written decrypted") && stderr.contains("never the key"), "{stderr}");
    let before = {
        let o = han_read(&["--quiet", "--key", &key, path.to_str().expect("path")], b"");
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(|l| serde_json::from_str::<Json>(l).expect("JSON"))
            .collect::<Vec<_>>()
    };
    // Without the key.
    let after = readings(&out.stdout);
    assert_eq!((before.len(), after.len()), (1, 1), "{stderr}");
    assert_eq!(masked(&before[0]), masked(&after[0]));
    let id = before[0]["meter_id"].as_str().expect("an id");
    assert_ne!(after[0]["meter_id"].as_str().expect("an id"), id);
    assert!(!contains(&out.stdout, id.as_bytes()));
    assert!(!contains(&out.stdout, b"KFM1200200169986"), "nor the device name");
}

#[test]
fn stdin_with_several_meters_and_garbage() {
    let Some(dir) = corpus::dir() else { return };
    let mut input = Vec::new();
    let mut ids = Vec::new();
    for f in ["han/aidon-6534-list3-01.bin", "p1/dsmr50-iskra-mt382-01.txt", "han/kamstrup-omnipower-no-list1-01.bin"] {
        let bytes = std::fs::read(dir.join(f)).expect("capture");
        ids.extend(readings(&bytes)[0]["meter_id"].as_str().map(str::to_owned));
        input.extend(bytes);
        input.extend(b"garbage");
    }
    // A damaged copy of a frame of the first meter: left out, its id with it.
    let mut bad = std::fs::read(dir.join("han/aidon-6534-list3-02.bin")).expect("capture");
    let n = bad.len();
    bad[n - 2] ^= 0x55;
    input.extend(&bad);
    let out = han_read(&["--anonymise"], &input);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("3 messages written from stdin"), "{stderr}");
    assert!(stderr.contains("left out") && stderr.contains("FCS"), "{stderr}");
    let (before, after) = (readings(&input), readings(&out.stdout));
    assert_eq!(after.len(), 3);
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(masked(b), masked(a));
        assert_ne!(b["meter_id"], a["meter_id"]);
    }
    for id in &ids {
        assert!(!contains(&out.stdout, id.as_bytes()), "{id} in the output");
    }
    assert!(!contains(&out.stdout, b"garbage"));
    // The DSMR id is hex-encoded text.
    assert!(!contains(&out.stdout, b"4B384547303034303436333935353037"));
}

#[test]
fn nothing_that_decodes_is_status_4_and_nothing_written() {
    let Some(dir) = corpus::dir() else { return };
    let bytes = std::fs::read(dir.join("han/kamstrup-omnipower-dk-enc-nokey-01.bin")).expect("capture");
    let out = han_read(&["--anonymise"], &bytes);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("nothing in stdin decoded") && stderr.contains("--key"), "{stderr}");
    assert!(out.stdout.iter().all(|b| *b == 0x7E), "only flags: {:02X?}", out.stdout);
    // An empty input is no error.
    let out = han_read(&["--anonymise"], b"");
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
}

#[test]
fn it_goes_with_no_flag_that_prints_text() {
    for other in ["--hexdump", "--structure", "--once", "--realtime"] {
        let out = han_read(&["--anonymise", other], b"");
        assert_eq!(out.status.code(), Some(2), "{other}");
    }
    let help = han_read(&["--help"], b"");
    assert!(String::from_utf8_lossy(&help.stdout).contains("--anonymise"));
}

#[test]
fn a_serial_port_while_recording() {
    let Some(dir) = corpus::dir() else { return };
    let Some((tmp, pair)) = pty::line("han-read", "anonymise-serial", Duration::from_secs(5)) else { return };
    let frame = std::fs::read(dir.join("han/aidon-6534-list3-01.bin")).expect("capture");
    let raw = tmp.join("raw.bin");
    let mut child = Command::new(BIN)
        .args(["--anonymise", "--baud", "2400", "--parity", "even", "--raw-log"])
        .arg(&raw)
        .arg(&pair.port)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("han-read runs");
    let mut stdout = child.stdout.take().expect("stdout");
    std::thread::sleep(Duration::from_millis(300));
    pair.send(&frame);
    pair.send(&frame);
    // Each frame is written as it comes: read both while han-read runs on.
    let mut got = vec![0u8; 2 * frame.len()];
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let r = stdout.read_exact(&mut got).map(|()| got);
        tx.send(r).ok();
    });
    let got = rx.recv_timeout(Duration::from_secs(20)).expect("two frames within 20 s").expect("read");
    child.kill().ok();
    child.wait().ok();
    pair.stop();
    let r = readings(&got);
    assert_eq!(r.len(), 2);
    assert_eq!(r[0]["meter_id"], r[1]["meter_id"], "one meter, one id");
    assert_ne!(r[0]["meter_id"], "7359992890497997");
    assert!(!contains(&got, b"7359992890497997"));
    // The raw log is the meter's own bytes.
    assert_eq!(std::fs::read(&raw).expect("raw log"), [frame.clone(), frame].concat());
}
