//! han-report: what the house used, when, and what it cost. See `--help`.

mod app;

use std::process::ExitCode;

use clap::Parser;

/// Bad usage, as clap's own.
const USAGE: u8 = 2;

fn main() -> ExitCode {
    let args = app::cli::Args::parse();
    match app::run(&args) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("han-report: {e:#}");
            let usage = e.chain().any(|c| c.downcast_ref::<han_common::Usage>().is_some());
            ExitCode::from(if usage { USAGE } else { 1 })
        }
    }
}
