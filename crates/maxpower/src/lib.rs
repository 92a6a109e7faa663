//! maxpower's computing, pure (no I/O, no clock): energy per clock hour
//! from readings (`hours`), and Norway's capacity step from the month's
//! hours (`capacity`). The binary (to come) reads the logs and tells the
//! owner.

pub mod capacity;
pub mod hours;
