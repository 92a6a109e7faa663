//! relay: switch relays by hand, by rules on the live stream, and by
//! price. See `--help`.

mod backend;
mod cli;
mod commands;
mod page;
mod run;
mod schedule;
mod settings;
mod settle;
mod store;
mod watch;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    han_common::shell::main("relay", || run::run(&args))
}
