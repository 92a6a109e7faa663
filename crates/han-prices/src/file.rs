//! The price files, `prices/YYYY-MM-DD.json` and `.csv`: what
//! `relay schedule` and `han-report` read. docs/prices-format.md is the
//! user's description; keep them in step.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::rates::Rate;
use crate::slots::{self, Slot, round};
use crate::tariff::Tariff;

/// One delivery day of one zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceFile {
    pub zone: String,
    /// The local delivery day.
    pub date: NaiveDate,
    /// The zone's IANA time zone: the day runs from its midnight to the next.
    pub tz: String,
    pub currency: String,
    /// EUR to `currency`; absent when the currency is EUR.
    pub rate: Option<Rate>,
    /// Where the prices came from: `entsoe`, `hvakosterstrommen`, `elprisetjustnu`.
    pub source: String,
    pub fetched: DateTime<Utc>,
    /// Minutes of the shortest slot (15 since the 15-minute market, 60 before).
    pub resolution: u32,
    pub slots: Vec<SlotPrice>,
    /// Hour means (`--hourly`), for users billed per hour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<Vec<SlotPrice>>,
}

/// One slot's prices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlotPrice {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The truth, as the market set it.
    pub eur_per_mwh: f64,
    /// Spot in `currency` per kWh, nothing added.
    pub spot_per_kwh: f64,
    /// With markup, grid fee, taxes and VAT, less support; absent when no
    /// tariff is configured.
    pub total_per_kwh: Option<f64>,
}

/// The place of a day's file in the prices directory, without extension.
pub fn stem(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// What a file is made from.
#[derive(Debug, Clone)]
pub struct Build<'a> {
    pub zone: &'a str,
    pub tz: &'a str,
    pub date: NaiveDate,
    pub currency: &'a str,
    pub rate: Option<Rate>,
    pub source: &'a str,
    pub fetched: DateTime<Utc>,
    pub tariff: Option<&'a Tariff>,
    pub hourly: bool,
}

impl PriceFile {
    /// The file for a day's slots (already cut to the day).
    pub fn build(b: Build<'_>, day: &[Slot]) -> PriceFile {
        let factor = b.rate.as_ref().map_or(1.0, |r| r.value) / 1000.0;
        let hours = slots::hourly(day);
        let hour_spot =
            |t: DateTime<Utc>| hours.iter().find(|h| h.start <= t && t < h.end()).map(|h| h.eur_per_mwh * factor);
        let price = |s: &Slot, hour: Option<f64>| {
            let spot = s.eur_per_mwh * factor;
            SlotPrice {
                start: s.start,
                end: s.end(),
                eur_per_mwh: s.eur_per_mwh,
                spot_per_kwh: round(spot, 5),
                total_per_kwh: b.tariff.map(|t| round(t.total(s.start, spot, hour.unwrap_or(spot)), 5)),
            }
        };
        PriceFile {
            zone: b.zone.to_string(),
            date: b.date,
            tz: b.tz.to_string(),
            currency: b.currency.to_string(),
            rate: b.rate.clone(),
            source: b.source.to_string(),
            fetched: b.fetched,
            resolution: day.iter().map(|s| s.minutes).min().unwrap_or(60),
            slots: day.iter().map(|s| price(s, hour_spot(s.start))).collect(),
            hours: b.hourly.then(|| hours.iter().map(|h| price(h, Some(h.eur_per_mwh * factor))).collect()),
        }
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    pub fn from_json(text: &str) -> Result<PriceFile, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The same columns as the JSON's slots, one row per slot.
    pub fn to_csv(&self) -> String {
        let mut s = String::from("start,end,eur_per_mwh,spot_per_kwh,total_per_kwh\n");
        for p in &self.slots {
            let total = p.total_per_kwh.map(|t| t.to_string()).unwrap_or_default();
            s.push_str(&format!(
                "{},{},{},{},{}\n",
                p.start.format("%Y-%m-%dT%H:%M:%SZ"),
                p.end.format("%Y-%m-%dT%H:%M:%SZ"),
                p.eur_per_mwh,
                p.spot_per_kwh,
                total
            ));
        }
        s
    }

    /// The slot holding `t`.
    pub fn slot_at(&self, t: DateTime<Utc>) -> Option<&SlotPrice> {
        self.slots.iter().find(|s| s.start <= t && t < s.end)
    }
}
