//! logcopy: move closed daily logs and price files to a USB stick,
//! verified. See `--help`.

mod cli;
mod copy;
mod run;
mod target;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    han_common::shell::main("logcopy", || run::run(&args))
}
