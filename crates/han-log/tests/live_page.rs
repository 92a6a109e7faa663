//! The live page (`www/index.html`, `live.js`, `style.css`) in a real browser:
//! Debian's Chromium driven by chromedriver over plain W3C WebDriver (a small
//! HTTP/1.1 client below), the page served by `python3 -m http.server` from a
//! temp folder under a sub-path. The test writes `data/current.json` and
//! `data/today.json` as han-log does (temp file + rename) and checks what the
//! page shows: the values, that a new file is picked up without reloading,
//! that a short list keeps the full list's values, the stale banner (old
//! reading, missing file), the chart, and a missing `today.json`.
//!
//! `HAN_UPDATE_SCREENSHOT=1` also writes the fresh page to `docs/live-page.png`.
//! Without chromium, chromedriver or python3 the test says SKIPPED loudly;
//! with `CI=true` it fails instead.

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const WWW: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../www/");
const SCREENSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/live-page.png");
/// The files han-log writes into the www folder besides its data.
const PAGE_FILES: &[&str] = &["index.html", "live.js", "style.css"];
/// The sub-path the page is served under: it must work anywhere.
const SUB: &str = "han";
const METER_ID: &str = "6970631401234567";
/// The viewport, CSS pixels: a common phone.
const PHONE: (u32, u32) = (390, 844);
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

