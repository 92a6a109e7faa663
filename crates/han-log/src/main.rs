//! han-log: the meter's JSON-line stream in, daily files out. See `--help`.

mod cli;
mod compress;
mod csv;
mod input;
mod lock;
mod notes;
mod page;
mod run;
mod store;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    han_common::shell::main("han-log", || run::run(&args))
}
