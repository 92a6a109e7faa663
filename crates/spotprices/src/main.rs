//! spotprices: day-ahead spot prices for a bidding zone, in the local
//! currency and all-in, as files and a page. See `--help`.

mod app;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    han_common::usage::exit_status("spotprices", app::run(&app::cli::Args::parse()))
}
