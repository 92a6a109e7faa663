//! han-read as a user runs it: every corpus capture through the binary,
//! a concatenated stream with garbage, a TCP link that drops, exit codes.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use han_testkit::{Run, corpus};
use serde_json::Value as Json;

const BIN: &str = env!("CARGO_BIN_EXE_han-read");

fn hex(k: &Json) -> Option<String> {
    k.as_str().map(str::to_owned)
}

fn readings(stdout: &[u8]) -> Vec<Json> {
    String::from_utf8_lossy(stdout).lines().map(|l| serde_json::from_str(l).expect("each line is JSON")).collect()
}

/// The stream contract's schema, compiled.
fn schema() -> jsonschema::JSONSchema {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/stream.schema.json");
    let text = std::fs::read_to_string(path).expect("docs/stream.schema.json");
    let json: Json = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::JSONSchema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .compile(&json)
        .unwrap_or_else(|e| panic!("schema compiles: {e}"))
}

#[test]
fn every_capture_prints_what_the_manifest_says() {
    let Some(dir) = corpus::dir() else { return };
    let schema = schema();
    let mut failures = Vec::new();
    for e in corpus::manifest(&dir) {
        let file = e["file"].as_str().expect("file");
        if file.starts_with("prices/") {
            continue;
        }
        let mut cmd = Command::new(BIN);
        cmd.arg(dir.join(file)).arg("--quiet").env_remove("HAN_KEY").env_remove("HAN_AUTH_KEY");
        if let Some(k) = hex(&e["key"]) {
            cmd.arg("--key").arg(k);
        }
        if let Some(k) = hex(&e["auth_key"]) {
            cmd.arg("--auth-key").arg(k);
        }
        let out = cmd.output().expect("han-read runs");
        let got = readings(&out.stdout);
        let mut problems = Vec::new();
        // A capture without one reading (bad checksums, a missing key) ends with status 4.
        let status = if e["readings"].as_u64() == Some(0) { 4 } else { 0 };
        if out.status.code() != Some(status) {
            problems.push(format!("exit {:?}, want {status}", out.status.code()));
        }
        if got.len() as u64 != e["readings"].as_u64().unwrap_or(0) {
            problems.push(format!("{} readings, want {}", got.len(), e["readings"]));
        }
        for r in &got {
            if let Err(errs) = schema.validate(r) {
                problems.push(format!("schema: {}", errs.map(|e| e.to_string()).collect::<Vec<_>>().join(", ")));
            }
        }
        if let Some(r) = got.first() {
            for (code, want) in e["expect"].as_object().expect("expect") {
                if let Err(msg) = corpus::compare(want, r["obis"].get(code)) {
                    problems.push(format!("{code}: {msg}"));
                }
            }
            let t = r["meter_time"].as_str().map(|t| t.get(..19).unwrap_or(t).to_owned());
            if t.as_deref() != e["meter_time"].as_str() {
                problems.push(format!("meter_time {t:?} want {}", e["meter_time"]));
            }
            if r["received"].as_str().is_none_or(|s| !s.ends_with('Z')) {
                problems.push("no received time".into());
            }
        }
        if !problems.is_empty() {
            failures.push(format!("{file}: {}", problems.join("; ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The valid unencrypted framed captures, concatenated with garbage.
fn garbage_stream() -> Option<(Vec<u8>, usize)> {
    let dir = corpus::dir()?;
    let (mut s, mut n, mut x) = (Vec::new(), 0, 12345u32);
    for e in corpus::manifest(&dir) {
        let framing = e["framing"].as_str().unwrap_or("");
        if e["valid"] != Json::Bool(true) || !e["key"].is_null() || ["llc", "apdu"].contains(&framing) {
            continue;
        }
        for _ in 0..(x % 97) {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            s.push((x >> 16) as u8);
        }
        s.extend(std::fs::read(dir.join(e["file"].as_str()?)).ok()?);
        n += e["readings"].as_u64()? as usize;
    }
    Some((s, n))
}

#[test]
fn a_concatenated_stream_with_garbage_from_stdin() {
    let Some((stream, n)) = garbage_stream() else { return };
    let mut child = Command::new(BIN).arg("-q").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("runs");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || stdin.write_all(&stream));
    let out = child.wait_with_output().expect("ends");
    writer.join().expect("writer").expect("written");
    assert!(out.status.success());
    assert_eq!(readings(&out.stdout).len(), n);
}

#[test]
fn tcp_link_that_drops_is_reconnected() {
    let Some(dir) = corpus::dir() else { return };
    let a = std::fs::read(dir.join("han/aidon-6534-list3-01.bin")).expect("capture");
    let b = std::fs::read(dir.join("p1/dsmr50-iskra-am550-01.txt")).expect("capture");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = std::thread::spawn(move || {
        // First connection: one frame and half of the next, then the link drops.
        let (mut c, _) = listener.accept().expect("accept 1");
        c.write_all(&a).expect("write");
        c.write_all(&b[..b.len() / 2]).expect("write");
        drop(c);
        // Second connection: the rest arrives after a reconnect.
        let (mut c, _) = listener.accept().expect("accept 2");
        c.write_all(&b).expect("write");
        c.write_all(&a).expect("write");
        std::thread::sleep(Duration::from_millis(500));
    });
    let mut child = Command::new(BIN)
        .arg(format!("tcp://{addr}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    let mut stdout = child.stdout.take().expect("stdout");
    let start = Instant::now();
    let mut text = String::new();
    let mut buf = [0u8; 4096];
    while text.matches('\n').count() < 3 && start.elapsed() < Duration::from_secs(20) {
        match stdout.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => text.push_str(&String::from_utf8_lossy(&buf[..n])),
        }
    }
    child.kill().ok();
    child.wait().ok();
    let mut err = String::new();
    child.stderr.take().expect("stderr").read_to_string(&mut err).ok();
    server.join().expect("server");
    let lines: Vec<Json> = text.lines().map(|l| serde_json::from_str(l).expect("JSON")).collect();
    let protocols: Vec<&str> = lines.iter().filter_map(|r| r["protocol"].as_str()).collect();
    assert_eq!(protocols, ["han", "p1", "han"], "stderr: {err}");
    assert!(err.contains("reconnecting") || err.contains("closed"), "stderr: {err}");
}

#[test]
fn exit_codes_and_closed_stdout() {
    let Some(dir) = corpus::dir() else { return };
    let bad = Command::new(BIN).args(["--key", "1234", "-"]).output().expect("runs");
    assert_eq!(bad.status.code(), Some(2), "a bad key is bad usage");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("32 hex digits"));
    let none = Command::new(BIN)
        .arg("--once")
        .arg(dir.join("han/kamstrup-omnipower-no-list1-crcerr-01.bin"))
        .output()
        .expect("runs");
    assert_eq!(none.status.code(), Some(3), "--once without a reading");
    let missing = Command::new(BIN).arg("/nonexistent/capture.bin").output().expect("runs");
    assert_eq!(missing.status.code(), Some(1));
    // A reader that stops reading: han-read ends quietly with 0.
    let (stream, _) = garbage_stream().expect("corpus");
    let big: Vec<u8> = stream.iter().copied().cycle().take(stream.len() * 20).collect();
    let mut child = Run::new(BIN).arg("-q").stdin(Some(&big)).spawn();
    let mut first = [0u8; 10];
    child.stdout.take().expect("stdout").read_exact(&mut first).expect("some output");
    // stdout is dropped here: the pipe is closed.
    let status = child.wait().expect("ends");
    assert_eq!(status.code(), Some(0));
}

#[test]
fn help_has_examples() {
    let out = Command::new(BIN).arg("--help").output().expect("runs");
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && help.contains("Examples:") && help.contains("Exit status"));
    for status in ["3  --once and no reading came", "4  a file or stdin held bytes but no reading"] {
        assert!(help.contains(status), "--help lacks {status:?}:\n{help}");
    }
}

#[test]
fn hexdump_and_structure_show_a_new_meter() {
    let Some(dir) = corpus::dir() else { return };
    let run = |flag: &str, file: &str, extra: &[&str]| {
        let out = Command::new(BIN).arg(flag).arg("-q").args(extra).arg(dir.join(file)).output().expect("runs");
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let hd = run("--hexdump", "han/kaifa-ma304h3e-list2-01.bin", &[]);
    for want in [
        "HDLC frame, 124 bytes",
        "format     A0 79",
        "HCS        80 93",
        "LLC        E6 E7 00",
        "FCS        5A 4F",
        "=> reading: 13 objects",
    ] {
        assert!(hd.contains(want), "missing {want:?} in\n{hd}");
    }
    let st = run("--structure", "han/kaifa-ma304h3e-list2-01.bin", &[]);
    assert!(st.contains("date-time (tagged)") && st.contains("Structure(13)") && st.contains("\"KFM_001\""), "{st}");
    // Encrypted frames show their plaintext structure once deciphered.
    let enc = run(
        "--structure",
        "han/landisgyr-e450-gbt-enc-02.bin",
        &["--key", "5FDE26FE7A1A36B6E1C0BA048FA9A023", "--auth-key", "7DA42A44E00BD0AF5E1A911E3CCA64FD"],
    );
    assert!(enc.contains("data-notification") && enc.contains("OBIS 1-0:1.8.0.255"), "{enc}");
    let bad = run("--hexdump", "han/kamstrup-omnipower-no-list1-crcerr-01.bin", &[]);
    assert!(bad.contains("REJECTED (checksum)") && bad.contains("FCS"), "{bad}");
    let p1 = run("--structure", "p1/dsmr50-iskra-am550-01.txt", &[]);
    assert!(p1.contains("DSMR telegram") && p1.contains("1-0:1.8.1("), "{p1}");
    // No JSON in these modes.
    assert!(!hd.contains("\"obis\""));
}

#[test]
fn a_full_disk_for_the_logs_loses_no_reading() {
    let Some(dir) = corpus::dir() else { return };
    // /dev/full answers every write with ENOSPC, like a full disk.
    let out = Command::new(BIN)
        .args(["--raw-log", "/dev/full", "--bad-frames", "/dev/full"])
        .arg(dir.join("han/kamstrup-omnipower-no-list1-crcerr-01.bin"))
        .arg(dir.join("han/aidon-6534-list3-01.bin"))
        .output()
        .expect("runs");
    // Two inputs are not allowed: use one file of both.
    assert_eq!(out.status.code(), Some(2));
    let both: Vec<u8> = [
        std::fs::read(dir.join("han/kamstrup-omnipower-no-list1-crcerr-01.bin")).expect("capture"),
        std::fs::read(dir.join("han/aidon-6534-list3-01.bin")).expect("capture"),
    ]
    .concat();
    let tmp = std::env::temp_dir().join(format!("han-read-full-{}.bin", std::process::id()));
    std::fs::write(&tmp, both).expect("tmp written");
    let out = Command::new(BIN)
        .args(["--raw-log", "/dev/full", "--bad-frames", "/dev/full"])
        .arg(&tmp)
        .output()
        .expect("runs");
    std::fs::remove_file(&tmp).ok();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert_eq!(readings(&out.stdout).len(), 1);
    assert!(err.contains("--raw-log") && err.contains("--bad-frames"), "the failures are reported: {err}");
}

#[test]
fn keys_and_input_from_the_config_file() {
    let Some(dir) = corpus::dir() else { return };
    let tmp = std::env::temp_dir().join(format!("han-read-config-{}.toml", std::process::id()));
    let capture = dir.join("han/landisgyr-e450-gbt-enc-02.bin");
    std::fs::write(
        &tmp,
        format!(
            "[han-read]\ninput = {:?}\nkey = \"5FDE26FE7A1A36B6E1C0BA048FA9A023\"\nauth_key = \"7DA42A44E00BD0AF5E1A911E3CCA64FD\"\ntz = \"Europe/Zurich\"\n",
            capture.display().to_string()
        ),
    )
    .expect("config written");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let out = Command::new(BIN)
        .arg("--config")
        .arg(&tmp)
        .env_remove("HAN_KEY")
        .env_remove("HAN_AUTH_KEY")
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let got = readings(&out.stdout);
    assert_eq!(got.len(), 1, "{err}");
    assert_eq!(got[0]["meter_time"], "2023-11-10T10:58:50+01:00", "the zone from the config gives the offset");
    assert!(err.contains("chmod 600"), "a world-readable file with keys is warned about: {err}");
    let bad = Command::new(BIN).arg("--config").arg(dir.join("missing.toml")).output().expect("runs");
    assert_eq!(bad.status.code(), Some(2));
    std::fs::remove_file(&tmp).ok();
}

#[test]
fn the_shipped_samples_decode() {
    let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../samples"));
    let key = "000102030405060708090A0B0C0D0E0F";
    for (file, keys, want) in [
        ("aidon-no.bin", &[][..], 96),
        ("kaifa-no.bin", &[], 120),
        ("kamstrup-no.bin", &[], 25),
        ("aidon-se.bin", &[], 24),
        ("dsmr5.txt", &[], 20),
        ("dsmr4.txt", &[], 5),
        ("fluvius.txt", &[], 20),
        ("kamstrup-no-encrypted.bin", &["--key", key, "--auth-key", "101112131415161718191A1B1C1D1E1F"], 6),
        ("smarty-encrypted.bin", &["--key", key], 5),
    ] {
        let out = Command::new(BIN).args(keys).arg(dir.join(file)).output().expect("runs");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{file}: {err}");
        assert_eq!(readings(&out.stdout).len(), want, "{file}: {err}");
        assert!(err.contains("bad checksum 0, unparsed 0, other rejected 0"), "{file}: {err}");
    }
}

#[test]
fn counters_on_sigusr1() {
    let Some(dir) = corpus::dir() else { return };
    let frame = std::fs::read(dir.join("han/aidon-6534-list3-01.bin")).expect("capture");
    let mut child =
        Command::new(BIN).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("runs");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(&frame).expect("written");
    let mut line = [0u8; 1];
    let mut stdout = child.stdout.take().expect("stdout");
    stdout.read_exact(&mut line).expect("a reading came");
    // Stderr is read on a thread, so the counters can be waited for
    // rather than slept on (a loaded machine is slow to deliver them).
    let mut stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            all.extend_from_slice(&buf[..n]);
            let _ = tx.send(String::from_utf8_lossy(&all).matches("readings 1,").count());
        }
        String::from_utf8_lossy(&all).into_owned()
    });
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-USR1", &pid]).status().expect("kill runs").success());
    // Other messages may come first: wait for the counters.
    let until = std::time::Instant::now() + Duration::from_secs(20);
    let mut said = 0;
    while said == 0 {
        let left = until.saturating_duration_since(std::time::Instant::now());
        said = rx.recv_timeout(left).expect("the counters on the signal");
    }
    assert_eq!(said, 1, "once on the signal, the process still running");
    drop(stdin);
    assert!(child.wait().expect("ends").success());
    drop(stdout);
    let err = reader.join().expect("stderr read");
    // Once on the signal, once at exit.
    assert_eq!(err.matches("readings 1,").count(), 2, "{err}");
}

const SIM_KEY: &str = "30313233343536373839414243444546";
const SIM_AUTH_KEY: &str = "61757468656e7469636174696f6e2121";

/// Twelve Aidon frames encrypted and authenticated (security control 0x30)
/// by han-sim, in a file.
fn authenticated_capture(tmp: &han_testkit::Tmp) -> std::path::PathBuf {
    let path = tmp.join("aidon-0x30.bin");
    let out = Command::new(han_testkit::sibling("han-sim"))
        .args(["-m", "aidon-no", "-n", "12", "--seed", "3", "--start", "2025-01-15T09:59:50+01:00"])
        .args(["--key", SIM_KEY, "--auth-key", SIM_AUTH_KEY, "-o"])
        .arg(&path)
        .env_remove("HAN_KEY")
        .env_remove("HAN_AUTH_KEY")
        .output()
        .expect("han-sim runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    path
}

fn read_with(args: &[&str], path: &std::path::Path) -> (std::process::Output, String) {
    let out = Command::new(BIN)
        .args(args)
        .arg(path)
        .env_remove("HAN_KEY")
        .env_remove("HAN_AUTH_KEY")
        .output()
        .expect("han-read runs");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, err)
}

const UNCHECKED: &str = "han-read: warning: frames are authenticated (security control 0x30) but no authentication \
                         key was given: decrypted with the encryption key alone, their authenticity is not checked; \
                         give --auth-key to check it";

#[test]
fn only_the_encryption_key_says_once_that_authenticity_is_unchecked() {
    let tmp = han_testkit::Tmp::new("han-read", "ek-only");
    let path = authenticated_capture(&tmp);
    let (both, err) = read_with(&["--key", SIM_KEY, "--auth-key", SIM_AUTH_KEY], &path);
    assert_eq!(both.status.code(), Some(0), "{err}");
    assert!(!err.contains("warning"), "{err}");
    let want = readings(&both.stdout);
    assert_eq!(want.len(), 12);
    for quiet in [false, true] {
        let args: &[&str] = if quiet { &["--key", SIM_KEY, "-q"] } else { &["--key", SIM_KEY] };
        let (out, err) = read_with(args, &path);
        assert_eq!(out.status.code(), Some(0), "{err}");
        // The same readings (but for the time each was received).
        let strip = |mut v: Vec<Json>| {
            for r in &mut v {
                if let Some(o) = r.as_object_mut() {
                    o.remove("received");
                }
            }
            v
        };
        assert_eq!(strip(readings(&out.stdout)), strip(want.clone()));
        assert_eq!(err.lines().filter(|l| l.contains("authenticity")).count(), 2, "{err}");
        assert_eq!(err.lines().filter(|l| *l == UNCHECKED).count(), 1, "{err}");
        let counters = err.lines().find(|l| l.starts_with("han-read: readings")).expect("counters");
        assert!(counters.starts_with("han-read: readings 12, "), "{counters}");
        assert!(counters.ends_with(", authenticity not checked 12"), "{counters}");
    }
}

#[test]
fn a_wrong_encryption_key_is_its_own_error() {
    let tmp = han_testkit::Tmp::new("han-read", "wrong-key");
    let path = authenticated_capture(&tmp);
    let (out, err) = read_with(&["--key", "00112233445566778899AABBCCDDEEFF"], &path);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(out.stdout.is_empty(), "no values from a wrong key");
    assert!(err.contains("han-read: rejected (wrong-key): decryption gave no valid APDU: wrong key: 7EA"), "{err}");
    assert!(!err.contains("authenticity"), "{err}");
    let hint = err.lines().last().unwrap_or_default();
    assert!(hint.contains("12 frames or telegrams rejected (wrong-key 12)"), "{err}");
}

#[test]
fn implausible_values_are_left_out_and_said() {
    use han::encode::{Axdr, data_notification, hdlc_push};
    // An Aidon list with U L2 = 0xFFFF x 0.1 V = 6553.5 V.
    let e = |c| han::Obis::new(1, 0, c, 7, 0, 255);
    let mut a = Axdr::new();
    a.array(5);
    a.structure(2).obis(han::Obis::new(1, 1, 0, 2, 129, 255)).visible("AIDON_V0001");
    a.structure(3).obis(e(1)).u32(1150).scaler_unit(0, 27);
    a.structure(3).obis(e(31)).i16(50).scaler_unit(-1, 33);
    a.structure(3).obis(e(32)).u16(2300).scaler_unit(-1, 35);
    a.structure(3).obis(e(52)).u16(0xFFFF).scaler_unit(-1, 35);
    let frame = hdlc_push(&data_notification(0x4000_0000, None, &a.0));
    let tmp = han_testkit::Tmp::new("han-read", "implausible");
    let path = tmp.join("aidon.bin");
    std::fs::write(&path, [frame.clone(), frame].concat()).expect("written");

    let (out, err) = read_with(&[], &path);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let got = readings(&out.stdout);
    assert_eq!(got.len(), 2);
    assert_eq!((got[0]["voltage_l1_v"].as_f64(), got[0]["power_import_w"].as_f64()), (Some(230.0), Some(1150.0)));
    assert!(got[0].get("voltage_l2_v").is_none() && got[0]["obis"].get("1-0:52.7.0").is_none(), "{}", got[0]);
    let said = "han-read: implausible value left out of a reading: voltage_l2_v 6553.5 V (1-0:52.7.0) is above 1000 V";
    assert_eq!(err.lines().filter(|l| *l == said).count(), 2, "{err}");
    assert!(err.contains("(0 bytes skipped), implausible values left out 2\n"), "{err}");
    // -q: the counters still say it, the lines do not.
    let (out, err) = read_with(&["-q"], &path);
    assert_eq!(readings(&out.stdout).len(), 2);
    assert!(!err.contains(said), "{err}");
    assert!(err.contains("implausible values left out 2"), "{err}");
}
