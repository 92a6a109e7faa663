//! mbus
