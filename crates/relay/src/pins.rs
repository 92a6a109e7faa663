//! The relays of the config file: a number, a name, a BCM pin, whether the
//! relay board is active-low, and the state that is safe when nothing is
//! known. Pure: the GPIO backends use [`level`].

use std::collections::BTreeMap;

/// One relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relay {
    pub number: u32,
    pub name: String,
    /// BCM GPIO number (0-27 on the 40-pin header).
    pub pin: u8,
    /// The board switches the relay on with a low pin (most opto-isolated
    /// boards sold for the Pi do).
    pub active_low: bool,
    /// The state for `restore` without a command on record, and for a
    /// rule's fail-safe unless the rule names another.
    pub safe_on: bool,
    /// The load's minimum on and off times (`min_on`, `min_off`): no rule
    /// and no plan switches it sooner.
    pub min_on: std::time::Duration,
    pub min_off: std::time::Duration,
}

/// The highest BCM GPIO on the header.
pub const MAX_PIN: u8 = 27;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PinError {
    #[error("relay {0}: relays are numbered 1 to 64")]
    Number(i64),
    #[error("relay {relay}: pin {pin} is not a BCM GPIO of the header (0-{MAX_PIN})")]
    Pin { relay: u32, pin: i64 },
    #[error("pin {pin} is used twice: by relay {a} and relay {b}")]
    Twice { pin: u8, a: u32, b: u32 },
    #[error("no relays configured: add [relay.1] with a pin to the config file")]
    None,
}

/// The pin level (`true` = high) that puts a relay in state `on`.
pub fn level(on: bool, active_low: bool) -> bool {
    on != active_low
}

/// The relay state a pin level means.
pub fn state(high: bool, active_low: bool) -> bool {
    high != active_low
}

/// Checks numbers and pins: each in range, no pin twice.
pub fn validate(relays: &[Relay]) -> Result<(), PinError> {
    if relays.is_empty() {
        return Err(PinError::None);
    }
    let mut by_pin: BTreeMap<u8, u32> = BTreeMap::new();
    for r in relays {
        if !(1..=64).contains(&r.number) {
            return Err(PinError::Number(i64::from(r.number)));
        }
        if r.pin > MAX_PIN {
            return Err(PinError::Pin { relay: r.number, pin: i64::from(r.pin) });
        }
        if let Some(a) = by_pin.insert(r.pin, r.number) {
            return Err(PinError::Twice { pin: r.pin, a, b: r.number });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(number: u32, pin: u8) -> Relay {
        Relay {
            number,
            name: format!("r{number}"),
            pin,
            active_low: false,
            safe_on: false,
            min_on: std::time::Duration::ZERO,
            min_off: std::time::Duration::ZERO,
        }
    }

    #[test]
    fn active_low_inverts_the_level() {
        assert!(level(true, false));
        assert!(!level(false, false));
        assert!(!level(true, true), "active-low: on is a low pin");
        assert!(level(false, true));
        for on in [true, false] {
            for low in [true, false] {
                assert_eq!(state(level(on, low), low), on);
            }
        }
    }

    #[test]
    fn validation() {
        assert_eq!(validate(&[r(1, 17), r(2, 27)]), Ok(()));
        assert_eq!(validate(&[r(1, 17), r(2, 17)]), Err(PinError::Twice { pin: 17, a: 1, b: 2 }));
        assert_eq!(validate(&[r(1, 28)]), Err(PinError::Pin { relay: 1, pin: 28 }));
        assert_eq!(validate(&[r(0, 4)]), Err(PinError::Number(0)));
        assert_eq!(validate(&[]), Err(PinError::None));
    }
}
