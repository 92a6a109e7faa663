//! Reading a meter's port: the serial line settings (the flags, the
//! settings `--baud auto` tries, the probe) and the self-reopening live link
//! (a serial device or TCP), shared by han-read and han-bridge so both read
//! a port the same way.

pub mod live;
pub mod serial;
