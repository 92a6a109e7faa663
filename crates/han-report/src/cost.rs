//! What the energy cost, slot by slot: each quarter hour's import times the
//! price of the price slot holding it (15 or 60 minutes), the average paid
//! against the average price of the same time, and what moving the flexible
//! part would have saved: each day's import above its base load (its
//! lowest quarter, all day), moved to that day's cheapest slot.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use maxpower::hours::Hour;
use serde::Serialize;
use spotprices::file::PriceFile;

/// Prices by slot, in time order.
#[derive(Debug, Clone, Default)]
pub struct Prices {
    slots: Vec<(DateTime<Utc>, DateTime<Utc>, f64)>,
    pub currency: String,
    /// The all-in price (else spot) of every file.
    pub all_in: bool,
}

impl Prices {
    /// The prices of some days' files; the all-in price where every file has it.
    pub fn from_files(files: &[PriceFile]) -> Prices {
        let all_in = !files.is_empty() && files.iter().all(|f| f.slots.iter().all(|s| s.total_per_kwh.is_some()));
        let mut slots: Vec<_> = files
            .iter()
            .flat_map(|f| {
                f.slots.iter().map(|s| {
                    (s.start, s.end, if all_in { s.total_per_kwh.unwrap_or(s.spot_per_kwh) } else { s.spot_per_kwh })
                })
            })
            .collect();
        slots.sort_by_key(|s| s.0);
        slots.dedup_by_key(|s| s.0);
        Prices { slots, currency: files.first().map(|f| f.currency.clone()).unwrap_or_default(), all_in }
    }

    /// The price of the slot holding `t`.
    pub fn at(&self, t: DateTime<Utc>) -> Option<f64> {
        let i = self.slots.partition_point(|s| s.0 <= t);
        let (s, e, p) = *self.slots.get(i.checked_sub(1)?)?;
        (s <= t && t < e).then_some(p)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Costs {
    /// In the prices' currency.
    pub cost: f64,
    pub priced_kwh: f64,
    /// Import in quarters without a price (no file for the day).
    pub unpriced_kwh: f64,
    /// cost / priced_kwh.
    pub average_paid: Option<f64>,
    /// The mean price over the same quarters, whatever was used in them.
    pub average_price: Option<f64>,
    /// What moving each day's flexible import to its cheapest slot would have saved.
    pub flexible_saving: f64,
}

/// Money to 1e-5 of the currency.
pub(crate) fn r(x: f64) -> f64 {
    (x * 100_000.0).round() / 100_000.0
}

/// Costs not yet rounded or averaged: the parts of a span (its months)
/// add up to the span's.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Sums {
    cost: f64,
    priced_kwh: f64,
    unpriced_kwh: f64,
    flexible_saving: f64,
    price_sum: f64,
    prices: u64,
}

impl Sums {
    /// The sums of some quarters, from their days' costs ([`by_day`]).
    pub fn of(quarters: &[Hour], days: &BTreeMap<NaiveDate, Costs>, prices: &Prices) -> Sums {
        let mut c = Sums::default();
        for q in quarters {
            if let Some(p) = prices.at(q.start) {
                c.price_sum += p;
                c.prices += 1;
            }
        }
        for d in days.values() {
            c.cost += d.cost;
            c.priced_kwh += d.priced_kwh;
            c.unpriced_kwh += d.unpriced_kwh;
            c.flexible_saving += d.flexible_saving;
        }
        c
    }

    /// Adds another part's sums.
    pub fn add(&mut self, o: &Sums) {
        self.cost += o.cost;
        self.priced_kwh += o.priced_kwh;
        self.unpriced_kwh += o.unpriced_kwh;
        self.flexible_saving += o.flexible_saving;
        self.price_sum += o.price_sum;
        self.prices += o.prices;
    }

    /// The costs, rounded, with their averages.
    pub fn costs(&self) -> Costs {
        Costs {
            cost: r(self.cost),
            priced_kwh: r(self.priced_kwh),
            unpriced_kwh: r(self.unpriced_kwh),
            average_paid: (self.priced_kwh > 0.0).then(|| r(self.cost / self.priced_kwh)),
            average_price: (self.prices > 0).then(|| r(self.price_sum / self.prices as f64)),
            flexible_saving: r(self.flexible_saving),
        }
    }
}

/// The costs of each local day.
pub fn by_day(quarters: &[Hour], prices: &Prices, tz: Tz) -> BTreeMap<NaiveDate, Costs> {
    let mut days: BTreeMap<NaiveDate, Vec<(f64, Option<f64>)>> = BTreeMap::new();
    for q in quarters {
        days.entry(q.start.with_timezone(&tz).date_naive())
            .or_default()
            .push((q.import_wh / 1000.0, prices.at(q.start)));
    }
    days.into_iter()
        .map(|(date, qs)| {
            let priced: Vec<(f64, f64)> = qs.iter().filter_map(|(k, p)| p.map(|p| (*k, p))).collect();
            let cost: f64 = priced.iter().map(|(k, p)| k * p).sum();
            let priced_kwh: f64 = priced.iter().map(|(k, _)| k).sum();
            let unpriced_kwh: f64 = qs.iter().filter(|(_, p)| p.is_none()).map(|(k, _)| k).sum();
            // Base load: the day's lowest quarter, in every quarter.
            let base = priced.iter().map(|(k, _)| *k).fold(f64::INFINITY, f64::min);
            let cheapest = priced.iter().map(|(_, p)| *p).fold(f64::INFINITY, f64::min);
            let flexible_saving = if priced.is_empty() {
                0.0
            } else {
                let base_cost: f64 = priced.iter().map(|(_, p)| base * p).sum();
                let flexible_kwh = priced_kwh - base * priced.len() as f64;
                (cost - (base_cost + flexible_kwh * cheapest)).max(0.0)
            };
            let average_paid = (priced_kwh > 0.0).then(|| r(cost / priced_kwh));
            let average_price =
                (!priced.is_empty()).then(|| r(priced.iter().map(|(_, p)| p).sum::<f64>() / priced.len() as f64));
            (
                date,
                Costs {
                    cost: r(cost),
                    priced_kwh: r(priced_kwh),
                    unpriced_kwh: r(unpriced_kwh),
                    average_paid,
                    average_price,
                    flexible_saving: r(flexible_saving),
                },
            )
        })
        .collect()
}
