//! The scripts take the binaries where cargo builds them, not a fixed
//! `target/release`: scripts/run.sh and scripts/demo.sh run with
//! `CARGO_TARGET_DIR` pointing at another folder, and start nothing (no URL)
//! when a binary is missing; install.sh takes its default `--from` there;
//! common.sh's `target_dir` says what cargo metadata says.
//!
//! The moved target dir is a fresh folder whose `release` is a symlink to
//! the real one: cargo finds everything fresh there and rebuilds nothing.
//! That the scripts took the binaries there, and not from the repository's
//! `target/release`, is seen in the command lines of the processes they
//! start.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use han_testkit::{Tmp, free_port, have, wait_until};

const REPO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
/// Long enough for a build to wait for the target dir's lock.
const BUILD: Duration = Duration::from_secs(900);

/// The target dir this test was built in (`TARGET/PROFILE/deps/THIS`).
fn real_target() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's path");
    exe.ancestors().nth(3).expect("the test runs from TARGET/PROFILE/deps").to_path_buf()
}

/// The release han-read, han-sim and han-log, built once for these tests
/// (incremental: what demo.sh builds anyway). Gives the real target dir.
fn release_built() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let target = real_target();
        let st = Command::new("cargo")
            .args(["build", "--release", "--locked", "-q", "-p", "han-read", "-p", "han-sim", "-p", "han-log"])
            .env("CARGO_TARGET_DIR", &target)
            .current_dir(REPO)
            .status()
            .expect("cargo runs");
        assert!(st.success(), "the release build failed: {st}");
        target
    })
}

/// A fresh target dir in `tmp` (with a space in its name) whose `release`
/// is the real one.
fn moved_target(tmp: &Tmp) -> PathBuf {
    let moved = tmp.join("moved target");
    std::fs::create_dir_all(&moved).expect("moved target dir");
    std::os::unix::fs::symlink(release_built().join("release"), moved.join("release")).expect("symlink");
    moved
}

/// A script in its own process group, killed with the group on drop.
struct Group(Child);

impl Group {
    fn spawn(cmd: &mut Command) -> Group {
        Group(cmd.process_group(0).spawn().expect("bash runs the script"))
    }

    fn signal(&self, sig: &str) {
        let _ = Command::new("kill").args([sig, "--", &format!("-{}", self.0.id())]).stderr(Stdio::null()).status();
    }

    fn wait(&mut self, deadline: Duration) -> ExitStatus {
        wait_until("the script to end", deadline, || self.0.try_wait().expect("try_wait"))
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.signal("-KILL");
        let _ = self.0.wait();
    }
}

/// The command lines of the processes in process group `pgid` (/proc).
fn group_commands(pgid: u32) -> Vec<String> {
    let mut v = Vec::new();
    for e in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let p = e.path();
        let Ok(stat) = std::fs::read_to_string(p.join("stat")) else { continue };
        // After the command's name in parentheses: state, ppid, pgrp.
        let pgrp = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(2)?.parse::<u32>().ok());
        if pgrp == Some(pgid) {
            if let Ok(c) = std::fs::read(p.join("cmdline")) {
                v.push(String::from_utf8_lossy(&c).replace('\0', " "));
            }
        }
    }
    v
}

/// Asserts that each of `bins` runs in the script's group as started from
/// `target`/release (its argv[0]: where the script found it; the real
/// target's release holds the same files, so this is what tells them
/// apart).
fn running_from(g: &Group, target: &Path, bins: &[&str]) {
    let cmds = group_commands(g.0.id());
    for b in bins {
        let from = format!("{}/release/{b} ", target.display());
        assert!(cmds.iter().any(|c| c.starts_with(&from)), "{b} not run as {from}: {cmds:#?}");
    }
}

