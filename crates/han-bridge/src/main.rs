//! han-bridge: one meter serial port shared with many readers over TCP.
//! See `--help`.

mod cli;
mod fanout;
mod notes;
mod port;
mod run;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    match run::run(&args) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("han-bridge: {e:#}");
            let usage = e.chain().any(|c| c.downcast_ref::<han_common::Usage>().is_some());
            ExitCode::from(if usage { run::USAGE } else { 1 })
        }
    }
}
