//! han-bridge on a real serial path: a pty pair made by socat. The test
//! writes han-sim's bytes into one end, han-bridge reads the other, and TCP
//! clients compare what they get with what was written: byte for byte,
//! with one client stalled, one leaving and one coming late; han-read
//! decodes the readings through it; usage errors and refusals.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use han_simulator::{Frame, List, Meter, Options, Simulator};
use han_testkit::pty::{self, Pair};
use han_testkit::{sibling, wait_ok, wait_until};

const BIN: &str = env!("CARGO_BIN_EXE_han-bridge");
/// How long any one thing may take on a loaded machine.
const DEADLINE: Duration = Duration::from_secs(20);

/// A running han-bridge and what it said on stderr.
struct Bridge {
    child: Child,
    said: Arc<Mutex<Vec<String>>>,
}

impl Bridge {
    fn start(args: &[&str]) -> Bridge {
        let mut child = Command::new(BIN)
            .env_remove("HAN_TOOLS_CONFIG")
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("han-bridge runs");
        let said = Arc::new(Mutex::new(Vec::new()));
        let (err, s) = (BufReader::new(child.stderr.take().expect("stderr")), Arc::clone(&said));
        std::thread::spawn(move || err.lines().map_while(Result::ok).for_each(|l| s.lock().expect("lines").push(l)));
        Bridge { child, said }
    }

    fn said(&self) -> String {
        self.said.lock().expect("lines").join("\n")
    }

    /// Waits for a line of stderr containing `text`; that line.
    fn wait_for(&self, text: &str) -> String {
        wait_ok(&format!("han-bridge to say {text:?}"), DEADLINE, || {
            let line = self.said.lock().expect("lines").iter().find(|l| l.contains(text)).cloned();
            line.ok_or_else(|| format!("it said:\n{}", self.said()))
        })
    }

    /// The address it listens on (`--listen 127.0.0.1:0` picks a free port).
    fn addr(&self) -> SocketAddr {
        let l = self.wait_for("listening on ");
        let a = l.split("listening on ").nth(1).and_then(|r| r.split(": ").next());
        a.and_then(|a| a.parse().ok()).unwrap_or_else(|| panic!("no address in {l:?}"))
    }

    /// Connects a client and waits until han-bridge has taken it in: every
    /// byte read from the port after this goes to it.
    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(self.addr()).expect("connects");
        let me = s.local_addr().expect("local address");
        self.wait_for(&format!("client {me} connected"));
        s
    }

    /// SIGTERM; the exit status.
    fn stop(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs");
        assert!(killed.success());
        wait_until("han-bridge to stop on SIGTERM", DEADLINE, || self.child.try_wait().expect("waits"))
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.child.kill().ok();
            self.child.wait().ok();
        }
    }
}

/// A client that reads everything it is sent, on a thread of its own.
struct Reader {
    got: Arc<Mutex<Vec<u8>>>,
    stream: TcpStream,
}

impl Reader {
    fn new(stream: TcpStream) -> Reader {
        let got = Arc::new(Mutex::new(Vec::new()));
        let (mut s, g) = (stream.try_clone().expect("clone"), Arc::clone(&got));
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            while let Ok(n @ 1..) = s.read(&mut buf) {
                g.lock().expect("bytes").extend_from_slice(&buf[..n]);
            }
        });
        Reader { got, stream }
    }

    fn len(&self) -> usize {
        self.got.lock().expect("bytes").len()
    }

    /// Waits until `n` bytes came.
    fn wait_len(&self, n: usize, who: &str, bridge: &Bridge) {
        wait_ok(&format!("client {who} to have {n} bytes"), DEADLINE, || {
            let len = self.len();
            if len >= n { Ok(()) } else { Err(format!("it has {len}; han-bridge said:\n{}", bridge.said())) }
        });
    }

    /// Waits until `want.len()` bytes came; they must be `want`.
    fn expect(&self, want: &[u8], who: &str, bridge: &Bridge) {
        self.wait_len(want.len(), who, bridge);
        let got = self.got.lock().expect("bytes");
        assert_eq!(got.len(), want.len(), "client {who}: more bytes than were written");
        assert!(*got == want, "client {who}: the bytes differ from those written");
    }
}

/// `n` frames of a simulated meter, from a fixed start.
fn frames(meter: Meter, key: Option<[u8; 16]>, n: usize) -> Vec<Frame> {
    let start: DateTime<Utc> = "2025-01-15T09:00:00Z".parse().expect("time");
    let mut o = Options::new(meter, start, 7);
    o.key = key;
    let mut sim = Simulator::new(o);
    (0..n).map(|_| sim.next_frame()).collect()
}

fn bytes(frames: &[Frame]) -> Vec<u8> {
    frames.iter().flat_map(|f| f.bytes.iter().copied()).collect()
}

/// Writes into the meter end and keeps what was written.
struct Meter2 {
    end: File,
    sent: Vec<u8>,
}

impl Meter2 {
    fn write(&mut self, b: &[u8]) {
        self.end.write_all(b).expect("written to the pty");
        self.sent.extend_from_slice(b);
    }
}

