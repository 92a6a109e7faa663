//! The shell every tool's `main` runs in, so that each `main.rs` is a few
//! lines: the run's exit status, an error said on stderr with its status
//! (2 for a [`Usage`] in the chain, else 1), a closed stdout as done, and
//! the signals a tool stops on.
//!
//! SIGPIPE needs no set-up: Rust's runtime ignores it, so a write to a
//! closed pipe is an `EPIPE` error, which [`main`] takes as done.

use std::io;
use std::process::ExitCode;

use crate::usage;
#[cfg(doc)]
use crate::usage::Usage;

/// Runs a tool: `run`'s exit status; its error said on stderr as
/// `tool: what: why` with status 2 when a [`Usage`] is in the chain, else
/// 1; a closed pipe anywhere in the chain is done (status 0, quiet).
///
/// `main` parses the flags itself (clap exits 2 on its own errors), then:
/// `han_common::shell::main("tool", || run::run(&args))`.
pub fn main<T: Into<ExitCode>>(tool: &str, run: impl FnOnce() -> anyhow::Result<T>) -> ExitCode {
    let result = run();
    // A closed stdout (`tool ... | head`) is the reader saying it is done.
    if result.as_ref().is_err_and(is_closed_pipe) {
        return ExitCode::SUCCESS;
    }
    usage::exit_status(tool, result)
}

/// Whether a closed pipe (`EPIPE`) is anywhere in the error's chain.
pub fn is_closed_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<io::Error>().is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe))
}

/// A write's result with a closed pipe taken as done: `Ok`.
pub fn closed_pipe_is_done(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

#[cfg(unix)]
pub use signals::*;

#[cfg(unix)]
mod signals {
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;

    use anyhow::Context;
    pub use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR1};
    pub use signal_hook::iterator::Signals;

    /// The signals a tool that reads a stream stops on, cleanly.
    pub const STOP: [i32; 3] = [SIGTERM, SIGINT, SIGHUP];

    /// A flag raised on SIGTERM, SIGINT or SIGHUP ([`STOP`]): the tool
    /// finishes what it holds and stops as at the end of its input.
    pub fn stop_flag() -> anyhow::Result<Arc<AtomicBool>> {
        flag(&STOP).context("cannot set up signal handling")
    }

    /// A flag raised by any of `signals`, which then no longer end the
    /// process; a loop looks at it.
    pub fn flag(signals: &[i32]) -> std::io::Result<Arc<AtomicBool>> {
        let flag = Arc::new(AtomicBool::new(false));
        for &sig in signals {
            signal_hook::flag::register(sig, Arc::clone(&flag))?;
        }
        Ok(flag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Usage;
    use anyhow::Context;

    #[test]
    fn a_closed_pipe_anywhere_in_the_chain_is_done() {
        let closed = || Err::<u8, _>(io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(is_closed_pipe(&closed().context("cannot write").context("output").unwrap_err()));
        assert_eq!(main("t", || Ok(closed()?)), ExitCode::SUCCESS);
        assert!(!is_closed_pipe(&anyhow::anyhow!("no")));
        assert_eq!(main("t", || Err::<u8, _>(Usage("bad".into()).into())), ExitCode::from(usage::USAGE));
        assert_eq!(main("t", || Err::<u8, _>(anyhow::anyhow!("no"))), ExitCode::from(1));
        assert_eq!(main("t", || Ok(3u8)), ExitCode::from(3));
        assert!(closed_pipe_is_done(Err(io::Error::from(io::ErrorKind::BrokenPipe))).is_ok());
        assert!(closed_pipe_is_done(Err(io::Error::from(io::ErrorKind::NotFound))).is_err());
    }
}