#[test]
fn live_page_in_chromium() {
    if !tools_present() {
        return;
    }
    let started = Instant::now();
    let mut guard = Guard::new();
    let site = guard.dir.join("site");
    let www = site.join(SUB);
    fs::create_dir_all(www.join("data")).unwrap();
    for f in PAGE_FILES {
        fs::copy(format!("{WWW}{f}"), www.join(f)).unwrap_or_else(|e| panic!("copy www/{f}: {e}"));
    }
    let html = fs::read_to_string(www.join("index.html")).unwrap();
    assert!(html.lines().take(5).any(|l| l.contains("<!-- written by han-log -->")), "index.html lacks its marker");
    for link in
        ["<noscript>", "href=\"prices.html\"", "href=\"peaks.html\"", "href=\"relays.html\"", "href=\"report.html\""]
    {
        assert!(html.contains(link), "index.html lacks {link}");
    }
    for f in PAGE_FILES {
        let text = fs::read_to_string(www.join(f)).unwrap();
        assert!(text.lines().take(3).any(|l| l.contains("written by han-log")), "www/{f} lacks the han-log mark");
    }

    // The data han-log would write.
    let now = now_ms();
    let (today, today_import, today_export) = today_json(now);
    write_atomic(&www.join("data/today.json"), &today);
    let current = www.join("data/current.json");

    // A static server and a browser.
    let http_port = free_port();
    let http_log = fs::File::create(guard.dir.join("http.log")).unwrap();
    let python = Command::new("python3")
        .args(["-m", "http.server", "--bind", "127.0.0.1", &http_port.to_string(), "--directory"])
        .arg(&site)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(http_log)
        .spawn()
        .expect("python3 -m http.server starts");
    guard.children.push(python);
    wait_for("the static server", Duration::from_secs(15), || {
        match request(http_port, "GET", &format!("/{SUB}/index.html"), b"") {
            Ok((200, _)) => Ok(()),
            other => Err(format!("{other:?}")),
        }
    });

    let wd_port = free_port();
    let chromedriver = Command::new(CHROMEDRIVER)
        .arg(format!("--port={wd_port}"))
        .arg(format!("--log-path={}", guard.dir.join("chromedriver.log").display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0) // Chromium runs in it too: the guard kills the whole group.
        .spawn()
        .expect("chromedriver starts");
    guard.groups.push(chromedriver.id());
    guard.children.push(chromedriver);
    wait_for("chromedriver", Duration::from_secs(20), || match call(wd_port, "GET", "/status", None) {
        Ok(v) if v["ready"] == json!(true) => Ok(()),
        other => Err(format!("{other:?}")),
    });
    let profile = guard.dir.join("chrome-profile");
    let caps = json!({"capabilities": {"alwaysMatch": {
        "browserName": "chrome",
        "goog:chromeOptions": {"binary": CHROMIUM, "args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            format!("--window-size={},{}", PHONE.0, PHONE.1), "--lang=en-US",
            format!("--user-data-dir={}", profile.display()),
        ],
        // Chrome keeps a desktop window at least 500 px wide: emulate a phone's viewport.
        "mobileEmulation": {"deviceMetrics": {"width": PHONE.0, "height": PHONE.1, "pixelRatio": 1.0}}},
    }}});
    let session = call(wd_port, "POST", "/session", Some(&caps)).unwrap_or_else(|e| panic!("new session: {e}"));
    let id = session["sessionId"].as_str().unwrap_or_else(|| panic!("no sessionId in {session}")).to_string();
    guard.driver = Some(Driver { port: wd_port, session: id });
    let d = guard.driver.as_ref().unwrap();
    let startup = started.elapsed();

    // 1. Fresh full list: the values of current.json and today.json.
    let now = now_ms();
    write_atomic(&current, &full_list(now, 4027.0, 0.0, 233.0));
    d.navigate(&format!("http://127.0.0.1:{http_port}/{SUB}/"));
    d.wait_text("#power-import", "4.03 kW");
    d.wait_text("#voltage-l1", "233.0 V");
    assert_eq!(d.text("#voltage-l3"), "231.1 V");
    assert_eq!(d.text("#current-l3"), "9.80 A");
    assert_eq!(d.text("#power-l3"), "2.11 kW");
    assert_eq!(d.text("#power-export"), "0 W");
    assert_eq!(d.text("#meter-id"), METER_ID);
    assert!(d.text("#meter-time").starts_with(&local_stamp(now.div_euclid(1000))[..10]), "meter time");
    assert_eq!(d.text("#energy-import-meter"), "109,552.3 kWh");
    d.wait_text_matches("#energy-import-today", |t| close_kwh(t, today_import));
    assert!(close_kwh(&d.text("#energy-export-today"), today_export));
    let last = d.text("#last-reading");
    assert!(last.contains(" s ago"), "last reading: {last:?}");
    assert!(!d.displayed("#stale"), "stale banner shown on a fresh reading");
    let chart = d.script(
        "const s = document.getElementById('chart');
         return {paths: s.querySelectorAll('path').length,
                 strokes: Array.from(s.querySelectorAll('path')).map(p => (p.getAttribute('d').match(/M/g) || []).length),
                 texts: s.querySelectorAll('text').length,
                 width: s.getBoundingClientRect().width, height: s.getBoundingClientRect().height};",
    );
    assert_eq!(chart["paths"], json!(2), "an import and an export path: {chart}");
    let strokes: u64 = chart["strokes"].as_array().unwrap().iter().map(|n| n.as_u64().unwrap()).sum();
    assert!(strokes > 100, "the chart drew {strokes} minutes: {chart}");
    assert!(chart["texts"].as_u64().unwrap() >= 8, "hour labels: {chart}");
    assert!(chart["height"].as_f64().unwrap() > 100.0, "chart height: {chart}");

    // Still fresh a few polls later; the screenshot of the fresh page.
    std::thread::sleep(Duration::from_millis(2500));
    assert!(!d.displayed("#stale"), "stale banner shown on a fresh reading");
    let png = d.screenshot();
    assert!(png.starts_with(b"\x89PNG"), "screenshot is not a PNG");
    fs::write(guard.dir.join("live-page.png"), &png).unwrap();
    if std::env::var("HAN_UPDATE_SCREENSHOT").is_ok_and(|v| v == "1") {
        fs::write(SCREENSHOT, &png).unwrap();
        eprintln!("live_page: wrote {SCREENSHOT}");
    }

    // 2. A new file is picked up without reloading; a short list (power
    // only, as Norwegian meters send every 2 s) keeps the full list's values.
    d.script("window.hanNotReloaded = true; return null;");
    write_atomic(&current, &short_list(now_ms(), 1234.0));
    d.wait_text("#power-import", "1.23 kW");
    assert_eq!(d.text("#voltage-l1"), "233.0 V", "a short list blanked the voltage");
    assert_eq!(d.text("#current-l3"), "9.80 A", "a short list blanked the current");
    assert_eq!(d.text("#power-export"), "0 W");
    assert_eq!(d.text("#meter-id"), METER_ID);
    write_atomic(&current, &full_list(now_ms(), 0.0, 850.0, 229.5));
    d.wait_text("#voltage-l1", "229.5 V");
    assert_eq!(d.text("#power-export"), "850 W");
    assert_eq!(d.text("#power-import"), "0 W");
    assert_eq!(d.script("return window.hanNotReloaded === true;"), json!(true), "the page reloaded");

    // 3. An old reading: the banner shows, and goes when readings come again.
    write_atomic(&current, &full_list(now_ms() - 60_000, 0.0, 850.0, 229.5));
    d.wait_displayed("#stale", true);
    let banner = d.text("#stale");
    assert!(banner.contains("No new reading"), "banner: {banner:?}");
    assert!(d.text("#last-reading").contains("s ago"));
    write_atomic(&current, &full_list(now_ms(), 0.0, 850.0, 229.5));
    d.wait_displayed("#stale", false);

    // 4. current.json cannot be fetched: the banner says so, the values stay.
    fs::remove_file(&current).unwrap();
    d.wait_displayed("#stale", true);
    let banner = d.text("#stale");
    assert!(banner.contains("Cannot read data/current.json"), "banner: {banner:?}");
    assert_eq!(d.text("#power-export"), "850 W");
    assert_eq!(d.script("return window.hanNotReloaded === true;"), json!(true), "the page reloaded");

    // 5. No today.json (han-log just started): the live values still work.
    fs::remove_file(www.join("data/today.json")).unwrap();
    write_atomic(&current, &full_list(now_ms(), 512.0, 0.0, 230.2));
    d.navigate(&format!("http://127.0.0.1:{http_port}/{SUB}/index.html"));
    d.wait_text("#power-import", "512 W");
    d.wait_text_matches("#chart-note", |t| t.contains("today.json"));
    assert_eq!(d.text("#energy-import-today"), "–");
    assert!(!d.displayed("#stale"));

    eprintln!("live_page: browser ready after {startup:?}, all checks after {:?}", started.elapsed());
}