#[test]
fn every_client_gets_every_byte_and_a_stalled_one_is_dropped() {
    let Some((_tmp, pair)) = pty::line("han-bridge", "fanout", DEADLINE) else { return };
    let port = pair.port.to_str().expect("path");
    let flags = ["--baud", "2400", "--parity", "even", "--listen", "127.0.0.1:0", "--client-buffer", "64KiB", port];
    let bridge = Bridge::start(&flags);
    bridge.wait_for("at 2400 8E1");

    let a = Reader::new(bridge.connect());
    let b = Reader::new(bridge.connect());
    // Never read: its socket buffers fill, then its queue.
    let stalled = bridge.connect();
    let stalled_addr = stalled.local_addr().expect("address");

    let mut meter = Meter2 { end: pair.meter_end(), sent: Vec::new() };
    // Half the queue limit at a time, and the readers catch up in between:
    // they are never behind by more than that, however loaded the machine.
    let all = bytes(&frames(Meter::KaifaNo, None, 4000));
    let block = &all[..32 * 1024];
    let t = Instant::now();
    let dropped = format!("dropped client {stalled_addr}: stalled");
    while !bridge.said().contains(&dropped) {
        assert!(t.elapsed() < Duration::from_secs(60), "the stalled client was never dropped:\n{}", bridge.said());
        meter.write(block);
        a.wait_len(meter.sent.len(), "a", &bridge);
        b.wait_len(meter.sent.len(), "b", &bridge);
    }
    // The reading goes on after the drop.
    meter.write(block);
    a.expect(&meter.sent, "a", &bridge);
    b.expect(&meter.sent, "b", &bridge);

    // The stalled client was closed: what it holds is a start of what was written, then the end.
    stalled.set_read_timeout(Some(DEADLINE)).expect("timeout");
    let mut held = Vec::new();
    assert!((&stalled).read_to_end(&mut held).is_ok(), "the stalled client was not closed");
    assert!(held.len() < meter.sent.len() && meter.sent.starts_with(&held), "the stalled client got other bytes");

    // b leaves; a and the reading go on; han-bridge notices at its next writes.
    let left = format!("client {} left", b.stream.local_addr().expect("address"));
    b.stream.shutdown(Shutdown::Both).expect("b leaves");
    drop(b);
    let small = bytes(&frames(Meter::AidonNo, None, 20));
    let t = Instant::now();
    while !bridge.said().contains(&left) {
        assert!(t.elapsed() < DEADLINE, "b's leaving was never noticed:\n{}", bridge.said());
        meter.write(&small);
        a.expect(&meter.sent, "a", &bridge);
    }

    // c comes late: it gets exactly what is written after it came.
    let before = meter.sent.len();
    let c = Reader::new(bridge.connect());
    meter.write(&small);
    c.expect(&meter.sent[before..], "c", &bridge);
    a.expect(&meter.sent, "a", &bridge);

    let status = bridge.stop();
    assert!(status.success(), "SIGTERM ends with 0: {status:?}");
}

#[test]
fn auto_detects_an_encrypted_meter_without_its_key() {
    let Some((_tmp, pair)) = pty::line("han-bridge", "auto", DEADLINE) else { return };
    let bridge = Bridge::start(&["--listen", "127.0.0.1:0", pair.port.to_str().expect("path")]);
    bridge.wait_for("trying 2400 8E1 (--baud auto)");
    let c = Reader::new(bridge.connect());
    let key = [0x42; 16];
    let mut meter = Meter2 { end: pair.meter_end(), sent: Vec::new() };
    meter.write(&bytes(&frames(Meter::KaifaNo, Some(key), 10)));
    // No key: no reading, but the frames' checksums hold.
    let kept = bridge.wait_for("give valid frames; keeping them");
    assert!(kept.contains("2400 8E1"), "{kept}");
    assert!(!bridge.said().contains("no valid frame"), "{}", bridge.said());
    c.expect(&meter.sent, "c", &bridge);
}

