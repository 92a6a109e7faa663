//! The GPIO backends: `rppal` on a Raspberry Pi, and `sim`, which keeps the
//! pin levels in `STATE/relay-sim.json` (for tests and for a laptop). Both
//! take levels from the same pin logic (`relay::pins::level`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result, anyhow};
use relay::pins::{Relay, level, state};

use crate::cli::Backend;

/// Pin levels, written and read back.
pub trait Gpio {
    /// Sets the pin that drives `relay` so that it is `on`.
    fn set(&mut self, relay: &Relay, on: bool) -> Result<()>;
    /// The relay's state as its pin stands, when that can be read.
    fn get(&mut self, relay: &Relay) -> Result<Option<bool>>;
}

pub fn open(kind: Backend, state_dir: &std::path::Path) -> Result<Box<dyn Gpio>> {
    Ok(match kind {
        Backend::Sim => Box::new(Sim { path: state_dir.join("relay-sim.json") }),
        Backend::Rppal => Box::new(Rppal::open()?),
    })
}

/// Levels in a file: `{"pins": {"17": true}}` (true = high).
#[derive(Debug)]
pub struct Sim {
    path: PathBuf,
}

impl Sim {
    fn load(&self) -> Result<BTreeMap<u8, bool>> {
        #[derive(serde::Deserialize)]
        struct File {
            pins: BTreeMap<u8, bool>,
        }
        match std::fs::read_to_string(&self.path) {
            Ok(t) => Ok(serde_json::from_str::<File>(&t)
                .with_context(|| format!("{} is damaged", self.path.display()))?
                .pins),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", self.path.display())),
        }
    }
}

impl Gpio for Sim {
    fn set(&mut self, relay: &Relay, on: bool) -> Result<()> {
        let mut pins = self.load()?;
        pins.insert(relay.pin, level(on, relay.active_low));
        let mut text = serde_json::to_string_pretty(&serde_json::json!({ "pins": pins }))?;
        text.push('\n');
        han_common::atomic::write_atomic(&self.path, text.as_bytes())
            .with_context(|| format!("cannot write {}", self.path.display()))
    }

    fn get(&mut self, relay: &Relay) -> Result<Option<bool>> {
        Ok(self.load()?.get(&relay.pin).map(|high| state(*high, relay.active_low)))
    }
}

/// A Raspberry Pi's GPIO.
pub struct Rppal {
    gpio: rppal::gpio::Gpio,
}

impl std::fmt::Debug for Rppal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Rppal")
    }
}

impl Rppal {
    fn open() -> Result<Rppal> {
        let gpio = rppal::gpio::Gpio::new().map_err(|e| {
            anyhow!(
                "no Raspberry Pi GPIO here ({e}); on another machine use the simulated backend: --backend sim, or backend = \"sim\" in [relay]"
            )
        })?;
        Ok(Rppal { gpio })
    }
}

impl Gpio for Rppal {
    fn set(&mut self, relay: &Relay, on: bool) -> Result<()> {
        let pin = self.gpio.get(relay.pin).with_context(|| format!("GPIO {} for relay {}", relay.pin, relay.number))?;
        let mut out = if level(on, relay.active_low) { pin.into_output_high() } else { pin.into_output_low() };
        // The level must outlive this process: the relay stays as switched.
        out.set_reset_on_drop(false);
        Ok(())
    }

    fn get(&mut self, relay: &Relay) -> Result<Option<bool>> {
        let pin = self.gpio.get(relay.pin).with_context(|| format!("GPIO {} for relay {}", relay.pin, relay.number))?;
        Ok(Some(state(pin.read() == rppal::gpio::Level::High, relay.active_low)))
    }
}
