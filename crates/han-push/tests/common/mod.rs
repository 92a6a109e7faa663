//! What han-push's tests share: stream lines made from corpus captures by
//! the real decoder, running han-push with its stdin held open, a real
//! influxd, the recording HTTP server, waiting with deadlines.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use chrono::{DateTime, Utc};
use han::{Config, Decoder, EventRef};
#[allow(unused_imports)] // each test file uses some
pub use han_testkit::{Tmp, at, corpus, free_port, have, wait_until};
use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_han-push");
pub const MOSQUITTO: &str = "/usr/sbin/mosquitto";
/// The longest any wait in the tests may take: generous for a loaded 2-core machine.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// The first reading of a capture, as han-read writes it, received at each of `times`.
pub fn lines(corpus: &Path, capture: &str, times: &[DateTime<Utc>]) -> Vec<String> {
    let bytes = std::fs::read(corpus.join(capture)).unwrap_or_else(|e| panic!("{capture}: {e}"));
    let mut d = Decoder::new(Config::default());
    d.push(&bytes);
    d.finish();
    loop {
        match d.next_event_ref() {
            Some(EventRef::Reading(r)) => {
                return times
                    .iter()
                    .map(|t| {
                        let mut l = Vec::new();
                        r.write_json_line_received(Some(t), &mut l);
                        String::from_utf8(l).expect("UTF-8").trim_end().to_owned()
                    })
                    .collect();
            }
            Some(EventRef::Rejected { .. }) => continue,
            None => panic!("{capture}: no reading"),
        }
    }
}

/// `n` times from `start`, `step_ms` apart.
pub fn times(start: &str, n: usize, step_ms: i64) -> Vec<DateTime<Utc>> {
    (0..n).map(|i| at(start) + chrono::Duration::milliseconds(step_ms * i as i64)).collect()
}

/// han-push running, its stdin held open, its stderr in a file.
pub struct Push {
    child: Child,
    stdin: Option<ChildStdin>,
    stderr: PathBuf,
}

impl Push {
    pub fn start(tmp: &Tmp, name: &str, args: &[&str], env: &[(&str, &str)]) -> Push {
        let stderr = tmp.join(&format!("{name}.stderr"));
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .env_remove("HAN_TOOLS_CONFIG")
            .env_remove("HAN_PUSH_INFLUX_TOKEN")
            .env_remove("HAN_PUSH_INFLUX_PASSWORD")
            .env_remove("HAN_PUSH_DOMOTICZ_PASSWORD")
            .env("TZ", "UTC")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).expect("stderr file"));
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("han-push runs");
        let stdin = child.stdin.take();
        Push { child, stdin, stderr }
    }

    pub fn send(&mut self, lines: &[String]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        for l in lines {
            stdin.write_all(l.as_bytes()).and_then(|()| stdin.write_all(b"\n")).expect("han-push reads");
        }
        stdin.flush().expect("flushed");
    }

    pub fn close(&mut self) {
        self.stdin = None;
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Waits until stderr says `text`.
    pub fn wait_said(&mut self, text: &str) {
        wait_until(&format!("han-push to say {text:?}"), DEADLINE, || {
            if let Ok(Some(s)) = self.child.try_wait() {
                panic!("han-push ended ({s}) before saying {text:?}: {}", self.stderr());
            }
            self.stderr().contains(text).then_some(())
        });
    }

    /// Closes stdin, waits for the end: the exit status and stderr.
    pub fn finish(mut self) -> (i32, String) {
        self.close();
        let status = wait_until("han-push to end", DEADLINE, || self.child.try_wait().expect("wait"));
        (status.code().unwrap_or(-1), self.stderr())
    }
}

impl Drop for Push {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A real InfluxDB 1.x server in a temporary directory.
pub struct Influxd {
    child: Option<Child>,
    pub port: u16,
    dir: PathBuf,
}

impl Influxd {
    /// Starts influxd on `port` (its data in `dir`, kept across restarts), once it answers /ping.
    pub fn start(dir: &Path, port: u16) -> Influxd {
        let mut s = Influxd { child: None, port, dir: dir.to_owned() };
        s.restart();
        s
    }

    pub fn restart(&mut self) {
        let d = self.dir.display();
        let rpc = free_port();
        let conf = format!(
            "reporting-disabled = true\nbind-address = \"127.0.0.1:{rpc}\"\n\
             [meta]\n  dir = \"{d}/meta\"\n\
             [data]\n  dir = \"{d}/data\"\n  wal-dir = \"{d}/wal\"\n  query-log-enabled = false\n\
             [http]\n  bind-address = \"127.0.0.1:{}\"\n  log-enabled = false\n\
             [monitor]\n  store-enabled = false\n",
            self.port
        );
        std::fs::create_dir_all(&self.dir).expect("influx dir");
        let path = self.dir.join("influxdb.conf");
        std::fs::write(&path, conf).expect("config");
        let log = std::fs::File::create(self.dir.join("influxd.log")).expect("log");
        let child = Command::new("influxd")
            .arg("-config")
            .arg(&path)
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("influxd runs");
        self.child = Some(child);
        let url = format!("{}/ping", self.url());
        wait_until("influxd to answer /ping", DEADLINE, || {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                let log = std::fs::read_to_string(self.dir.join("influxd.log")).unwrap_or_default();
                panic!("influxd ended ({status}): {log}");
            }
            ureq::get(&url).call().ok().filter(|r| r.status() == 204)
        });
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Runs an InfluxQL statement; the JSON answer.
    pub fn query(&self, db: &str, q: &str) -> Value {
        let r = ureq::post(&format!("{}/query", self.url()))
            .query("db", db)
            .query("epoch", "ms")
            .send_form(&[("q", q)])
            .unwrap_or_else(|e| panic!("{q}: {e}"));
        serde_json::from_reader(r.into_reader()).expect("JSON")
    }