/// Chromium, chromedriver and python3 are there; if not: SKIPPED, or a failure in CI.
fn tools_present() -> bool {
    let mut missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER].into_iter().filter(|p| !Path::new(p).exists()).collect();
    let python = Command::new("python3").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status();
    if !python.is_ok_and(|s| s.success()) {
        missing.push("python3");
    }
    if missing.is_empty() {
        return true;
    }
    let msg = format!(
        "{} missing (apt-get install chromium chromium-driver python3; scripts/test.sh installs them): \
         the live page was not tested in a browser",
        missing.join(", ")
    );
    if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
        panic!("{msg}");
    }
    eprintln!("\n!!!!!!!! SKIPPED: {msg} !!!!!!!!\n");
    false
}

/// Owns everything the test starts: ends the browser session, kills the
/// processes and removes the temp folder on every exit path. A failing run
/// keeps the folder (with `failure.png` and the logs) and says where.
struct Guard {
    dir: PathBuf,
    children: Vec<Child>,
    /// Process groups to kill (chromedriver's, which holds Chromium).
    groups: Vec<u32>,
    driver: Option<Driver>,
}

impl Guard {
    fn new() -> Guard {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
        let dir = std::env::temp_dir().join(format!("han-live-page-{}-{nanos}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        Guard { dir, children: Vec::new(), groups: Vec::new(), driver: None }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let failed = std::thread::panicking();
        if let Some(d) = self.driver.take() {
            if failed {
                if let Ok(png) = d.try_screenshot() {
                    let _ = fs::write(self.dir.join("failure.png"), png);
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
        let _ = fs::remove_dir_all(self.dir.join("chrome-profile"));
        if failed {
            eprintln!(
                "live_page: failed; kept {} (failure.png, chromedriver.log, http.log, site/)",
                self.dir.display()
            );
        } else {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// A WebDriver session.
#[derive(Debug)]
struct Driver {
    port: u16,
    session: String,
}

impl Driver {
    fn cmd(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
        call(self.port, method, &format!("/session/{}{path}", self.session), body)
    }

    fn must(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        self.cmd(method, path, body).unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"))
    }

    fn navigate(&self, url: &str) {
        self.must("POST", "/url", Some(&json!({ "url": url })));
    }

    fn find(&self, css: &str) -> Result<String, String> {
        let v = self.cmd("POST", "/element", Some(&json!({"using": "css selector", "value": css})))?;
        v[ELEMENT].as_str().map(str::to_string).ok_or_else(|| format!("no element reference in {v}"))
    }

    fn try_text(&self, css: &str) -> Result<String, String> {
        let id = self.find(css)?;
        let v = self.cmd("GET", &format!("/element/{id}/text"), None)?;
        v.as_str().map(str::to_string).ok_or_else(|| format!("text of {css} is {v}"))
    }

    fn text(&self, css: &str) -> String {
        self.try_text(css).unwrap_or_else(|e| panic!("text of {css}: {e}"))
    }

    fn try_displayed(&self, css: &str) -> Result<bool, String> {
        let id = self.find(css)?;
        let v = self.cmd("GET", &format!("/element/{id}/displayed"), None)?;
        v.as_bool().ok_or_else(|| format!("displayed of {css} is {v}"))
    }

    fn displayed(&self, css: &str) -> bool {
        self.try_displayed(css).unwrap_or_else(|e| panic!("displayed of {css}: {e}"))
    }

    fn script(&self, js: &str) -> Value {
        self.must("POST", "/execute/sync", Some(&json!({"script": js, "args": []})))
    }

    fn try_screenshot(&self) -> Result<Vec<u8>, String> {
        let v = self.cmd("GET", "/screenshot", None)?;
        let b64 = v.as_str().ok_or_else(|| format!("screenshot is {v}"))?;
        base64::engine::general_purpose::STANDARD.decode(b64).map_err(|e| e.to_string())
    }

    fn screenshot(&self) -> Vec<u8> {
        self.try_screenshot().unwrap_or_else(|e| panic!("screenshot: {e}"))
    }

    /// Polls (the page refreshes itself every 2 s) until the text matches.
    fn wait_text_matches(&self, css: &str, ok: impl Fn(&str) -> bool) {
        wait_for(css, Duration::from_secs(10), || match self.try_text(css) {
            Ok(t) if ok(&t) => Ok(()),
            other => Err(format!("{other:?}")),
        });
    }

    fn wait_text(&self, css: &str, want: &str) {
        wait_for(&format!("{css} to read {want:?}"), Duration::from_secs(10), || match self.try_text(css) {
            Ok(t) if t == want => Ok(()),
            other => Err(format!("{other:?}")),
        });
    }

    fn wait_displayed(&self, css: &str, want: bool) {
        let what = format!("{css} {}", if want { "shown" } else { "hidden" });
        wait_for(&what, Duration::from_secs(10), || match self.try_displayed(css) {
            Ok(d) if d == want => Ok(()),
            other => Err(format!("{other:?}")),
        });
    }
}

/// Retries `f` every 100 ms until it succeeds; panics with its last answer after `timeout`.
fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> Result<(), String>) {
    let t = Instant::now();
    loop {
        match f() {
            Ok(()) => return,
            Err(e) if t.elapsed() > timeout => panic!("timed out after {timeout:?} waiting for {what}; last: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// A WebDriver command: the `value` of its JSON answer, or the error it reports.
fn call(port: u16, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
    let body = body.map(Value::to_string).unwrap_or_default();
    let (status, bytes) = request(port, method, path, body.as_bytes()).map_err(|e| e.to_string())?;
    let v: Value = serde_json::from_slice(&bytes)
        .map_err(|e| format!("HTTP {status}, not JSON ({e}): {}", String::from_utf8_lossy(&bytes)))?;
    let value = v.get("value").cloned().unwrap_or(Value::Null);
    if status == 200 { Ok(value) } else { Err(format!("HTTP {status}: {value}")) }
}

/// One HTTP/1.1 request on a fresh connection: status and body. chromedriver
/// keeps the connection open whatever the request says, so the body is read
/// by its length (or its chunks), not to the end of the stream.
fn request(port: u16, method: &str, path: &str, body: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes())?;
    s.write_all(body)?;
    let bad = |why: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, why.to_string());
    let (mut raw, mut buf) = (Vec::new(), [0u8; 16 * 1024]);
    let mut more = |raw: &mut Vec<u8>| -> std::io::Result<bool> {
        let n = s.read(&mut buf)?;
        raw.extend_from_slice(&buf[..n]);
        Ok(n > 0)
    };
    let end = loop {
        if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        if !more(&mut raw)? {
            return Err(bad("connection closed in the headers"));
        }
    };
    let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| bad("no status"))?;
    let length = head.lines().find_map(|l| l.strip_prefix("content-length:")).map(|n| n.trim().parse::<usize>());
    let chunked = head.lines().any(|l| l.starts_with("transfer-encoding:") && l.contains("chunked"));
    let start = end + 4;
    if let Some(n) = length {
        let n = n.map_err(|_| bad("bad content-length"))?;
        while raw.len() < start + n {
            if !more(&mut raw)? {
                return Err(bad("connection closed in the body"));
            }
        }
        return Ok((status, raw[start..start + n].to_vec()));
    }
    loop {
        if chunked {
            if let Some(body) = dechunk(&raw[start..]) {
                return Ok((status, body));
            }
        }
        if !more(&mut raw)? {
            return if chunked {
                Err(bad("connection closed in a chunk"))
            } else {
                Ok((status, raw[start..].to_vec()))
            };
        }
    }
}

/// The body of a complete chunked message, or None while it is incomplete.
fn dechunk(mut b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = b.windows(2).position(|w| w == b"\r\n")?;
        let size = std::str::from_utf8(&b[..eol]).ok()?.split(';').next()?.trim();
        let n = usize::from_str_radix(size, 16).ok()?;
        if n == 0 {
            return Some(out);
        }
        out.extend_from_slice(b.get(eol + 2..eol + 2 + n)?);
        b = b.get(eol + 4 + n..)?;
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// As han-log writes: a temp file renamed over the old one.
fn write_atomic(path: &Path, v: &Value) {
    let tmp = path.with_extension("json.tmp");
    fs::write(&tmp, v.to_string()).unwrap();
    fs::rename(&tmp, path).unwrap();
}

/// A displayed "12.34 kWh" within display rounding of `want`.
fn close_kwh(text: &str, want: f64) -> bool {
    let n = text.strip_suffix(" kWh").map(|n| n.replace(',', "")).and_then(|n| n.parse::<f64>().ok());
    n.is_some_and(|n| (n - want).abs() <= 0.0051)
}

/// A Kaifa MA304H3E's full list (list 2, every 10 s on Norwegian meters).
fn full_list(received_ms: i64, import_w: f64, export_w: f64, voltage_l1: f64) -> Value {
    let (l1, l2, l3) = (1200.0, 720.0, 2107.0);
    json!({
        "v": 1, "received": utc_stamp(received_ms), "meter_time": local_stamp(received_ms.div_euclid(1000)),
        "protocol": "han", "framing": "hdlc", "manufacturer": "Kaifa", "meter_id": METER_ID,
        "meter_model": "MA304H3E", "list": "KFM_001",
        "power_import_w": import_w, "power_export_w": export_w,
        "power_import_l1_w": l1, "power_import_l2_w": l2, "power_import_l3_w": l3,
        "voltage_l1_v": voltage_l1, "voltage_l2_v": 233.4, "voltage_l3_v": 231.1,
        "current_l1_a": 5.2, "current_l2_a": 3.1, "current_l3_a": 9.8,
        "energy_import_kwh": 109552.25,
        "obis": {
            "1-1:0.2.129": {"value": "KFM_001"}, "0-0:96.1.0": {"value": METER_ID},
            "0-0:96.1.7": {"value": "MA304H3E"},
            "1-0:1.7.0": {"value": import_w, "unit": "W"}, "1-0:2.7.0": {"value": export_w, "unit": "W"},
            "1-0:32.7.0": {"value": voltage_l1, "unit": "V"}, "1-0:52.7.0": {"value": 233.4, "unit": "V"},
            "1-0:72.7.0": {"value": 231.1, "unit": "V"},
            "1-0:31.7.0": {"value": 5.2, "unit": "A"}, "1-0:51.7.0": {"value": 3.1, "unit": "A"},
            "1-0:71.7.0": {"value": 9.8, "unit": "A"},
            "1-0:21.7.0": {"value": l1, "unit": "W"}, "1-0:41.7.0": {"value": l2, "unit": "W"},
            "1-0:61.7.0": {"value": l3, "unit": "W"},
            "1-0:1.8.0": {"value": 109552250, "unit": "Wh"},
        },
    })
}

/// A Kaifa's short list (list 1, every 2 s): active power import only.
fn short_list(received_ms: i64, import_w: f64) -> Value {
    json!({
        "v": 1, "received": utc_stamp(received_ms), "protocol": "han", "framing": "hdlc",
        "power_import_w": import_w, "obis": {"1-0:1.7.0": {"value": import_w, "unit": "W"}},
    })
}

/// today.json for the local day of `now_ms` (Europe/Oslo) up to now, or for
/// yesterday when today has fewer than 5 hours yet: a house with a water
/// heater, morning and evening peaks, a little solar, and a 15-minute gap.
/// Returns it with its import and export energy.
fn today_json(now_ms: i64) -> (Value, f64, f64) {
    let now_s = now_ms.div_euclid(1000);
    let mut day = (now_s + oslo_offset(now_s)).div_euclid(86_400);
    if local_midnight(day) > now_s - 5 * 3600 {
        day -= 1;
    }
    let (start, end) = (local_midnight(day), local_midnight(day + 1));
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut noise = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % 1000) as f64 / 1000.0 - 0.5
    };
    let (mut minutes, mut import_wh, mut export_wh) = (Vec::new(), 0.0, 0.0);
    let mut t = start;
    while t < end && t + 60 <= now_s {
        let h = (t - start) as f64 / 3600.0;
        t += 60;
        if (3.0..3.25).contains(&h) {
            continue; // no readings: the adapter was unplugged
        }
        let bump = |at: f64, width: f64, w: f64| w * (-((h - at) / width).powi(2)).exp();
        let heater = if (1.5..2.5).contains(&h) || (13.0..13.75).contains(&h) { 2000.0 } else { 0.0 };
        let load =
            380.0 + 120.0 * noise() + heater + bump(7.3, 0.6, 2600.0) + bump(18.0, 1.2, 3800.0) + 600.0 * noise().abs();
        let solar =
            if (8.0..16.0).contains(&h) { 2400.0 * ((h - 8.0) / 8.0 * std::f64::consts::PI).sin() } else { 0.0 };
        let net = load - solar;
        let (import_w, export_w) = ((net.max(0.0)).round(), ((-net).max(0.0)).round());
        import_wh += import_w / 60.0;
        export_wh += export_w / 60.0;
        minutes.push(json!({"t": local_stamp(t - 60), "import_w": import_w, "export_w": export_w}));
    }
    let (import_kwh, export_kwh) = (import_wh.round() / 1000.0, export_wh.round() / 1000.0);
    let v = json!({
        "v": 1, "date": &local_stamp(start)[..10], "tz": "Europe/Oslo",
        "start": local_stamp(start), "end": local_stamp(end), "updated": utc_stamp(now_ms)[..19].to_string() + "Z",
        "meter_id": METER_ID, "energy_import_kwh": import_kwh, "energy_export_kwh": export_kwh, "minutes": minutes,
    });
    (v, import_kwh, export_kwh)
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

/// `2026-12-01T10:15:02.314Z`, as han-read writes `received`.
fn utc_stamp(ms: i64) -> String {
    let (s, milli) = (ms.div_euclid(1000), ms.rem_euclid(1000));
    let (y, m, d) = civil(s.div_euclid(86_400));
    let sec = s.rem_euclid(86_400);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{milli:03}Z", sec / 3600, sec / 60 % 60, sec % 60)
}

/// Europe/Oslo wall time with its offset: `2026-12-01T11:15:00+01:00`.
fn local_stamp(utc_s: i64) -> String {
    let off = oslo_offset(utc_s);
    let local = utc_s + off;
    let (y, m, d) = civil(local.div_euclid(86_400));
    let sec = local.rem_euclid(86_400);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+{:02}:00", sec / 3600, sec / 60 % 60, sec % 60, off / 3600)
}

/// UTC offset of Europe/Oslo (EU rule: summer time from 01:00 UTC on the
/// last Sunday of March to 01:00 UTC on the last Sunday of October).
fn oslo_offset(utc_s: i64) -> i64 {
    let (y, _, _) = civil(utc_s.div_euclid(86_400));
    let last_sunday = |m: u32| {
        let d31 = days_from_civil(y, m, 31);
        d31 - (d31 + 4).rem_euclid(7) // 1970-01-01 was a Thursday
    };
    let (on, off) = (last_sunday(3) * 86_400 + 3600, last_sunday(10) * 86_400 + 3600);
    if (on..off).contains(&utc_s) { 7200 } else { 3600 }
}

/// The UTC second of local midnight starting day `day` (days since 1970-01-01, local).
fn local_midnight(day: i64) -> i64 {
    let local = day * 86_400;
    [7200, 3600].into_iter().map(|off| local - off).find(|&u| oslo_offset(u) == local - u).unwrap_or(local - 3600)
}

/// Days since 1970-01-01 to (year, month, day) (H. Hinnant's algorithm).
fn civil(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[test]
fn calendar_helpers() {
    assert_eq!(utc_stamp(1_796_120_102_314), "2026-12-01T10:15:02.314Z");
    assert_eq!(local_stamp(1_796_120_100), "2026-12-01T11:15:00+01:00");
    assert_eq!(local_stamp(1_784_000_000), "2026-07-14T05:33:20+02:00");
    assert_eq!(days_from_civil(2026, 12, 1), 20_788);
    assert_eq!(civil(20_788), (2026, 12, 1));
    // 2026: summer time from 29 March 01:00 UTC to 25 October 01:00 UTC.
    assert_eq!(local_stamp(local_midnight(days_from_civil(2026, 3, 29))), "2026-03-29T00:00:00+01:00");
    assert_eq!(local_stamp(local_midnight(days_from_civil(2026, 3, 30))), "2026-03-30T00:00:00+02:00");
    assert_eq!(local_midnight(days_from_civil(2026, 3, 30)) - local_midnight(days_from_civil(2026, 3, 29)), 23 * 3600);
    assert_eq!(
        local_midnight(days_from_civil(2026, 10, 26)) - local_midnight(days_from_civil(2026, 10, 25)),
        25 * 3600
    );
}
