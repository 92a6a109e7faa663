//! A usage error: a bad flag or config setting. Binaries wrap it in their
//! error chain and exit with status 2 (as clap does) when it is there.

/// A usage error, with its message.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);
