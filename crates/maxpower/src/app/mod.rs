//! The maxpower binary's parts: flags and settings, reading the logs,
//! the summary and its outputs, the mails and the state that keeps them
//! from repeating.

pub mod alerts;
pub mod cli;
pub mod mail;
pub mod page;
pub mod read;
pub mod run;
pub mod settings;
pub mod state;
pub mod summary;
pub mod text;

/// A usage error (exit status 2).
#[derive(Debug)]
pub struct Usage(pub String);
impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for Usage {}
