//! What the workspace's integration tests share: a temporary directory
//! removed on drop, skipping loudly (or failing under `CI=true`), polling
//! with a deadline, a free TCP port, the files of a folder, the
//! workspace's other binaries, a time from RFC 3339 ([`at`]), running a
//! binary ([`Run`]); and in modules the corpus ([`corpus`]), a
//! socat pty pair ([`pty`]), a tmpfs ([`mount`]) and a WebDriver client for
//! the browser tests ([`webdriver`]).
//!
//! A dev-dependency only: `han-testkit = { path = "../han-testkit" }`.

pub mod corpus;
#[cfg(unix)]
pub mod mount;
#[cfg(unix)]
pub mod pty;
mod run;
#[cfg(unix)]
pub mod webdriver;

pub use run::{Run, text};

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The workspace's binaries, as scripts/install.sh and cron/han-tools name them.
pub const BINS: [&str; 10] = [
    "han-read",
    "han-log",
    "han-sim",
    "maxpower",
    "spotprices",
    "relay",
    "logcopy",
    "han-report",
    "han-bridge",
    "han-push",
];

/// A fresh temporary directory, `$TMPDIR/{prefix}-{name}-{pid}`, emptied
/// when made and removed on drop.
#[derive(Debug)]
pub struct Tmp(pub PathBuf);

impl Tmp {
    /// Makes the directory (removing what a crashed run left there).
    /// `prefix` names the crate's tests, `name` the test.
    pub fn new(prefix: &str, name: &str) -> Tmp {
        let p = std::env::temp_dir().join(format!("{prefix}-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap_or_else(|e| panic!("temp dir {}: {e}", p.display()));
        Tmp(p)
    }

    /// [`Tmp::new`] with these subdirectories made in it.
    pub fn with_dirs(prefix: &str, name: &str, dirs: &[&str]) -> Tmp {
        let t = Tmp::new(prefix, name);
        for d in dirs {
            std::fs::create_dir_all(t.0.join(d)).unwrap_or_else(|e| panic!("{d} in the temp dir: {e}"));
        }
        t
    }

    /// A path inside the directory.
    pub fn join(&self, p: &str) -> PathBuf {
        self.0.join(p)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        // Empty when the path was taken (a failed test keeping its files).
        if !self.0.as_os_str().is_empty() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Whether the tests run under CI (`CI=true` or `CI=1`), where what a
/// test needs must be there: a skip is a failure.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Writes `msg` between loud markers straight to the stderr handle (the
/// test harness captures `eprintln!` of passing tests).
pub fn loud(msg: &str) {
    let _ = std::io::stderr().write_all(format!("\n!!!!!!!! {msg} !!!!!!!!\n\n").as_bytes());
}

/// Says loudly that a test cannot run here (`why`), or panics under CI.
pub fn skip(why: &str) {
    assert!(!in_ci(), "{why} (CI=true: the test must run; scripts/test.sh installs what it needs)");
    loud(&format!("SKIPPED: {why}"));
}

/// Whether `program` runs (with `args`, output discarded); if not, [`skip`].
pub fn have(program: &str, args: &[&str]) -> bool {
    let found = Command::new(program).args(args).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok();
    if !found {
        skip(&format!("{program} is not installed (scripts/test.sh installs it)"));
    }
    found
}

/// Polls `f` until it gives `Some`, up to `deadline`; panics with `what`
/// after it. Polls often at first, then every 100 ms.
pub fn wait_until<T>(what: &str, deadline: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    wait_ok(what, deadline, || f().ok_or("not yet"))
}

/// [`wait_until`] for a check that says why it is not done: the last
/// reason is in the panic.
pub fn wait_ok<T, E: std::fmt::Display>(what: &str, deadline: Duration, mut f: impl FnMut() -> Result<T, E>) -> T {
    let start = Instant::now();
    let mut pause = Duration::from_millis(5);
    loop {
        match f() {
            Ok(t) => return t,
            Err(e) if start.elapsed() > deadline => panic!("gave up waiting for {what} after {deadline:?}; last: {e}"),
            Err(_) => std::thread::sleep(pause),
        }
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

/// A TCP port free on 127.0.0.1 (bound and let go) for a server to bind next.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

/// The names of a folder's entries, sorted (none when it cannot be read).
pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|r| r.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// The workspace binary `name` built beside the running test (in
/// `target/debug`, the parent of the test's `deps`), when it was built.
pub fn built(name: &str) -> Option<PathBuf> {
    let exe = std::env::current_exe().expect("the test's path");
    let dir = exe.parent().and_then(Path::parent).expect("the test runs from target/PROFILE/deps");
    let p = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    p.is_file().then_some(p)
}

/// [`built`], or a panic saying how to build it.
pub fn sibling(name: &str) -> PathBuf {
    built(name).unwrap_or_else(|| {
        panic!("{name} is missing: run the workspace's tests (cargo test --workspace) or cargo build -p {name}")
    })
}

/// An RFC 3339 time (any offset) as UTC; panics on a malformed one.
pub fn at(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("time {s:?}: {e}")).to_utc()
}
