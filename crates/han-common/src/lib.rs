//! What every han-tools binary shares: the config file, the default places,
//! time zones, atomic file writes, the tools' shell (exit status, closed
//! pipe, signals), and reading stream lines and the daily
//! logs back, and (on Unix) when a day file is closed and merging it into
//! its gzip file. Kept thin: a tool that needs more brings its own
//! dependency.

pub mod atomic;
pub mod config;
pub mod days;
pub mod duration;
#[cfg(unix)]
pub mod gzday;
pub mod limit;
pub mod line;
pub mod logs;
pub mod paths;
pub mod shell;
pub mod stdout;
pub mod times;
pub mod tz;
pub mod usage;
pub mod www;

pub use config::{Config, ConfigError};
pub use usage::Usage;
