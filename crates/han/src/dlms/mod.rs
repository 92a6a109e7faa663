//! DLMS/COSEM: the APDUs push ports send, their ciphering, A-XDR, and the
//! brand list layouts (built in and the user's meter profiles) that turn
//! a decoded A-XDR tree into a reading.

pub mod apdu;
pub mod axdr;
pub(crate) mod cipher;
pub(crate) mod draft;
pub(crate) mod lists;
pub mod profiles;
pub(crate) mod units;
