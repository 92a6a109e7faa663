//! Writing a tool's output: a closed pipe (`tool | head`) is done, not an
//! error.

use std::io::{self, Write};

/// Prints `s` to stdout and flushes; a closed pipe is `Ok`.
pub fn print(s: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    crate::shell::closed_pipe_is_done(out.write_all(s.as_bytes()).and_then(|()| out.flush()))
}
