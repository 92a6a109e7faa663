//! hdlc
