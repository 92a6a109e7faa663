//! The maxpower binary's parts: flags and settings, reading the logs,
//! the summary and its outputs, the mails and the state that keeps them
//! from repeating.

pub mod alerts;
pub mod cache;
pub mod cli;
pub mod mail;
pub mod page;
pub mod read;
pub mod run;
pub mod settings;
pub mod state;
pub mod summary;
pub mod text;

pub use han_common::Usage;
