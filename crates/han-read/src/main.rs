//! han-read: a smart electricity meter in, JSON lines out. See `--help`.

mod cli;
mod dump;
mod input;
mod report;
mod run;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    match run::run(&args) {
        Ok(code) => code,
        Err(e) => {
            // A closed stdout (`han-read ... | head`) is the reader saying it is done.
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            eprintln!("han-read: {e:#}");
            ExitCode::from(1)
        }
    }
}
