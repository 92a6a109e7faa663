//! What every han-tools binary shares: the config file and the default
//! places. Kept thin: a tool that needs more brings its own dependency.

pub mod config;
pub mod paths;

pub use config::{Config, ConfigError};
