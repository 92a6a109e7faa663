//! Relays switched by hand, by rules on the live stream, and by price:
//! the relays of the config and their pin logic, the rules file, the rule
//! engine, who decides among the sources, the schedule's plans, and the
//! state kept between runs. Pure: the binary does the I/O and drives the
//! GPIO.

pub mod decide;
pub mod engine;
pub mod pins;
pub mod plan;
pub mod rules;
pub mod state;
