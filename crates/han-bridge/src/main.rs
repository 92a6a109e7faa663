//! han-bridge: one meter serial port shared with many readers over TCP.
//! See `--help`.

mod cli;
mod fanout;
mod notes;
mod port;
mod run;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    han_common::usage::exit_status("han-bridge", run::run(&cli::Args::parse()))
}