#[test]
fn han_read_decodes_the_readings_through_the_bridge() {
    let Some((_tmp, pair)) = pty::line("han-bridge", "han-read", DEADLINE) else { return };
    let bridge = Bridge::start(&["--listen", "127.0.0.1:0", pair.port.to_str().expect("path")]);
    let addr = bridge.addr();
    let mut read = Command::new(sibling("han-read"))
        .env_remove("HAN_KEY")
        .env_remove("HAN_AUTH_KEY")
        .env_remove("HAN_TOOLS_CONFIG")
        .arg(format!("tcp://{addr}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("han-read runs");
    let lines = Arc::new(Mutex::new(Vec::<serde_json::Value>::new()));
    let (out, l) = (BufReader::new(read.stdout.take().expect("stdout")), Arc::clone(&lines));
    std::thread::spawn(move || {
        for line in out.lines().map_while(Result::ok) {
            l.lock().expect("lines").push(serde_json::from_str(&line).expect("a JSON line"));
        }
    });
    bridge.wait_for("connected (1 of at most 16)");

    let sent = frames(Meter::KaifaNo, None, 30);
    let mut meter = pair.meter_end();
    for f in &sent {
        meter.write_all(&f.bytes).expect("written");
    }
    wait_until("30 readings from han-read", DEADLINE, || {
        (lines.lock().expect("lines").len() >= sent.len()).then_some(())
    });
    std::thread::sleep(Duration::from_millis(200));
    let got = lines.lock().expect("lines").clone();
    read.kill().ok();
    read.wait().ok();
    assert_eq!(got.len(), sent.len(), "one reading per frame");
    for (r, f) in got.iter().zip(&sent) {
        // An hourly list is stamped with its hour, the others when sent.
        if f.list != List::List3 {
            assert_eq!(r["meter_time"].as_str(), Some(&*f.local.format("%FT%T").to_string()), "{r}");
        }
        assert_eq!(r["power_import_w"].as_f64(), Some(f64::from(f.sample.import_w())), "{r}");
    }
    assert_eq!(got[0]["manufacturer"], "Kaifa");
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN).env_remove("HAN_TOOLS_CONFIG").args(args).output().expect("han-bridge runs")
}

#[test]
fn usage_errors_and_a_missing_device() {
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no device"), "{out:?}");

    let out = run(&["/dev/han-bridge-test-no-such-tty"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("cannot open /dev/han-bridge-test-no-such-tty"), "{err}");

    for bad in [
        &["--baud", "fast", "/dev/ttyS0"][..],
        &["--parity", "even", "/dev/ttyS0"],
        &["--client-buffer", "0", "/dev/ttyS0"],
        &["--max-clients", "0", "/dev/ttyS0"],
        &["--config", "/nonexistent/han-tools.toml", "/dev/ttyS0"],
    ] {
        let out = run(bad);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", String::from_utf8_lossy(&out.stderr));
    }

    let out = run(&["--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && help.contains("Examples:") && help.contains("Exit status"), "{help}");
}

#[test]
fn more_than_max_clients_are_refused() {
    let Some((tmp, pair)) = pty::line("han-bridge", "max", DEADLINE) else { return };
    // The device and the address from the config file.
    let config = tmp.0.join("config.toml");
    let text = format!("[han-bridge]\ndevice = {:?}\nlisten = \"127.0.0.1:0\"\nmax_clients = 1\n", pair.port);
    std::fs::write(&config, text).expect("config");
    let bridge = Bridge::start(&["--baud", "115200", "--config", config.to_str().expect("path")]);
    let first = Reader::new(bridge.connect());
    let mut second = TcpStream::connect(bridge.addr()).expect("connects");
    let me = second.local_addr().expect("address");
    bridge.wait_for(&format!("refused client {me}: already 1 clients"));
    second.set_read_timeout(Some(DEADLINE)).expect("timeout");
    let mut rest = Vec::new();
    assert!(second.read_to_end(&mut rest).is_ok_and(|n| n == 0), "the refused client is closed at once");

    // The first still gets everything.
    let mut meter = Meter2 { end: pair.meter_end(), sent: Vec::new() };
    meter.write(&bytes(&frames(Meter::Dsmr5, None, 5)));
    first.expect(&meter.sent, "first", &bridge);

    // The first hangs up while no bytes flow: its place is free again
    // without waiting for the next bytes.
    let gone = first.stream.local_addr().expect("address");
    first.stream.shutdown(std::net::Shutdown::Both).expect("hung up");
    bridge.wait_for(&format!("client {gone} left"));
    let third = TcpStream::connect(bridge.addr()).expect("connects");
    let me = third.local_addr().expect("address");
    bridge.wait_for(&format!("client {me} connected (1 of at most 1)"));
    assert!(bridge.stop().success());
}

#[test]
fn clients_stay_while_the_port_is_unplugged_and_back() {
    let Some((tmp, pair)) = pty::line("han-bridge", "replug", DEADLINE) else { return };
    let port = pair.port.to_str().expect("path").to_owned();
    let bridge = Bridge::start(&["--baud", "115200", "--listen", "127.0.0.1:0", &port]);
    let c = Reader::new(bridge.connect());
    let telegrams = bytes(&frames(Meter::Dsmr5, None, 6));
    let (first, second) = telegrams.split_at(telegrams.len() / 2);
    let mut sent = Vec::new();
    {
        let mut meter = Meter2 { end: pair.meter_end(), sent: Vec::new() };
        meter.write(first);
        c.expect(&meter.sent, "c", &bridge);
        sent.extend_from_slice(&meter.sent);
    }
    // The adapter is unplugged, and plugged in again: the port reopens, the client stays.
    drop(pair);
    bridge.wait_for("reopening");
    let pair = Pair::start(tmp.path(), DEADLINE);
    let opened = || bridge.said.lock().expect("lines").iter().filter(|l| l.contains(&format!("opened {port}"))).count();
    wait_until("the port reopened", DEADLINE, || (opened() >= 2).then_some(()));
    let mut meter = Meter2 { end: pair.meter_end(), sent: Vec::new() };
    meter.write(second);
    sent.extend_from_slice(&meter.sent);
    c.expect(&sent, "c", &bridge);
}
