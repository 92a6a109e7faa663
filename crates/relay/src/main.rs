//! relay: switch relays by hand, by rules on the live stream, and by
//! price. See `--help`.

mod app;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    han_common::usage::exit_status("relay", app::run(&app::cli::Args::parse()))
}
