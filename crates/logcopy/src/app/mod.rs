//! The logcopy binary's parts: flags, the target's checks, the safe copy,
//! and the run.

pub mod cli;
pub mod copy;
pub mod run;
pub mod target;
