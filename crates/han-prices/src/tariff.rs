//! The all-in price of a slot: spot (or a fixed-price scheme), supplier
//! markup, grid energy fee by time of day, taxes, VAT, less Norway's
//! subsidy. Every amount is in the local currency per kWh, ex VAT.

use chrono::{DateTime, Datelike, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use han_common::{Config, ConfigError};

use crate::zones::Zone;

/// The section of the config file that holds the tariff.
const S: &str = "spotprices";

/// A support scheme.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Support {
    None,
    /// Norway's strømstøtte: `share` of the hour's mean spot price above
    /// `threshold` (ex VAT), per hour.
    Share {
        share: f64,
        threshold: f64,
    },
    /// A fixed energy price instead of spot (Norgespris: 0.40 NOK ex VAT).
    Fixed {
        price: f64,
    },
}

/// The grid's energy fee: `day`, or `night` inside the night hours (and all
/// weekend when `weekend_is_night`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grid {
    pub day: f64,
    pub night: f64,
    pub night_from: NaiveTime,
    pub night_to: NaiveTime,
    pub weekend_is_night: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tariff {
    pub markup: f64,
    pub grid: Grid,
    /// Electricity tax and other fees per kWh.
    pub tax: f64,
    /// Percent.
    pub vat: f64,
    pub support: Support,
    pub tz: Tz,
}

/// VAT on household electricity by country, percent (DESIGN: configuration
/// wins; these are defaults from the research note).
pub fn vat_for(country: &str, region: Option<&str>) -> f64 {
    // Households in Nordland, Troms and Finnmark pay no VAT on electricity.
    let north = ["nordland", "troms", "finnmark", "troms og finnmark", "nord-troms"];
    if country == "NO" && region.is_some_and(|r| north.contains(&r.trim().to_lowercase().as_str())) {
        return 0.0;
    }
    match country {
        "NO" | "SE" | "DK" => 25.0,
        "FI" => 25.5,
        "NL" => 21.0,
        "DE" => 19.0,
        "BE" => 6.0,
        "AT" | "FR" | "EE" => 20.0,
        "LV" | "LT" | "ES" => 21.0,
        "PL" => 23.0,
        "CH" => 8.1,
        _ => 0.0,
    }
}

impl Grid {
    pub fn flat(fee: f64) -> Grid {
        Grid { day: fee, night: fee, night_from: NaiveTime::MIN, night_to: NaiveTime::MIN, weekend_is_night: false }
    }

    /// The fee for a slot starting at `t`.
    pub fn fee(&self, t: DateTime<Utc>, tz: Tz) -> f64 {
        let local = t.with_timezone(&tz);
        let weekend = matches!(local.weekday(), Weekday::Sat | Weekday::Sun);
        let time = local.time();
        let (from, to) = (self.night_from, self.night_to);
        let night = if from <= to { from <= time && time < to } else { time >= from || time < to };
        if night || (weekend && self.weekend_is_night) { self.night } else { self.day }
    }
}

impl Tariff {
    /// The all-in price of a slot whose spot price is `spot` and whose
    /// hour's mean spot price is `hour_spot` (both per kWh, ex VAT).
    pub fn total(&self, start: DateTime<Utc>, spot: f64, hour_spot: f64) -> f64 {
        let (energy, support) = match self.support {
            Support::None => (spot, 0.0),
            Support::Share { share, threshold } => (spot, share * (hour_spot - threshold).max(0.0)),
            Support::Fixed { price } => (price, 0.0),
        };
        let ex = energy + self.markup + self.grid.fee(start, self.tz) + self.tax - support;
        ex * (1.0 + self.vat / 100.0)
    }
}

/// Why the tariff in the config file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("config [spotprices] {0}")]
    Bad(String),
}

/// `22:00-06:00`.
fn night_hours(s: &str) -> Option<(NaiveTime, NaiveTime)> {
    let (a, b) = s.split_once('-')?;
    let t = |x: &str| NaiveTime::parse_from_str(x.trim(), "%H:%M").ok();
    Some((t(a)?, t(b)?))
}

