//! han-read's library: the serial line settings and the self-reopening live
//! link, shared with han-bridge so both read a meter's port the same way.

pub mod live;
pub mod serial;
