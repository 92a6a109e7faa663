//! Energy from the readings, pure (no I/O, no clock): energy per clock hour
//! (or quarter hour) from readings (`hours`), Norway's capacity step from
//! the month's hours (`capacity`), and Belgium's monthly peak demand
//! (`belgium`). maxpower and han-report read the logs and feed it.

pub mod belgium;
pub mod capacity;
pub mod hours;
