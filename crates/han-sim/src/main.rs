//! han-sim: a smart electricity meter you can run without a meter. See `--help`.

mod cli;
mod run;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    han_common::shell::main("han-sim", || run::run(&args))
}