/// The tariff of `[spotprices]` in the config file for `zone`, when any
/// part of it is set: what `spotprices fetch` folds into `total_per_kwh`,
/// and what han-report reads to tell the support in a file's prices.
pub fn from_config(file: &Config, zone: &Zone) -> Result<Option<Tariff>, SettingError> {
    let number = |key: &str| file.number(S, key);
    let keys = ["markup", "grid_fee", "grid_day", "grid_night", "tax", "vat", "region", "support", "fixed_price"];
    if !keys.iter().any(|k| file.has(S, k)) {
        return Ok(None);
    }
    let region = file.string(S, "region")?;
    let flat = number("grid_fee")?.unwrap_or(0.0);
    let day = number("grid_day")?.unwrap_or(flat);
    let night_fee = number("grid_night")?.unwrap_or(day);
    let (night_from, night_to) = match file.string(S, "night")? {
        None => (
            NaiveTime::from_hms_opt(22, 0, 0).unwrap_or_default(),
            NaiveTime::from_hms_opt(6, 0, 0).unwrap_or_default(),
        ),
        Some(h) => night_hours(&h).ok_or_else(|| SettingError::Bad(format!("night = {h:?}: as \"22:00-06:00\"")))?,
    };
    let support = match file.string(S, "support")?.as_deref() {
        None | Some("none") => Support::None,
        Some("stromstotte" | "strømstøtte") => Support::Share {
            share: number("support_share")?.unwrap_or(0.9),
            threshold: number("support_threshold")?.unwrap_or(0.75),
        },
        Some("norgespris" | "fixed") => Support::Fixed { price: number("fixed_price")?.unwrap_or(0.40) },
        Some(o) => return Err(SettingError::Bad(format!("support = {o:?}: none, stromstotte or norgespris"))),
    };
    let vat = match number("vat")? {
        Some(v) if (0.0..100.0).contains(&v) => v,
        Some(v) => return Err(SettingError::Bad(format!("vat = {v}: a percentage, as 25"))),
        None => vat_for(zone.country, region.as_deref()),
    };
    Ok(Some(Tariff {
        markup: number("markup")?.unwrap_or(0.0),
        grid: Grid {
            day,
            night: night_fee,
            night_from,
            night_to,
            weekend_is_night: file.boolean(S, "weekend_is_night")?.unwrap_or(false),
        },
        tax: number("tax")?.unwrap_or(0.0),
        vat,
        support,
        tz: zone.tz,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use chrono_tz::Europe::Oslo;

    fn at(h: u32, day: u32) -> DateTime<Utc> {
        Oslo.with_ymd_and_hms(2026, 1, day, h, 0, 0).single().expect("time").to_utc()
    }

    #[test]
    fn night_fee_across_midnight_and_weekends() {
        let g = Grid {
            day: 0.40,
            night: 0.30,
            night_from: NaiveTime::from_hms_opt(22, 0, 0).expect("t"),
            night_to: NaiveTime::from_hms_opt(6, 0, 0).expect("t"),
            weekend_is_night: true,
        };
        // 2026-01-05 is a Monday, 01-03 a Saturday.
        assert_eq!(g.fee(at(12, 5), Oslo), 0.40);
        assert_eq!(g.fee(at(23, 5), Oslo), 0.30);
        assert_eq!(g.fee(at(5, 5), Oslo), 0.30);
        assert_eq!(g.fee(at(6, 5), Oslo), 0.40);
        assert_eq!(g.fee(at(12, 3), Oslo), 0.30);
    }

    #[test]
    fn subsidy_pays_the_share_above_the_threshold_per_hour() {
        let t = Tariff {
            markup: 0.0,
            grid: Grid::flat(0.0),
            tax: 0.0,
            vat: 25.0,
            support: Support::Share { share: 0.9, threshold: 0.75 },
            tz: Oslo,
        };
        // 1.75 spot, hour mean 1.75: pays 0.9 of 1.00; (1.75 - 0.90) * 1.25.
        assert!((t.total(at(12, 5), 1.75, 1.75) - 1.0625).abs() < 1e-12);
        // Below the threshold: nothing.
        assert!((t.total(at(12, 5), 0.5, 0.5) - 0.625).abs() < 1e-12);
        assert_eq!(vat_for("NO", Some("Nordland")), 0.0);
        assert_eq!(vat_for("NO", Some("Vestland")), 25.0);
    }

    #[test]
    fn the_tariff_from_the_config_file() {
        let zone = crate::zones::by_name("NO1").expect("zone");
        let c = |t: &str| Config::parse(t, std::path::Path::new("config.toml")).expect("toml");
        assert!(from_config(&c("[spotprices]\nzone = \"NO1\"\n"), zone).expect("read").is_none());
        let t = from_config(&c("[spotprices]\nsupport = \"stromstotte\"\nregion = \"Troms\"\n"), zone)
            .expect("read")
            .expect("a tariff");
        assert_eq!(t.support, Support::Share { share: 0.9, threshold: 0.75 });
        assert_eq!(t.vat, 0.0);
        let e = from_config(&c("[spotprices]\nsupport = \"some\"\n"), zone).expect_err("refused");
        assert_eq!(e.to_string(), "config [spotprices] support = \"some\": none, stromstotte or norgespris");
    }
}
