//! spotprices: day-ahead spot prices for a bidding zone, in the local
//! currency and all-in, as files and a page. See `--help`.

mod cli;
mod fetch;
mod http;
mod page;
mod run;
mod settings;
mod show;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    han_common::shell::main("spotprices", || run::run(&args))
}
