//! The han-sim binary: deterministic output, piping into han-read, usage
//! errors, a closed pipe, pacing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::decode_all;
use han::Config;
use han_testkit::Run;

fn sim() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_han-sim"));
    c.env_remove("HAN_KEY").env_remove("HAN_AUTH_KEY");
    c
}

fn run(args: &[&str]) -> Output {
    sim().args(args).output().unwrap()
}

const DSMR5: &[&str] = &["--meter", "dsmr5", "--count", "5", "--seed", "1", "--start", "2025-01-15T10:00:00+01:00"];

#[test]
fn same_seed_and_start_same_bytes() {
    let (a, b) = (run(DSMR5), run(DSMR5));
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    assert!(!a.stdout.is_empty());
    assert_eq!(a.stdout, b.stdout);
    // Without --start the clock starts now, but the seed still fixes the meter.
    let (c, d) = (run(&DSMR5[..6]), run(&DSMR5[..6]));
    let id =
        |o: &Output| String::from_utf8_lossy(&o.stdout).lines().find(|l| l.starts_with("0-0:96.1.1")).map(String::from);
    assert!(id(&c).is_some());
    assert_eq!(id(&c), id(&d));
    let readings = decode_all(&c.stdout, Config::default());
    assert_eq!(readings.len(), 5);
}

#[test]
fn pipes_into_han_read() {
    let out = run(DSMR5);
    // Always: the library decodes it to five readings, one second apart.
    let readings = decode_all(&out.stdout, Config::default());
    assert_eq!(readings.len(), 5);
    let times: Vec<String> = readings.iter().map(|r| r.meter_time.unwrap().to_string()).collect();
    assert_eq!(times[0], "2025-01-15T10:00:00+01:00");
    assert_eq!(times[4], "2025-01-15T10:00:04+01:00");
    let Some(bin) = han_testkit::built("han-read") else {
        eprintln!("han-read is not built beside han-sim: skipping the pipe check (the library decode passed)");
        return;
    };
    let res = Run::new(bin).env_remove("HAN_KEY").env_remove("HAN_AUTH_KEY").stdin(Some(&out.stdout)).output();
    assert!(res.status.success(), "{}", String::from_utf8_lossy(&res.stderr));
    let lines: Vec<serde_json::Value> =
        String::from_utf8(res.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 5);
    for (l, r) in lines.iter().zip(&readings) {
        assert_eq!(l["protocol"], "p1");
        assert_eq!(l["list"], "50");
        assert_eq!(l["power_import_w"].as_f64(), r.quantities.power_import_w);
        assert_eq!(l["meter_time"].as_str().unwrap(), r.meter_time.unwrap().to_string());
    }
}

#[test]
fn every_meter_runs_and_encrypts() {
    for m in ["aidon-no", "kaifa-no", "kamstrup-no", "aidon-se", "dsmr5", "dsmr4", "fluvius"] {
        let o = run(&["--meter", m, "--count", "20", "--seed", "3", "--start", "2025-01-15T10:59:30+01:00"]);
        assert!(o.status.success(), "{m}");
        assert_eq!(decode_all(&o.stdout, Config::default()).len(), 20, "{m}");
        let key = "000102030405060708090A0B0C0D0E0F";
        let o = run(&["--meter", m, "--count", "20", "--seed", "3", "--key", key]);
        assert!(o.status.success(), "{m}");
        let cfg = Config { key: Some(std::array::from_fn(|i| i as u8)), ..Config::default() };
        let r = decode_all(&o.stdout, cfg);
        assert_eq!(r.len(), 20, "{m}");
        assert!(r.iter().all(|r| r.encrypted), "{m}");
    }
}

#[test]
fn duration_and_output_file() {
    let dir = std::env::temp_dir().join(format!("han-sim-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("out.bin");
    let o = run(&[
        "--meter",
        "aidon-se",
        "--duration",
        "1m",
        "--start",
        "2025-01-15T10:00:00+01:00",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    assert!(o.stdout.is_empty());
    let bytes = std::fs::read(&file).unwrap();
    assert_eq!(decode_all(&bytes, Config::default()).len(), 6, "10:00:00 to 10:00:50");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_usage_exits_2_with_a_message() {
    let cases: &[(&[&str], &str)] = &[
        (&["--meter", "landis"], "unknown meter"),
        (&["--meter", "dsmr5", "--duration", "7x"], "unknown unit"),
        (&["--meter", "dsmr5", "--start", "yesterday"], "RFC 3339"),
        (&["--meter", "dsmr5", "--key", "0011"], "32 hex digits"),
        (&["--meter", "dsmr5", "--auth-key", "000102030405060708090A0B0C0D0E0F"], "--key"),
        (&["--meter", "dsmr5", "--count", "1", "--duration", "1h"], "cannot be used with"),
        (&["--meter", "dsmr5", "--profile", "/nonexistent/watts.txt"], "--profile"),
    ];
    for (args, msg) in cases {
        let o = run(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(msg), "{args:?}: {err}");
        assert!(o.stdout.is_empty());
    }
}

#[test]
fn without_meter_it_is_a_kaifa_and_says_so() {
    let o = run(&["--count", "6", "--seed", "1", "--start", "2025-01-15T10:00:00+01:00"]);
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        err,
        "han-sim: no --meter given: simulating kaifa-no (Kaifa MA304H3E, Norway); --help lists the others\n"
    );
    let named = run(&["--meter", "kaifa-no", "--count", "6", "--seed", "1", "--start", "2025-01-15T10:00:00+01:00"]);
    assert_eq!(o.stdout, named.stdout, "the same bytes as --meter kaifa-no");
    assert!(named.stderr.is_empty(), "nothing said when the meter is named");
    let r = decode_all(&o.stdout, Config::default());
    assert_eq!(r.len(), 6);
    assert_eq!(r[0].meter_model.as_deref(), Some("MA304H3E"));
}

#[test]
fn help_has_examples() {
    let o = run(&["--help"]);
    assert!(o.status.success());
    let h = String::from_utf8_lossy(&o.stdout);
    for s in ["Examples:", "--realtime", "han-read", "kamstrup-no", "fluvius", "Europe/Oslo", "Default: kaifa-no"] {
        assert!(h.contains(s), "--help lacks {s}");
    }
}

#[test]
fn closed_pipe_ends_quietly() {
    let mut child =
        sim().args(["--meter", "dsmr5", "--seed", "1"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut buf = [0u8; 4096];
    child.stdout.as_mut().unwrap().read_exact(&mut buf).unwrap();
    drop(child.stdout.take());
    let t = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if t.elapsed() > Duration::from_secs(20) {
            child.kill().unwrap();
            panic!("han-sim kept running after its reader went away");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(err.is_empty(), "{err}");
}

#[test]
fn realtime_keeps_the_meter_pace() {
    let t = Instant::now();
    let o = run(&["--meter", "dsmr5", "--count", "3", "--realtime", "--seed", "1"]);
    let took = t.elapsed();
    assert!(o.status.success());
    assert_eq!(decode_all(&o.stdout, Config::default()).len(), 3);
    // The first telegram at the next whole second, then one a second.
    assert!(took >= Duration::from_millis(1900) && took < Duration::from_secs(6), "{took:?}");
}
