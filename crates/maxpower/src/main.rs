//! maxpower: hourly energy from the daily logs, the month's capacity
//! peaks, and a mail before an hour goes over the limit. See `--help`.

mod app;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = app::cli::Args::parse();
    match app::run::run(&args) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("maxpower: {e:#}");
            let usage = e.chain().any(|c| c.downcast_ref::<app::Usage>().is_some());
            ExitCode::from(if usage { app::run::USAGE } else { 1 })
        }
    }
}
