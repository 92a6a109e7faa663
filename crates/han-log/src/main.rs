//! han-log: the meter's JSON-line stream in, daily files out. See `--help`.

mod cli;
mod compress;
mod csv;
mod input;
mod live;
mod report;
mod run;
mod store;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    match run::run(&args) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("han-log: {e:#}");
            let usage = e.chain().any(|c| c.downcast_ref::<han_common::Usage>().is_some());
            ExitCode::from(if usage { run::USAGE } else { 1 })
        }
    }
}
