//! Day-ahead spot prices: the documents of the sources (ENTSO-E, the public
//! per-country APIs), the exchange rates, the local day cut from UTC slots,
//! the all-in price and the price files, and the web pages that come
//! instead of a document. Pure: spotprices fetches and writes the files,
//! relay and han-report read them.

pub mod entsoe;
pub mod file;
pub mod public;
pub mod rates;
pub mod slots;
pub mod summary;
pub mod tariff;
pub mod web;
pub mod zones;
