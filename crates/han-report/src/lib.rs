//! han-report's computing, pure: readings in (instant and sample), a
//! summary out: energy per day and month, the hour-of-day profile, power,
//! the month's capacity peaks (Norway's three-day average and step,
//! Belgium's quarter hour), gaps, and with prices the cost. The sums by
//! hour and quarter are han-energy's (`han_energy::hours`).

pub mod cost;
pub mod fmt;
pub mod report;
pub mod summary;
