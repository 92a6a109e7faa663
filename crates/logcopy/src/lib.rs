//! Which daily files may leave the Pi: the closed days of the log and price
//! directories, by the local day han-log uses, with what a day's files are
//! and which of them stay (`--keep-days`); and the mount table and fstab
//! read, for the check that the target is on the stick. Pure: the binary
//! copies.

pub mod mounts;
pub mod select;
