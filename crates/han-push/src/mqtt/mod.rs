//! `han-push mqtt`: readings to an MQTT broker, with Home Assistant
//! discovery (docs/han-push.md, `## mqtt`). A small synchronous MQTT 3.1.1
//! client of our own (no async runtime): [`packet`] the bytes, [`client`]
//! one connection, [`sink`] the session the delivery engine drives, [`meters`] and
//! [`discovery`] what is published.

mod client;
mod discovery;
mod meters;
mod packet;
mod sink;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use han_common::{Config, Usage};

use crate::cli::MqttArgs;
use crate::deliver;
use crate::run;
use crate::secrets::{self, MQTT};

/// The keys of `[han-push.mqtt]` (the others earn a warning).
pub const CONFIG_KEYS: &[&str] = &[
    "broker",
    "user",
    "password",
    "topic_prefix",
    "discovery_prefix",
    "ca",
    "buffer",
    "client_id",
    "last_try",
    "ha_version",
    "expire_after",
];

/// Readings the buffer holds while the broker is away, by default.
const BUFFER: u64 = 10_000;
/// At the end of input, how long what waits is tried, by default.
const LAST_TRY: Duration = Duration::from_secs(10);
/// Seconds; the broker calls us gone after one and a half of them in silence.
const KEEP_ALIVE: Duration = Duration::from_secs(60);
/// A meter silent this long has its sensors unavailable in Home Assistant:
/// far above the 1-10 s between readings of every meter.
const EXPIRE_AFTER: Duration = Duration::from_secs(120);

/// Runs `han-push mqtt`; the exit status as [`crate::run`] documents it.
pub fn run(args: &MqttArgs, config: &Config) -> Result<u8> {
    let (opts, meters, limits) = settings(args, config)?;
    deliver::run(sink::Session::new(&opts, meters), limits)
}

/// The flags and the config file's `[han-push.mqtt]`, checked.
fn settings(args: &MqttArgs, config: &Config) -> Result<(client::Options, meters::Meters, deliver::Limits), Usage> {
    let url = run::string(args.broker.as_ref(), config, MQTT, "broker")?
        .ok_or_else(|| Usage("no broker: --broker mqtt://HOST[:PORT], or [han-push.mqtt] broker".into()))?;
    let broker = client::Broker::parse(&url).map_err(Usage)?;
    let username = run::string(args.user.as_ref(), config, MQTT, "user")?.filter(|u| !u.is_empty());
    let password = secrets::secret(config, MQTT, "password", "HAN_PUSH_MQTT_PASSWORD")?;
    if let (Some(p), None) = (&password, &username) {
        return Err(Usage(format!("a password ({}) but no user: --user NAME, or [han-push.mqtt] user", p.from)));
    }
    let ca = run::string(None, config, MQTT, "ca")?.map(PathBuf::from);
    let ca = args.ca.clone().or(ca);
    let tls = match (broker.tls, &ca) {
        (true, ca) => Some(client::tls_config(ca.as_deref()).map_err(Usage)?),
        (false, Some(_)) => return Err(Usage(format!("--ca is for mqtts:// brokers, not {broker}"))),
        (false, None) => None,
    };
    // Empty: the meter's, once a reading names it (sink::client_id).
    let client_id = run::string(args.client_id.as_ref(), config, MQTT, "client_id")?.unwrap_or_default();
    let prefix = run::string(args.topic_prefix.as_ref(), config, MQTT, "topic_prefix")?.unwrap_or_else(|| "han".into());
    let discovery = run::string(args.discovery_prefix.as_ref(), config, MQTT, "discovery_prefix")?
        .unwrap_or_else(|| "homeassistant".into());
    for (what, p) in [("topic prefix", &prefix), ("discovery prefix", &discovery)] {
        if p.trim_matches('/').is_empty() || p.contains(['#', '+', '\0']) {
            return Err(Usage(format!("{what} {p:?}: not empty, and no # or +")));
        }
    }
    let buffer = run::number(args.buffer, config, MQTT, "buffer", 1)?.unwrap_or(BUFFER);
    let last_try = run::duration(args.last_try, config, MQTT, "last_try")?.unwrap_or(LAST_TRY);
    let ha = match run::string(args.ha_version.as_ref(), config, MQTT, "ha_version")? {
        Some(v) => discovery::HaVersion::parse(&v).map_err(|e| Usage(format!("--ha-version: {e}")))?,
        None => discovery::HaVersion::OLDEST,
    };
    // Not run::duration: 0 is allowed here (never).
    let expire_after = match args.expire_after {
        Some(d) => d,
        None => match config.string(MQTT, "expire_after").map_err(|e| Usage(e.to_string()))? {
            Some(s) => {
                han_common::duration::parse(&s).map_err(|e| Usage(format!("config [{MQTT}] expire_after: {e}")))?
            }
            None => EXPIRE_AFTER,
        },
    };
    // Home Assistant counts whole seconds; under one second is no expiry it can keep.
    if expire_after.subsec_nanos() != 0 {
        return Err(Usage("--expire-after: whole seconds (or 0: never)".into()));
    }
    let topics = discovery::Topics::new(&prefix, &discovery, ha, expire_after.as_secs());
    let opts = client::Options {
        broker,
        tls,
        client_id,
        keep_alive: KEEP_ALIVE,
        username,
        password,
        // Set with the client id, once the first meter is named.
        will_topic: String::new(),
    };
    let limits = deliver::Limits { buffer: usize::try_from(buffer).unwrap_or(usize::MAX), last_try, input: 1024 };
    Ok((opts, meters::Meters::new(topics), limits))
}
