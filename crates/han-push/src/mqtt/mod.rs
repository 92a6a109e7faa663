//! `han-push mqtt`: readings to an MQTT broker, with Home Assistant
//! discovery. (Being built.)

mod discovery;
mod meters;
mod packet;

/// Runs `han-push mqtt`; the exit status as [`crate::run`] documents it.
pub fn run(args: &crate::cli::MqttArgs, config: &han_common::Config) -> anyhow::Result<u8> {
    let _ = (args, config);
    anyhow::bail!("mqtt: not built yet")
}

/// The keys of `[han-push.mqtt]` (the others earn a warning).
pub const CONFIG_KEYS: &[&str] =
    &["broker", "user", "password", "topic_prefix", "discovery_prefix", "ca", "buffer", "client_id"];
