//! `han-push influx`: the readings as points in InfluxDB (1.x database or
//! 2.x bucket), in batches of `--batch` points or every `--flush-every`.
//! While the server is away (no connection, 5xx, 429) the points wait in a
//! bounded buffer and the batch is tried again after 1 s, 2 s ... up to
//! 60 s; stdin is read all along, and what the buffer cannot hold is dropped
//! oldest first, counted and said. A batch the server refuses as bad data
//! (400) is dropped and counted; refused credentials or a missing database
//! stop han-push (exit 1).

mod points;
mod send;
mod sink;

use std::time::Duration;

use anyhow::Result;
use han_common::{Config, Usage};

use crate::cli::InfluxArgs;
use crate::deliver;
use crate::run;
use crate::secrets::{self, INFLUX};
use send::Target;

/// The keys of `[han-push.influx]`.
pub const CONFIG_KEYS: &[&str] = &[
    "url",
    "db",
    "org",
    "bucket",
    "user",
    "password",
    "token",
    "measurement",
    "batch",
    "flush_every",
    "buffer",
    "timeout",
    "last_try",
];

/// The settings: flags, else `[han-push.influx]`, else defaults.
#[derive(Debug)]
struct Settings {
    target: Target,
    measurement: String,
    batch: usize,
    flush_every: Duration,
    buffer: usize,
    timeout: Duration,
    last_try: Duration,
}

fn settings(a: &InfluxArgs, c: &Config) -> Result<Settings, Usage> {
    let s = INFLUX;
    let url = run::string(a.url.as_ref(), c, s, "url")?
        .ok_or_else(|| Usage("which server? --url http://HOST:8086 (or url in [han-push.influx])".into()))?;
    let url = crate::http::base_url(&url, "--url")?;
    let db = run::string(a.db.as_ref(), c, s, "db")?;
    let org = run::string(a.org.as_ref(), c, s, "org")?;
    let bucket = run::string(a.bucket.as_ref(), c, s, "bucket")?;
    let user = run::string(a.user.as_ref(), c, s, "user")?;
    let target = match (db, org, bucket) {
        (Some(db), None, None) => {
            let login = secrets::login(c, s, user, "HAN_PUSH_INFLUX_PASSWORD")?;
            Target::V1 { url, db, login }
        }
        (None, Some(org), Some(bucket)) => {
            let token = secrets::secret(c, s, "token", "HAN_PUSH_INFLUX_TOKEN")?.ok_or_else(|| {
                Usage("InfluxDB 2.x needs a token: $HAN_PUSH_INFLUX_TOKEN or token in [han-push.influx]".into())
            })?;
            Target::V2 { url, org, bucket, token }
        }
        (None, None, None) => {
            return Err(Usage("where to? --db NAME (InfluxDB 1.x) or --org and --bucket (2.x)".into()));
        }
        (Some(_), _, _) => return Err(Usage("--db (InfluxDB 1.x) or --org and --bucket (2.x), not both".into())),
        (None, _, _) => return Err(Usage("InfluxDB 2.x needs both --org and --bucket".into())),
    };
    let measurement = run::string(a.measurement.as_ref(), c, s, "measurement")?.unwrap_or_else(|| "han".into());
    points::check_measurement(&measurement).map_err(Usage)?;
    let buffer = run::number(a.buffer, c, s, "buffer", 1)?.unwrap_or(100_000);
    let batch = run::number(a.batch, c, s, "batch", 1)?.unwrap_or(500).min(buffer);
    let size = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
    Ok(Settings {
        target,
        measurement,
        batch: size(batch),
        flush_every: run::duration(a.flush_every, c, s, "flush_every")?.unwrap_or(Duration::from_secs(10)),
        buffer: size(buffer),
        timeout: run::duration(a.timeout, c, s, "timeout")?.unwrap_or(Duration::from_secs(10)),
        last_try: run::duration(a.last_try, c, s, "last_try")?.unwrap_or(Duration::from_secs(10)),
    })
}

/// Runs `han-push influx`.
pub fn run(args: &InfluxArgs, config: &Config) -> Result<u8> {
    let s = settings(args, config)?;
    let limits = deliver::Limits { buffer: s.buffer, last_try: s.last_try, input: 1024 };
    deliver::run(sink::Writer::new(s), limits)
}
