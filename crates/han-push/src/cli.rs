//! Command-line flags. Every setting but the credentials also has a key in
//! the config file's `[han-push.mqtt]`, `[han-push.influx]` or
//! `[han-push.domoticz]` section; a flag wins over the file.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args as ClapArgs, Parser, Subcommand};

const EXAMPLES: &str = "\
Examples:
  han-read /dev/ttyUSB0 | han-push mqtt --broker mqtt://192.168.1.10:1883
  han-read /dev/ttyUSB0 | han-push influx --url http://127.0.0.1:8086 --db han
  HAN_PUSH_INFLUX_TOKEN=... han-read /dev/ttyUSB0 | han-push influx --url http://nas:8086 --org home --bucket han
  han-read /dev/ttyUSB0 | han-push domoticz --url http://127.0.0.1:8080 --idx-p1 12 --idx-gas 13
  han-read /dev/ttyUSB0 | tee >(han-push mqtt --broker mqtt://pi:1883) | han-log

Credentials never come from the command line: the environment
(HAN_PUSH_MQTT_PASSWORD, HAN_PUSH_INFLUX_TOKEN, HAN_PUSH_INFLUX_PASSWORD,
HAN_PUSH_DOMOTICZ_PASSWORD) or the config file ([han-push.mqtt] password,
[han-push.influx] token or password, [han-push.domoticz] password).

Exit status: 0 the input ended and every reading was delivered, 1 an error
(stdin unreadable, credentials refused), 2 bad usage, 3 the input ended but
some readings could not be delivered (the count is printed).";

/// Forwards the live JSON-line stream of han-read on stdin to MQTT, InfluxDB or Domoticz.
///
/// Stdin is read all the time, also while the server is away: readings wait in a bounded buffer
/// and are sent when it is back; what the buffer cannot hold is dropped oldest first, counted and
/// said on stderr, never silently.
#[derive(Debug, Parser)]
#[command(name = "han-push", version, about, long_about, after_help = EXAMPLES)]
pub struct Args {
    /// The config file (default $HAN_TOOLS_CONFIG, else /etc/han-tools/config.toml if it exists).
    #[arg(long, value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,
    /// Where to push.
    #[command(subcommand)]
    pub command: Command,
}

/// The targets.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Publish each reading to an MQTT broker, with Home Assistant discovery.
    #[command(after_help = MQTT_HELP)]
    Mqtt(MqttArgs),
    /// Write the readings to InfluxDB (1.x database, or 2.x org and bucket) in batches.
    #[command(after_help = INFLUX_HELP)]
    Influx(InfluxArgs),
    /// Update Domoticz's P1 smart meter device (and a gas device) at an interval.
    #[command(after_help = DOMOTICZ_HELP)]
    Domoticz(DomoticzArgs),
}

const MQTT_HELP: &str = "\
Examples:
  han-read /dev/ttyUSB0 | han-push mqtt --broker mqtt://192.168.1.10:1883
  HAN_PUSH_MQTT_PASSWORD=... han-read /dev/ttyUSB0 | han-push mqtt --broker mqtts://broker:8883 --user han --ca ca.pem

Topics: PREFIX/METER_ID/state (JSON, the newest value of each quantity),
PREFIX/METER_ID/availability (online, offline; the first meter's is the
last will), and DISCOVERY_PREFIX/sensor/han_METER_ID/QUANTITY/config for
Home Assistant 2024.1 and later. All QoS 1; the availability and discovery
retained. It connects once a reading names its meter.

Config: [han-push.mqtt] broker, user, password, topic_prefix, discovery_prefix, ca, buffer, client_id, last_try,
ha_version, expire_after.
Password: $HAN_PUSH_MQTT_PASSWORD, else [han-push.mqtt] password.

Exit status: 0 the input ended and every reading was delivered, 1 an error,
2 bad usage, 3 some readings could not be delivered.";

const INFLUX_HELP: &str = "\
Examples:
  han-read /dev/ttyUSB0 | han-push influx --url http://127.0.0.1:8086 --db han
  HAN_PUSH_INFLUX_PASSWORD=... han-read /dev/ttyUSB0 | han-push influx --url http://db:8086 --db han --user han
  HAN_PUSH_INFLUX_TOKEN=... han-read /dev/ttyUSB0 | han-push influx --url http://db:8086 --org home --bucket han

Each reading is one point: measurement --measurement (han), tag meter_id, a
float field per normalised quantity of the line (power_import_w ...),
time = the meter's clock when it has a UTC offset, else the time received
(millisecond precision).

Config: [han-push.influx] url, db, org, bucket, user, password, token,
measurement, batch, flush_every, buffer, timeout, last_try.
Token (2.x): $HAN_PUSH_INFLUX_TOKEN, else [han-push.influx] token.
Password (1.x, with --user): $HAN_PUSH_INFLUX_PASSWORD, else [han-push.influx] password.

Exit status: 0 the input ended and every point was written, 1 an error
(the server refused the credentials), 2 bad usage, 3 some points could not
be written (dropped from a full buffer, or refused by the server).";

const DOMOTICZ_HELP: &str = "\
Examples:
  han-read /dev/ttyUSB0 | han-push domoticz --url http://127.0.0.1:8080 --idx-p1 12
  han-read /dev/ttyUSB0 | han-push domoticz --url http://127.0.0.1:8080 --idx-p1 12 --idx-gas 13 --interval 1m

