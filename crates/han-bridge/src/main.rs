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
    let args = cli::Args::parse();
    han_common::shell::main("han-bridge", || run::run(&args))
}
