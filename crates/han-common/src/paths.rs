//! Default places (docs/design.md, "Files"); every one can be overridden by
//! a flag or the config file.

/// The config file.
pub const CONFIG: &str = "/etc/han-tools/config.toml";
/// The environment variable naming another config file.
pub const CONFIG_ENV: &str = "HAN_TOOLS_CONFIG";
/// Daily logs.
pub const LOG_DIR: &str = "/var/lib/han-tools/log";
/// Price files.
pub const PRICES_DIR: &str = "/var/lib/han-tools/prices";
/// Tool state.
pub const STATE_DIR: &str = "/var/lib/han-tools/state";
/// The web folder that install.sh makes and the crontab names; a tool
/// writes pages only when given a folder (`--www`, `www`).
pub const WWW_DIR: &str = "/var/www/html";
