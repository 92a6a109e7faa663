//! maxpower's computing, pure (no I/O, no clock): energy per clock hour
//! (or quarter hour) from readings (`hours`), Norway's capacity step from
//! the month's hours (`capacity`), and Belgium's monthly peak demand
//! (`belgium`). The binary reads the logs and tells the owner.

pub mod belgium;
pub mod capacity;
pub mod hours;
