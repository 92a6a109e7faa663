//! Helpers shared by han's own tests (han-testkit-sim would be a cycle:
//! it depends on han).
// Each test crate compiles this module and uses only part of it.
#![allow(dead_code)]

use han::{Config, Decoder, Error, Event, Warning};
use han_testkit::corpus;
use serde_json::Value as Json;

/// The keys a corpus manifest entry names, else the default config.
pub fn keys(entry: &Json) -> Config {
    Config { key: corpus::key(&entry["key"]), auth_key: corpus::key(&entry["auth_key"]), ..Config::default() }
}

/// What went wrong along a decode, in the order it came.
pub enum Trouble {
    /// A frame or telegram rejected.
    Rejected(Error),
    /// A warning about what was decoded.
    Warning(Warning),
}

/// Readings as JSON of a whole input, and its troubles as `note` words them
/// (`None`: not kept).
pub fn decode_all(
    bytes: &[u8],
    cfg: &Config,
    mut note: impl FnMut(Trouble) -> Option<String>,
) -> (Vec<Json>, Vec<String>) {
    let mut d = Decoder::new(cfg.clone());
    d.push(bytes);
    d.finish();
    let (mut readings, mut errors) = (Vec::new(), Vec::new());
    while let Some(e) = d.next_event() {
        match e {
            Event::Reading(r) => readings.push(serde_json::to_value(&*r).expect("serialisable")),
            Event::Rejected { error, .. } => errors.extend(note(Trouble::Rejected(error))),
        }
        errors.extend(std::iter::from_fn(|| d.next_warning()).filter_map(|w| note(Trouble::Warning(w))));
    }
    (readings, errors)
}
