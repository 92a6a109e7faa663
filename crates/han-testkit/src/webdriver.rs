//! A minimal W3C WebDriver client (chromedriver) over `ureq`, and a guard
//! for the processes and the temp folder of a browser test.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

use crate::{Tmp, free_port, names, wait_ok};

/// The key of a WebDriver element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Owns everything a browser test starts: ends the browser session, kills
/// the processes and removes the temp folder on every exit path. A failing
/// run keeps the folder (with `failure.png` and the logs) and says where.
#[derive(Debug)]
pub struct Guard {
    name: &'static str,
    pub dir: Tmp,
    pub children: Vec<Child>,
    /// Process groups to kill (chromedriver's, which holds Chromium).
    pub groups: Vec<u32>,
    pub driver: Option<Driver>,
}

impl Guard {
    /// A guard with a fresh temp folder ([`Tmp::new`] of `prefix` and
    /// `name`); `name` labels the failure note too.
    pub fn new(prefix: &str, name: &'static str) -> Guard {
        Guard { name, dir: Tmp::new(prefix, name), children: Vec::new(), groups: Vec::new(), driver: None }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let failed = std::thread::panicking();
        if let Some(d) = self.driver.take() {
            if failed {
                if let Ok(png) = d.try_screenshot() {
                    let _ = std::fs::write(self.dir.join("failure.png"), png);
                }
            }
            let _ = call(d.port, "DELETE", &format!("/session/{}", d.session), None);
        }
        let kill = |signal: &str, pgid: u32| {
            let status = Command::new("kill")
                .args([signal, "--", &format!("-{pgid}")])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            status.is_ok_and(|s| s.success())
        };
        for &pgid in &self.groups {
            kill("-KILL", pgid);
        }
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        // Chromium's processes are gone (reaped by init) within moments.
        let t = Instant::now();
        while self.groups.iter().any(|&pgid| kill("-0", pgid)) && t.elapsed() < Duration::from_secs(3) {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = std::fs::remove_dir_all(self.dir.join("chrome-profile"));
        if failed {
            // Taking the path leaves `Tmp` nothing to remove.
            let kept: PathBuf = std::mem::take(&mut self.dir.0);
            eprintln!("{}: failed; kept {} ({})", self.name, kept.display(), names(&kept).join(", "));
        }
    }
}

/// A WebDriver session.
#[derive(Debug)]
pub struct Driver {
    port: u16,
    session: String,
}

impl Driver {
    /// Opens a session with `caps` on the WebDriver server at `port`.
    pub fn start(port: u16, caps: &Value) -> Driver {
        let session = call(port, "POST", "/session", Some(caps)).unwrap_or_else(|e| panic!("new session: {e}"));
        let id = session["sessionId"].as_str().unwrap_or_else(|| panic!("no sessionId in {session}"));
        Driver { port, session: id.to_string() }
    }

    fn cmd(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
        call(self.port, method, &format!("/session/{}{path}", self.session), body)
    }

    fn must(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        self.cmd(method, path, body).unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"))
    }

    pub fn navigate(&self, url: &str) {
        self.must("POST", "/url", Some(&json!({ "url": url })));
    }

    fn find(&self, css: &str) -> Result<String, String> {
        let v = self.cmd("POST", "/element", Some(&json!({"using": "css selector", "value": css})))?;
        v[ELEMENT].as_str().map(str::to_string).ok_or_else(|| format!("no element reference in {v}"))
    }

    pub fn try_text(&self, css: &str) -> Result<String, String> {
        let id = self.find(css)?;
        let v = self.cmd("GET", &format!("/element/{id}/text"), None)?;
        v.as_str().map(str::to_string).ok_or_else(|| format!("text of {css} is {v}"))
    }

    pub fn text(&self, css: &str) -> String {
        self.try_text(css).unwrap_or_else(|e| panic!("text of {css}: {e}"))
    }

    pub fn try_displayed(&self, css: &str) -> Result<bool, String> {
        let id = self.find(css)?;
        let v = self.cmd("GET", &format!("/element/{id}/displayed"), None)?;
        v.as_bool().ok_or_else(|| format!("displayed of {css} is {v}"))
    }

    pub fn displayed(&self, css: &str) -> bool {
        self.try_displayed(css).unwrap_or_else(|e| panic!("displayed of {css}: {e}"))
    }

    pub fn script(&self, js: &str) -> Value {
        self.must("POST", "/execute/sync", Some(&json!({"script": js, "args": []})))
    }

    pub fn try_screenshot(&self) -> Result<Vec<u8>, String> {
        let v = self.cmd("GET", "/screenshot", None)?;
        let b64 = v.as_str().ok_or_else(|| format!("screenshot is {v}"))?;
        base64::engine::general_purpose::STANDARD.decode(b64).map_err(|e| e.to_string())
    }

    pub fn screenshot(&self) -> Vec<u8> {
        self.try_screenshot().unwrap_or_else(|e| panic!("screenshot: {e}"))
    }

    /// Polls (the page refreshes itself every 2 s) until the text matches.
    pub fn wait_text_matches(&self, css: &str, ok: impl Fn(&str) -> bool) {
        wait_ok(css, Duration::from_secs(10), || match self.try_text(css) {
            Ok(t) if ok(&t) => Ok(()),
            other => Err(format!("{other:?}")),
        });
    }

