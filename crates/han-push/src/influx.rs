//! `han-push influx`. (Being built.)

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
];

/// Runs `han-push influx`.
pub fn run(args: &crate::cli::InfluxArgs, config: &han_common::Config) -> anyhow::Result<u8> {
    let _ = (args, config);
    anyhow::bail!("influx: not built yet")
}