/// The lines of `r`, as they come, on a channel.
fn lines(r: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits for a line of `rx` that `want` takes; every line read goes to
/// `seen`. Panics with them when the stream ends or after `deadline`.
fn wait_line(rx: &Receiver<String>, seen: &mut Vec<String>, deadline: Duration, want: impl Fn(&str) -> bool) -> String {
    let end = Instant::now() + deadline;
    loop {
        match rx.recv_timeout(end.saturating_duration_since(Instant::now())) {
            Ok(line) => {
                seen.push(line.clone());
                if want(&line) {
                    return line;
                }
            }
            Err(RecvTimeoutError::Timeout) => panic!("no such line after {deadline:?}; got:\n{}", seen.join("\n")),
            Err(RecvTimeoutError::Disconnected) => panic!("the stream ended; got:\n{}", seen.join("\n")),
        }
    }
}

/// `bash scripts/NAME ARGS` from the repository, with these variables.
fn script(name: &str, args: &[&str], env: &[(&str, &Path)]) -> Command {
    let mut c = Command::new("bash");
    c.arg(format!("{REPO}/scripts/{name}")).args(args).current_dir(REPO).stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

/// Runs `cmd` to its end (at most a minute); stdout and stderr.
fn finish(cmd: &mut Command) -> Output {
    let mut g = Group::spawn(cmd.stdout(Stdio::piped()).stderr(Stdio::piped()));
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let (o, e) = (g.0.stdout.take(), g.0.stderr.take());
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut e) = e {
            let _ = e.read_to_end(&mut buf);
        }
        buf
    });
    if let Some(mut o) = o {
        let _ = o.read_to_end(&mut out);
    }
    let status = g.wait(Duration::from_secs(60));
    err.extend(reader.join().expect("stderr reader"));
    Output { status, stdout: out, stderr: err }
}

