//! A usage error: a bad flag or config setting. Binaries wrap it in their
//! error chain and exit with status 2 (as clap does) when it is there.

/// A usage error, with its message.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

/// Exit status for bad usage (as clap's own).
pub const USAGE: u8 = 2;

/// What a binary's `main` returns for its run: the run's own status, or
/// the error said on stderr (`tool: what: why`) and [`USAGE`] when a
/// [`Usage`] is in its chain, else 1.
pub fn exit_status<T: Into<std::process::ExitCode>>(tool: &str, result: anyhow::Result<T>) -> std::process::ExitCode {
    match result {
        Ok(code) => code.into(),
        Err(e) => {
            eprintln!("{tool}: {e:#}");
            let usage = e.chain().any(|c| c.downcast_ref::<Usage>().is_some());
            std::process::ExitCode::from(if usage { USAGE } else { 1 })
        }
    }
}
