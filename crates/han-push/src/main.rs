//! han-push: the meter's live JSON-line stream in, each reading forwarded
//! to MQTT, InfluxDB or Domoticz. See `--help`.
//!
//! Exit status: 0 the input ended and every reading was delivered, 1 an
//! error (stdin unreadable, credentials refused ...), 2 bad usage, 3 the
//! input ended but some readings could not be delivered (the count is said).

mod cli;
mod deliver;
mod domoticz;
mod http;
mod influx;
mod input;
mod mqtt;
mod queue;
mod run;
mod secrets;
mod settings;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    han_common::shell::main("han-push", || run::run(&args))
}