Every --interval of reading time, the newest reading updates the P1 smart
meter device (udevice: svalue USAGE1;USAGE2;RETURN1;RETURN2;CONS;PROD, Wh and
W); with --idx-gas, the gas device gets the gas meter's reading in litres
when it changed. Only the newest reading matters: an update the server
missed is not sent again later.

Config: [han-push.domoticz] url, idx_p1, idx_gas, interval, user, password, timeout.
Password (with --user): $HAN_PUSH_DOMOTICZ_PASSWORD, else [han-push.domoticz] password.

Exit status: 0 the input ended, 1 an error (the server refused the
credentials), 2 bad usage, 3 the last reading could not be delivered.";

/// `han-push mqtt`.
#[derive(Debug, Clone, ClapArgs)]
pub struct MqttArgs {
    /// The broker: mqtt://HOST[:PORT] (1883) or mqtts://HOST[:PORT] (8883) (or `broker` in the config file).
    #[arg(long, value_name = "URL")]
    pub broker: Option<String>,
    /// The user name (the password: $HAN_PUSH_MQTT_PASSWORD or `password` in the config file).
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// The first part of the topics readings go to: PREFIX/METER_ID/state (default han).
    #[arg(long, value_name = "PREFIX")]
    pub topic_prefix: Option<String>,
    /// Home Assistant's discovery prefix (default homeassistant).
    #[arg(long, value_name = "PREFIX")]
    pub discovery_prefix: Option<String>,
    /// The CA certificate (PEM) that signed the broker's, for mqtts:// (default: the web's roots, webpki-roots).
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// Readings kept while the broker is away (default 10000); beyond it the oldest are dropped and counted.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub buffer: Option<u64>,
    /// The MQTT client id (default han-push-HOSTNAME-METER_ID, the first meter named).
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// The Home Assistant release the discovery is for (default 2024.1): 2024.2 and later also get the device's serial number.
    #[arg(long, value_name = "YEAR.MONTH")]
    pub ha_version: Option<String>,
    /// A sensor whose meter sent nothing this long is unavailable in Home Assistant (default 2m; 0: never).
    #[arg(long, value_name = "DURATION", value_parser = han_common::duration::parse)]
    pub expire_after: Option<Duration>,
    /// At the end of input (or on SIGTERM), how long readings still waiting are tried (default 10s).
    #[arg(long, value_name = "DURATION", value_parser = han_common::duration::parse)]
    pub last_try: Option<Duration>,
}

/// `han-push influx`.
#[derive(Debug, Clone, ClapArgs)]
pub struct InfluxArgs {
    /// The server: http(s)://HOST:PORT (or `url` in the config file).
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// InfluxDB 1.x: the database.
    #[arg(long, value_name = "NAME")]
    pub db: Option<String>,
    /// InfluxDB 2.x: the organisation (with --bucket; the token from the environment or config file).
    #[arg(long, value_name = "ORG")]
    pub org: Option<String>,
    /// InfluxDB 2.x: the bucket.
    #[arg(long, value_name = "BUCKET")]
    pub bucket: Option<String>,
    /// InfluxDB 1.x: the user (the password: $HAN_PUSH_INFLUX_PASSWORD or `password` in the config file).
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// The measurement the points go to (default han).
    #[arg(long, value_name = "NAME")]
    pub measurement: Option<String>,
    /// Send as soon as this many points wait (default 500).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub batch: Option<u64>,
    /// Send what waits at least this often (default 10s).
    #[arg(long, value_name = "DURATION", value_parser = han_common::duration::parse)]
    pub flush_every: Option<Duration>,
    /// Points kept while the server is away (default 100000); beyond it the oldest are dropped and counted.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub buffer: Option<u64>,
    /// How long one request may take (default 10s).
    #[arg(long, value_name = "DURATION", value_parser = han_common::duration::parse)]
    pub timeout: Option<Duration>,
    /// At the end of input (or on SIGTERM), how long points still waiting are tried (default 10s).
    #[arg(long, value_name = "DURATION", value_parser = han_common::duration::parse)]
    pub last_try: Option<Duration>,
}

/// `han-push domoticz`.
#[derive(Debug, Clone, ClapArgs)]
pub struct DomoticzArgs {
    /// The Domoticz server: http(s)://HOST:PORT (or `url` in the config file).
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// The idx of the P1 smart meter device (Setup > Devices).
    #[arg(long, value_name = "N")]
    pub idx_p1: Option<u64>,
    /// The idx of the gas device.
    #[arg(long, value_name = "N")]
    pub idx_gas: Option<u64>,
    /// How often to update, in the readings' time (default 10s).
    #[arg(long, value_name = "DURATION", value_parser = han_common::duration::parse)]
    pub interval: Option<Duration>,
    /// The user (the password: $HAN_PUSH_DOMOTICZ_PASSWORD or `password` in the config file).
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// How long one request may take (default 10s).
    #[arg(long, value_name = "DURATION", value_parser = han_common::duration::parse)]
    pub timeout: Option<Duration>,
}

#[cfg(test)]
mod tests {
    #[test]
    fn flags_are_consistent() {
        use clap::CommandFactory;
        super::Args::command().debug_assert();
    }
}
