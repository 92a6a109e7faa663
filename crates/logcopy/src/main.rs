//! logcopy: move closed daily logs and price files to a USB stick,
//! verified. See `--help`.

mod app;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    han_common::usage::exit_status("logcopy", app::run::run(&app::cli::Args::parse()))
}