    /// The rows of a SELECT: each a map of column to value.
    pub fn rows(&self, db: &str, q: &str) -> Vec<serde_json::Map<String, Value>> {
        let v = self.query(db, q);
        let Some(series) = v["results"][0]["series"].as_array() else { return vec![] };
        let mut out = Vec::new();
        for s in series {
            let cols: Vec<&str> =
                s["columns"].as_array().expect("columns").iter().map(|c| c.as_str().expect("name")).collect();
            for row in s["values"].as_array().expect("values") {
                let m =
                    cols.iter().zip(row.as_array().expect("row")).map(|(c, v)| ((*c).to_owned(), v.clone())).collect();
                out.push(m);
            }
        }
        out
    }

    /// `SELECT count(field) FROM han` (0 when there is nothing).
    pub fn count(&self, db: &str, field: &str) -> u64 {
        let rows = self.rows(db, &format!("SELECT count({field}) FROM han"));
        rows.first().and_then(|r| r.get("count")).and_then(Value::as_u64).unwrap_or(0)
    }
}

impl Drop for Influxd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The recording HTTP server (tests/recorder.py).
pub struct Recorder {
    child: Child,
    pub port: u16,
    log: PathBuf,
}

impl Recorder {
    /// `answers`: JSON list of {"status", "body"} (None: Domoticz's OK).
    pub fn start(tmp: &Tmp, name: &str, answers: Option<&str>) -> Recorder {
        let log = tmp.join(&format!("{name}.requests"));
        let mut cmd = Command::new("python3");
        cmd.arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/recorder.py")).arg(&log);
        if let Some(a) = answers {
            let f = tmp.join(&format!("{name}.answers.json"));
            std::fs::write(&f, a).expect("answers");
            cmd.arg(f);
        }
        let mut child = cmd.stdout(Stdio::piped()).spawn().expect("python3 runs");
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut first).expect("the port");
        let port = first.trim().parse().unwrap_or_else(|_| panic!("recorder said {first:?}"));
        Recorder { child, port, log }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The requests so far.
    pub fn requests(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.lines().map(|l| serde_json::from_str(l).expect("a logged request")).collect()
    }

    /// Waits until `n` requests came.
    pub fn wait_requests(&self, n: usize) -> Vec<Value> {
        wait_until(&format!("{n} requests"), DEADLINE, || Some(self.requests()).filter(|r| r.len() >= n))
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Mosquitto of the test's own; `extra` is added to its config.
pub struct Broker {
    child: Option<Child>,
    pub port: u16,
    conf: PathBuf,
    log: PathBuf,
}

impl Broker {
    pub fn start(tmp: &Tmp, name: &str, extra: &str) -> Broker {
        let port = free_port();
        let dir = tmp.join(name);
        std::fs::create_dir_all(&dir).expect("broker dir");
        // As root, Mosquitto would switch to its own user, who cannot read the test's files.
        let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
        let user = if root { "user root\n" } else { "" };
        let conf = dir.join("mosquitto.conf");
        let text = format!(
            "{user}listener {port} 127.0.0.1\npersistence true\npersistence_location {}/\n{extra}",
            dir.display()
        );
        std::fs::write(&conf, text).expect("config");
        let mut b = Broker { child: None, port, conf, log: dir.join("mosquitto.log") };
        b.restart();
        b
    }

    /// Starts it (again, on the same port), once it answers.
    pub fn restart(&mut self) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).expect("log");
        let child = Command::new(MOSQUITTO)
            .arg("-c")
            .arg(&self.conf)
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("mosquitto runs");
        self.child = Some(child);
        wait_until("mosquitto to listen", DEADLINE, || {
            if let Some(Ok(Some(s))) = self.child.as_mut().map(Child::try_wait) {
                panic!("mosquitto ended ({s}): {}", std::fs::read_to_string(&self.log).unwrap_or_default());
            }
            TcpStream::connect(("127.0.0.1", self.port)).ok()
        });
    }

    /// SIGTERM: it saves its sessions (the subscriber's survives) and closes every connection.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let term = Command::new("kill").args(["-TERM", &c.id().to_string()]).status();
            assert!(term.is_ok_and(|s| s.success()), "kill -TERM mosquitto");
            wait_until("mosquitto to end", DEADLINE, || c.try_wait().expect("wait"));
        }
    }

    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