    pub fn wait_text(&self, css: &str, want: &str) {
        wait_ok(&format!("{css} to read {want:?}"), Duration::from_secs(10), || match self.try_text(css) {
            Ok(t) if t == want => Ok(()),
            other => Err(format!("{other:?}")),
        });
    }

    pub fn wait_displayed(&self, css: &str, want: bool) {
        let what = format!("{css} {}", if want { "shown" } else { "hidden" });
        wait_ok(&what, Duration::from_secs(10), || match self.try_displayed(css) {
            Ok(d) if d == want => Ok(()),
            other => Err(format!("{other:?}")),
        });
    }
}

/// A WebDriver command: the `value` of its JSON answer, or the error it reports.
pub fn call(port: u16, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
    let body = body.map(Value::to_string).unwrap_or_default();
    let (status, bytes) = request(port, method, path, body.as_bytes()).map_err(|e| e.to_string())?;
    let v: Value = serde_json::from_slice(&bytes)
        .map_err(|e| format!("HTTP {status}, not JSON ({e}): {}", String::from_utf8_lossy(&bytes)))?;
    let value = v.get("value").cloned().unwrap_or(Value::Null);
    if status == 200 { Ok(value) } else { Err(format!("HTTP {status}: {value}")) }
}

/// One HTTP request to 127.0.0.1:`port` through `ureq`: status and body,
/// whatever the status (WebDriver's errors are JSON bodies of a 4xx or 5xx).
pub fn request(port: u16, method: &str, path: &str, body: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
    let agent = ureq::AgentBuilder::new().timeout_read(Duration::from_secs(60)).build();
    let req = agent
        .request(method, &format!("http://127.0.0.1:{port}{path}"))
        .set("Content-Type", "application/json; charset=utf-8");
    let resp = match req.send_bytes(body) {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(ureq::Error::Transport(t)) => return Err(std::io::Error::other(t.to_string())),
    };
    let status = resp.status();
    let mut bytes = Vec::new();
    resp.into_reader().read_to_end(&mut bytes)?;
    Ok((status, bytes))
}

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Whether Chromium, chromedriver and python3 are there. Without them a
/// page test says SKIPPED loudly, or fails with `CI=true`.
pub fn browser_tools(page: &str) -> bool {
    let mut missing: Vec<&str> =
        [CHROMIUM, CHROMEDRIVER].into_iter().filter(|p| !std::path::Path::new(p).exists()).collect();
    let python = Command::new("python3").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status();
    if !python.is_ok_and(|s| s.success()) {
        missing.push("python3");
    }
    if missing.is_empty() {
        return true;
    }
    let msg =
        format!("{} missing (scripts/test.sh installs them): {page} was not tested in a browser", missing.join(", "));
    crate::skip(&msg);
    false
}

/// `python3 -m http.server` serving `dir`, as any web server would, its
/// log in the guard's folder (`http.log`); its port, once `probe` answers 200.
pub fn serve_static(guard: &mut Guard, dir: &std::path::Path, probe: &str) -> u16 {
    let port = free_port();
    let log = std::fs::File::create(guard.dir.join("http.log")).expect("http.log");
    let python = Command::new("python3")
        .args(["-m", "http.server", "--bind", "127.0.0.1", &port.to_string(), "--directory"])
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("python3 -m http.server starts");
    guard.children.push(python);
    wait_ok("the static server", Duration::from_secs(15), || match request(port, "GET", probe, b"") {
        Ok((200, _)) => Ok(()),
        other => Err(format!("{other:?}")),
    });
    port
}

/// chromedriver (its log in the guard's folder, `chromedriver.log`) and
/// headless Chromium the size of a phone; the session is put in
/// `guard.driver`.
pub fn phone_browser(guard: &mut Guard, (w, h): (u32, u32)) {
    use std::os::unix::process::CommandExt;
    let port = free_port();
    let chromedriver = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .arg(format!("--log-path={}", guard.dir.join("chromedriver.log").display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0) // Chromium runs in it too: the guard kills the whole group.
        .spawn()
        .expect("chromedriver starts");
    guard.groups.push(chromedriver.id());
    guard.children.push(chromedriver);
    wait_ok("chromedriver", Duration::from_secs(20), || match call(port, "GET", "/status", None) {
        Ok(v) if v["ready"] == json!(true) => Ok(()),
        other => Err(format!("{other:?}")),
    });
    let profile = guard.dir.join("chrome-profile");
    let caps = json!({"capabilities": {"alwaysMatch": {
        "browserName": "chrome",
        "goog:chromeOptions": {"binary": CHROMIUM, "args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            format!("--window-size={w},{h}"), "--lang=en-US",
            format!("--user-data-dir={}", profile.display()),
        ],
        // Chrome keeps a desktop window at least 500 px wide: emulate a phone's viewport.
        "mobileEmulation": {"deviceMetrics": {"width": w, "height": h, "pixelRatio": 1.0}}},
    }}});
    guard.driver = Some(Driver::start(port, &caps));
}