#[test]
fn target_dir_is_what_cargo_says() {
    let tmp = Tmp::new("han-scripts", "target-dir");
    // A space and a quote: the JSON field read back as it is.
    let odd = tmp.join("a \"b\" c");
    let out = finish(
        Command::new("bash")
            .args(["-c", ". scripts/common.sh && target_dir"])
            .current_dir(REPO)
            .env("CARGO_TARGET_DIR", &odd),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{}\n", odd.display()));
}

#[test]
fn run_reads_the_simulator_from_a_moved_target_dir() {
    let tmp = Tmp::new("han-scripts", "run-sim");
    let moved = moved_target(&tmp);
    let mut g = Group::spawn(
        script("run.sh", &[], &[("CARGO_TARGET_DIR", &moved)])
            .env("HAN_SIM_METER", "kaifa-no")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let out = lines(g.0.stdout.take().expect("stdout"));
    let err = lines(g.0.stderr.take().expect("stderr"));
    // Two readings (the simulator's real cadence: one every 2 s) are enough.
    let mut seen = Vec::new();
    for _ in 0..2 {
        let line = wait_line(&out, &mut seen, BUILD, |_| true);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(v.get("received").and_then(|r| r.as_str()).is_some(), "a stream line: {line}");
    }
    running_from(&g, &moved, &["han-sim", "han-read"]);
    g.signal("-TERM");
    g.wait(Duration::from_secs(20));
    let said: Vec<String> = err.try_iter().collect();
    assert!(said.iter().any(|l| l.contains("simulating kaifa-no")), "{said:?}");
}

#[test]
fn demo_serves_the_live_page_from_a_moved_target_dir() {
    if !have("python3", &["--version"]) {
        return;
    }
    let tmp = Tmp::new("han-scripts", "demo");
    let moved = moved_target(&tmp);
    let work = tmp.join("demo");
    let port = free_port();
    let mut g = Group::spawn(
        script("demo.sh", &[], &[("CARGO_TARGET_DIR", &moved), ("HAN_DEMO_DIR", &work)])
            .env("HAN_DEMO_PORT", port.to_string())
            .env("HAN_SIM_METER", "kaifa-no")
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
    );
    let err = lines(g.0.stderr.take().expect("stderr"));
    let mut seen = Vec::new();
    let url = format!("http://127.0.0.1:{port}/");
    wait_line(&err, &mut seen, BUILD, |l| l.contains(&url));
    let current = work.join("www/data/current.json");
    wait_until("the live page's current.json", Duration::from_secs(30), || {
        std::fs::read(&current).ok().filter(|b| serde_json::from_slice::<serde_json::Value>(b).is_ok())
    });
    // The URL serves it.
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("the page's server");
    s.write_all(b"GET /data/current.json HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").expect("request");
    let mut reply = String::new();
    s.read_to_string(&mut reply).expect("reply");
    assert!(reply.starts_with("HTTP/1.0 200"), "{reply}");
    running_from(&g, &moved, &["han-sim", "han-read", "han-log"]);

    g.signal("-TERM");
    g.wait(Duration::from_secs(20));
    seen.extend(err.iter());
    let stay = format!("the logs stay in {}", work.join("log").display());
    assert!(seen.iter().any(|l| l.contains(&stay)), "{seen:?}");
    assert!(!han_testkit::names(&work.join("log")).is_empty(), "han-log logged");
}

#[test]
fn demo_and_run_start_nothing_without_the_binaries() {
    let tmp = Tmp::new("han-scripts", "missing");
    let empty = tmp.join("empty target");
    std::fs::create_dir_all(&empty).expect("empty target dir");
    let work = tmp.join("demo");
    // HAN_NO_BUILD=1: nothing is built into the empty target dir.
    let out = finish(
        script("demo.sh", &[], &[("CARGO_TARGET_DIR", &empty), ("HAN_DEMO_DIR", &work)])
            .env("HAN_NO_BUILD", "1")
            .env("HAN_DEMO_PORT", free_port().to_string())
            .env("HAN_SIM_METER", "kaifa-no"),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let want = format!("error: missing or not executable in {}/release: han-read han-sim han-log", empty.display());
    assert!(err.contains(&want), "{err}");
    assert!(!err.contains("http://") && out.stdout.is_empty(), "no URL: {err}");
    assert!(!err.contains("logs stay"), "nothing was logged: {err}");
    assert!(!work.exists(), "no demo folder made");

    let out = finish(script("run.sh", &[], &[("CARGO_TARGET_DIR", &empty)]).env("HAN_NO_BUILD", "1"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&format!("in {}/release: han-read han-sim\n", empty.display())), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn install_takes_the_binaries_from_the_target_dir() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = Tmp::new("han-scripts", "install");
    let target = tmp.join("moved target");
    let release = target.join("release");
    std::fs::create_dir_all(&release).expect("release dir");
    let bins =
        ["han-read", "han-log", "han-sim", "maxpower", "spotprices", "relay", "logcopy", "han-report", "han-bridge"];
    for b in bins {
        let p = release.join(b);
        std::fs::write(&p, format!("#!/bin/sh\necho {b}\n")).expect("binary");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let root = tmp.join("root");
    let install = || {
        finish(
            script("install.sh", &["--prefix", &root.display().to_string()], &[("CARGO_TARGET_DIR", &target)])
                .env("HAN_NO_BUILD", "1"),
        )
    };
    // han-push is missing: nothing is installed, and it is named.
    let out = install();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&format!("missing or not executable in {}: han-push\n", release.display())), "{err}");
    assert!(!root.join("usr/local/bin/han-read").exists());

    std::fs::write(release.join("han-push"), "#!/bin/sh\necho han-push\n").expect("binary");
    std::fs::set_permissions(release.join("han-push"), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let out = install();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for b in bins.iter().chain(&["han-push"]) {
        let got = std::fs::read_to_string(root.join("usr/local/bin").join(b)).expect("installed");
        assert_eq!(got, format!("#!/bin/sh\necho {b}\n"));
    }
}
