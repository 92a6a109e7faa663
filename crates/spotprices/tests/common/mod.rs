//! What the binary's tests share: temporary folders, the real HTTP server
//! (tests/http_server.py) serving recorded documents, documents built on
//! the structure of the real ones, and running the binary.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use han_testkit::{Run, corpus};
#[allow(unused_imports)] // each test file uses some
pub use han_testkit::{Tmp, at, text};

pub const BIN: &str = env!("CARGO_BIN_EXE_spotprices");

/// The prices folder of the corpus, when it is there.
pub fn prices_dir() -> Option<PathBuf> {
    corpus::dir().map(|d| d.join("prices"))
}

/// One route of the server: a path, a query subset, the answers in turn.
pub fn route(path: &str, query: Value, responses: Value) -> Value {
    json!({"path": path, "query": query, "responses": responses})
}

/// An answer with a file's bytes.
pub fn file(status: u16, path: &Path) -> Value {
    json!({"status": status, "file": path.to_str().expect("utf-8 path")})
}

/// tests/http_server.py, on a free port; stopped on drop.
pub struct Server {
    child: Child,
    pub port: u16,
    log: PathBuf,
}

impl Server {
    pub fn start(tmp: &Tmp, routes: &[Value]) -> Server {
        let spec = tmp.join("routes.json");
        std::fs::write(&spec, serde_json::to_vec(routes).expect("json")).expect("routes written");
        let log = tmp.join("requests.jsonl");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/http_server.py");
        let mut child = Command::new("python3")
            .args([script, spec.to_str().expect("path"), log.to_str().expect("path")])
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs the test server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("the port");
        let port = line.trim().parse().expect("a port number");
        Server { child, port, log }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The requests so far: (path, query).
    pub fn requests(&self) -> Vec<(String, Value)> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).expect("a logged request");
                (v["path"].as_str().unwrap_or_default().to_string(), v["query"].clone())
            })
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A config file in `tmp`, mode 600 (it holds the token).
pub fn config(tmp: &Tmp, body: &str) -> PathBuf {
    let p = tmp.join("config.toml");
    std::fs::write(&p, format!("[spotprices]\n{body}")).expect("config written");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    p
}

/// Runs the binary with `--config`.
pub fn run(config: &Path, args: &[&str]) -> Output {
    Run::new(BIN).arg("--config").arg(config).args(args).env_remove("SPOTPRICES_TOKEN").output()
}

/// An A44 document on the structure of the real `hass-entsoe_BE_60M.xml`
/// (one TimeSeries, one Period, A03): its zone, interval, resolution and
/// points replaced.
pub fn a44(eic: &str, start: DateTime<Utc>, minutes: i64, prices: &[f64]) -> String {
    let real = std::fs::read_to_string(prices_dir().expect("corpus").join("hass-entsoe_BE_60M.xml")).expect("template");
    let end = start + Duration::minutes(minutes * prices.len() as i64);
    let first = real.find("<Point>").expect("a point");
    let last = real.rfind("</Point>").expect("a point end") + "</Point>".len();
    let indent = "\n              ";
    let points: String = prices
        .iter()
        .enumerate()
        .map(|(i, p)| {
            format!(
                "<Point>{indent}  <position>{}</position>{indent}   <price.amount>{p}</price.amount>{indent}</Point>{indent}",
                i + 1
            )
        })
        .collect();
    let t = |d: DateTime<Utc>| d.format("%Y-%m-%dT%H:%MZ").to_string();
    format!("{}{}{}", &real[..first], points.trim_end(), &real[last..])
        .replace("10YBE----------2", eic)
        .replace("2024-10-07T22:00Z", &t(start))
        .replace("2024-10-08T22:00Z", &t(end))
        .replace("<resolution>PT60M</resolution>", &format!("<resolution>PT{minutes}M</resolution>"))
}

/// A day's prices as hvakosterstrommen.no and elprisetjustnu.se serve them
/// (`[{NOK_per_kWh, EUR_per_kWh, EXR, time_start, time_end}]`, local
/// times with their offsets), made from EUR/MWh prices.
pub fn public_day(tz: chrono_tz::Tz, currency: &str, start: DateTime<Utc>, minutes: i64, prices: &[f64]) -> String {
    let rows: Vec<Value> = prices
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let s = start + Duration::minutes(minutes * i as i64);
            let e = s + Duration::minutes(minutes);
            json!({
                format!("{currency}_per_kWh"): p * 11.5 / 1000.0,
                "EUR_per_kWh": p / 1000.0,
                "EXR": 11.5,
                "time_start": s.with_timezone(&tz).to_rfc3339(),
                "time_end": e.with_timezone(&tz).to_rfc3339(),
            })
        })
        .collect();
    serde_json::to_string(&rows).expect("json")
}

/// Writes `text` into `tmp` and returns its path.
pub fn save(tmp: &Tmp, name: &str, text: &str) -> PathBuf {
    let p = tmp.join(name);
    std::fs::write(&p, text).expect("written");
    p
}

/// A day's JSON file.
pub fn day_file(dir: &Path, date: &str) -> Value {
    let text = std::fs::read_to_string(dir.join(format!("{date}.json"))).expect("the day's file");
    serde_json::from_str(&text).expect("JSON")
}
