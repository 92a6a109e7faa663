//! Which daily files may leave the Pi: the closed days of the log and price
//! directories, by the local day han-log uses, with what a day's files are
//! and which of them stay (`--keep-days`). Pure: the binary copies.

pub mod select;
