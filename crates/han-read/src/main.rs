//! han-read: a smart electricity meter in, JSON lines out. See `--help`.

mod anonymise;
mod cli;
mod dump;
mod input;
mod notes;
mod run;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    han_common::shell::main("han-read", || run::run(&args))
}
