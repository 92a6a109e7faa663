//! `han-push domoticz`. (Being built.)

/// The keys of `[han-push.domoticz]`.
pub const CONFIG_KEYS: &[&str] = &["url", "idx_p1", "idx_gas", "interval", "user", "password", "timeout"];

/// Runs `han-push domoticz`.
pub fn run(args: &crate::cli::DomoticzArgs, config: &han_common::Config) -> anyhow::Result<u8> {
    let _ = (args, config);
    anyhow::bail!("domoticz: not built yet")
}
