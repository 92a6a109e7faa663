//! What the energy cost, slot by slot: each quarter hour's import times the
//! price of the price slot holding it (15 or 60 minutes), the average paid
//! against the average price of the same time, and what moving the flexible
//! part would have saved: each day's import above its base load (its
//! lowest quarter, all day), moved to that day's cheapest slot.
//!
//! Import without a price (no file for its day) is unpriced, never free.
//! Norway's support schemes end at a month's cap (5,000 kWh): the all-in
//! price of the files has the support in it, so a kWh past the cap pays
//! its slot's support back.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use han_energy::hours::Hour;
use han_prices::file::PriceFile;
use han_prices::tariff::{Support, Tariff};
use serde::Serialize;

/// Norway's support (strømstøtte, Norgespris) ends at 5,000 kWh a month per household.
pub const NORWAY_SUPPORT_CAP_KWH: f64 = 5000.0;

/// One price slot.
#[derive(Debug, Clone, Copy)]
struct Slot {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    price: f64,
    /// What a support scheme took off `price` per kWh, VAT included: what
    /// a kWh past the month's cap pays back. `None`: not known.
    support: Option<f64>,
}

/// Prices by slot, in time order.
#[derive(Debug, Clone, Default)]
pub struct Prices {
    slots: Vec<Slot>,
    pub currency: String,
    /// The all-in price (else spot) of every file.
    pub all_in: bool,
    /// The kWh of a month that get the support, when the prices hold one.
    pub support_cap: Option<f64>,
}

impl Prices {
    /// The prices of some days' files; the all-in price where every file has it.
    pub fn from_files(files: &[PriceFile]) -> Prices {
        Prices::with_support_cap(files, None, None)
    }

    /// The same, with a month's support ending at `cap_kwh`. The support is
    /// in the all-in price only, and only when the tariff that made it had
    /// one: `tariff` is the one `[spotprices]` describes, and a file's
    /// support is known when that tariff gives the file's all-in prices
    /// (see [`support_in`]). Without a tariff the cap still counts, and the
    /// import past it is said to have a support not known.
    pub fn with_support_cap(files: &[PriceFile], cap_kwh: Option<f64>, tariff: Option<&Tariff>) -> Prices {
        let all_in = !files.is_empty() && files.iter().all(|f| f.slots.iter().all(|s| s.total_per_kwh.is_some()));
        let cap = cap_kwh.filter(|_| all_in && tariff.is_none_or(|t| t.support != Support::None));
        let mut slots: Vec<Slot> = files
            .iter()
            .flat_map(|f| {
                let support = cap.zip(tariff).and_then(|(_, t)| support_in(f, t));
                f.slots.iter().enumerate().map(move |(i, s)| Slot {
                    start: s.start,
                    end: s.end,
                    price: if all_in { s.total_per_kwh.unwrap_or(s.spot_per_kwh) } else { s.spot_per_kwh },
                    support: support.as_ref().and_then(|v| v.get(i).copied()),
                })
            })
            .collect();
        slots.sort_by_key(|s| s.start);
        slots.dedup_by_key(|s| s.start);
        Prices {
            slots,
            currency: files.first().map(|f| f.currency.clone()).unwrap_or_default(),
            all_in,
            support_cap: cap,
        }
    }

    fn slot(&self, t: DateTime<Utc>) -> Option<&Slot> {
        let i = self.slots.partition_point(|s| s.start <= t);
        let s = self.slots.get(i.checked_sub(1)?)?;
        (s.start <= t && t < s.end).then_some(s)
    }

    /// The price of the slot holding `t`.
    pub fn at(&self, t: DateTime<Utc>) -> Option<f64> {
        self.slot(t).map(|s| s.price)
    }
}

/// The support in each slot's all-in price (per kWh, VAT included), when
/// `tariff` gives the file's all-in prices: made again as `spotprices
/// fetch` makes them (the slot's spot, the mean spot of its hour), each
/// within the file's rounding. A file that another tariff made (the config
/// changed since) gives `None`: its support is not known.
pub fn support_in(file: &PriceFile, tariff: &Tariff) -> Option<Vec<f64>> {
    use han_prices::slots::{Slot as Spot, hourly};
    let factor = file.rate.as_ref().map_or(1.0, |r| r.value) / 1000.0;
    let spots = file
        .slots
        .iter()
        .map(|s| {
            let minutes = u32::try_from((s.end - s.start).num_minutes()).ok()?;
            Some(Spot { start: s.start, minutes, eur_per_mwh: s.eur_per_mwh })
        })
        .collect::<Option<Vec<Spot>>>()?;
    let hours = hourly(&spots);
    let without = Tariff { support: Support::None, ..*tariff };
    file.slots
        .iter()
        .map(|s| {
            let spot = s.eur_per_mwh * factor;
            let hour =
                hours.iter().find(|h| h.start <= s.start && s.start < h.end()).map_or(spot, |h| h.eur_per_mwh * factor);
            let total = tariff.total(s.start, spot, hour);
            // The file holds 5 decimals: its price is this tariff's when
            // within one rounding (and float noise) of it.
            let same = s.total_per_kwh.is_some_and(|t| (t - total).abs() <= 1.5e-5);
            same.then(|| without.total(s.start, spot, hour) - total)
        })
        .collect()
}

/// One quarter hour's import and its price.
#[derive(Debug, Clone, Copy)]
pub struct Quarter {
    pub start: DateTime<Utc>,
    pub kwh: f64,
    /// Its slot's price, when it had one.
    pub price: Option<f64>,
    /// The part of `kwh` past the month's support cap.
    pub over_kwh: f64,
    /// The support that part pays back; `None` when it is past the cap and
    /// its slot's support is not known.
    pub over_cost: Option<f64>,
}

impl Quarter {
    /// Its import at its slot's price, with the support past the cap paid back.
    pub fn cost(&self) -> Option<f64> {
        self.price.map(|p| self.kwh * p + self.over_cost.unwrap_or(0.0))
    }
}

/// A month's quarters (in time order) with their prices. `used_kwh` is the
/// month's import before the first of them: the cap counts from the
/// month's start, and import counts toward it priced or not.
pub fn priced(quarters: &[Hour], prices: &Prices, mut used_kwh: f64) -> Vec<Quarter> {
    quarters
        .iter()
        .map(|q| {
            let kwh = q.import_wh / 1000.0;
            let slot = prices.slot(q.start);
            let over_kwh = match prices.support_cap {
                Some(cap) => {
                    let over = (used_kwh + kwh - cap).max(0.0).min(kwh.max(0.0));
                    used_kwh += kwh;
                    over
                }
                None => 0.0,
            };
            let over_cost = match slot.and_then(|s| s.support) {
                Some(support) => Some(over_kwh * support),
                None => (over_kwh == 0.0).then_some(0.0),
            };
            Quarter { start: q.start, kwh, price: slot.map(|s| s.price), over_kwh, over_cost }
        })
        .collect()
}

/// The support cap's part of the costs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct SupportCap {
    /// The kWh of a month that get the support.
    pub cap_kwh: f64,
    /// Import past the cap.
    pub over_kwh: f64,
    /// What the support that import paid back added to `cost`.
    pub support_lost: f64,
    /// Priced import past the cap whose support is not known (a price file
    /// that the configured tariff does not give): `cost` leaves its
    /// support out.
    pub unknown_kwh: f64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Costs {
    /// In the prices' currency; `None` when no quarter had a price.
    pub cost: Option<f64>,
    pub priced_kwh: f64,
    /// Import in quarters without a price (no file for the day).
    pub unpriced_kwh: f64,
    /// unpriced_kwh's share of the import, when there is some.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unpriced_share: Option<f64>,
    /// cost / priced_kwh.
    pub average_paid: Option<f64>,
    /// The mean price over the same quarters, whatever was used in them.
    pub average_price: Option<f64>,
    /// What moving each day's flexible import to its cheapest slot would
    /// have saved (at the slots' prices, before the support cap).
    pub flexible_saving: f64,
    /// When the costs hold a support that ends at a month's cap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub support_cap: Option<SupportCap>,
}

/// Money to 1e-5 of the currency (and never -0.0: a sum of nothing is).
pub(crate) fn r(x: f64) -> f64 {
    (x * 100_000.0).round() / 100_000.0 + 0.0
}

/// `part`'s share of `part + rest`, when `part` is more than nothing.
pub(crate) fn share(part: f64, rest: f64) -> Option<f64> {
    (part > 0.0).then(|| r(part / (part + rest.max(0.0))))
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
    /// Quarters without a price.
    unpriced: u64,
    cap: Option<SupportCap>,
}

impl Sums {
    /// The sums of a month's quarters, from their days' costs ([`by_day`]).
    pub fn of(quarters: &[Quarter], days: &BTreeMap<NaiveDate, Costs>) -> Sums {
        let mut c = Sums::default();
        for q in quarters {
            match q.price {
                Some(p) => {
                    c.price_sum += p;
                    c.prices += 1;
                }
                None => c.unpriced += 1,
            }
        }
        for d in days.values() {
            c.cost += d.cost.unwrap_or(0.0);
            c.priced_kwh += d.priced_kwh;
            c.unpriced_kwh += d.unpriced_kwh;
            c.flexible_saving += d.flexible_saving;
            c.add_cap(d.support_cap);
        }
        c
    }

    fn add_cap(&mut self, o: Option<SupportCap>) {
        let Some(o) = o else { return };
        let c = self.cap.get_or_insert(SupportCap { cap_kwh: o.cap_kwh, ..SupportCap::default() });
        c.over_kwh += o.over_kwh;
        c.support_lost += o.support_lost;
        c.unknown_kwh += o.unknown_kwh;
    }

    /// Adds another part's sums.
    pub fn add(&mut self, o: &Sums) {
        self.cost += o.cost;
        self.priced_kwh += o.priced_kwh;
        self.unpriced_kwh += o.unpriced_kwh;
        self.flexible_saving += o.flexible_saving;
        self.price_sum += o.price_sum;
        self.prices += o.prices;
        self.unpriced += o.unpriced;
        self.add_cap(o.cap);
    }

    /// The costs, rounded, with their averages.
    pub fn costs(&self) -> Costs {
        Costs {
            cost: (self.prices > 0 || self.unpriced == 0).then(|| r(self.cost)),
            priced_kwh: r(self.priced_kwh),
            unpriced_kwh: r(self.unpriced_kwh),
            unpriced_share: share(self.unpriced_kwh, self.priced_kwh),
            average_paid: (self.priced_kwh > 0.0).then(|| r(self.cost / self.priced_kwh)),
            average_price: (self.prices > 0).then(|| r(self.price_sum / self.prices as f64)),
            flexible_saving: r(self.flexible_saving),
            support_cap: self.cap.map(round_cap),
        }
    }
}

fn round_cap(c: SupportCap) -> SupportCap {
    SupportCap {
        cap_kwh: c.cap_kwh,
        over_kwh: r(c.over_kwh),
        support_lost: r(c.support_lost),
        unknown_kwh: r(c.unknown_kwh),
    }
}

/// The costs of each local day of some priced quarters ([`priced`]);
/// `cap` is the prices' support cap.
pub fn by_day(quarters: &[Quarter], tz: Tz, cap: Option<f64>) -> BTreeMap<NaiveDate, Costs> {
    let mut days: BTreeMap<NaiveDate, Vec<Quarter>> = BTreeMap::new();
    for q in quarters {
        days.entry(q.start.with_timezone(&tz).date_naive()).or_default().push(*q);
    }
    days.into_iter()
        .map(|(date, qs)| {
            let priced: Vec<(f64, f64)> = qs.iter().filter_map(|q| q.price.map(|p| (q.kwh, p))).collect();
            // At the slots' prices; the cap's part comes on top.
            let slot_cost: f64 = priced.iter().map(|(k, p)| k * p).sum();
            let cost: f64 = qs.iter().filter_map(Quarter::cost).sum();
            let priced_kwh: f64 = priced.iter().map(|(k, _)| k).sum();
            let unpriced_kwh: f64 = qs.iter().filter(|q| q.price.is_none()).map(|q| q.kwh).sum();
            // Base load: the day's lowest quarter, in every quarter.
            let base = priced.iter().map(|(k, _)| *k).fold(f64::INFINITY, f64::min);
            let cheapest = priced.iter().map(|(_, p)| *p).fold(f64::INFINITY, f64::min);
            let flexible_saving = if priced.is_empty() {
                0.0
            } else {
                let base_cost: f64 = priced.iter().map(|(_, p)| base * p).sum();
                let flexible_kwh = priced_kwh - base * priced.len() as f64;
                (slot_cost - (base_cost + flexible_kwh * cheapest)).max(0.0)
            };
            let average_paid = (priced_kwh > 0.0).then(|| r(cost / priced_kwh));
            let average_price =
                (!priced.is_empty()).then(|| r(priced.iter().map(|(_, p)| p).sum::<f64>() / priced.len() as f64));
            let support_cap = cap.map(|cap_kwh| {
                let past = |q: &&Quarter| q.price.is_some() && q.over_cost.is_none();
                round_cap(SupportCap {
                    cap_kwh,
                    over_kwh: qs.iter().map(|q| q.over_kwh).sum(),
                    support_lost: qs.iter().filter(|q| q.price.is_some()).filter_map(|q| q.over_cost).sum(),
                    unknown_kwh: qs.iter().filter(past).map(|q| q.over_kwh).sum(),
                })
            });
            (
                date,
                Costs {
                    cost: (!priced.is_empty()).then(|| r(cost)),
                    priced_kwh: r(priced_kwh),
                    unpriced_kwh: r(unpriced_kwh),
                    unpriced_share: share(unpriced_kwh, priced_kwh),
                    average_paid,
                    average_price,
                    flexible_saving: r(flexible_saving),
                    support_cap,
                },
            )
        })
        .collect()
}

/// The cost of some quarters (an hour's) and their import without a
/// price; the cost is `None` when no quarter had one.
pub fn cost_of<'a>(quarters: impl IntoIterator<Item = &'a Quarter>) -> (Option<f64>, f64, f64) {
    let (mut cost, mut priced_kwh, mut unpriced_kwh, mut any) = (0.0, 0.0, 0.0, false);
    for q in quarters {
        match q.cost() {
            Some(c) => {
                cost += c;
                priced_kwh += q.kwh;
                any = true;
            }
            None => unpriced_kwh += q.kwh,
        }
    }
    (any.then(|| r(cost)), priced_kwh, unpriced_kwh)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;
    use chrono_tz::Europe::Oslo;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("time").to_utc()
    }

    fn quarters(from: &str, n: usize, wh: f64) -> Vec<Hour> {
        (0..n)
            .map(|i| Hour {
                start: at(from) + Duration::minutes(15 * i as i64),
                import_wh: wh,
                export_wh: 0.0,
                from_registers: true,
                complete: true,
            })
            .collect()
    }

    /// Support 0.5 a kWh in every slot, price 2.
    fn prices(from: &str, n: usize, cap: f64) -> Prices {
        let slots = (0..n)
            .map(|i| {
                let start = at(from) + Duration::minutes(15 * i as i64);
                Slot { start, end: start + Duration::minutes(15), price: 2.0, support: Some(0.5) }
            })
            .collect();
        Prices { slots, currency: "NOK".into(), all_in: true, support_cap: Some(cap) }
    }

    #[test]
    fn the_cap_splits_the_quarter_that_passes_it() {
        // 4 quarters of 1 kWh, 2.5 kWh used before: the cap of 5 is passed
        // half way into the third quarter.
        let p = prices("2026-01-05T00:00:00Z", 4, 5.0);
        let qs = priced(&quarters("2026-01-05T00:00:00Z", 4, 1000.0), &p, 2.5);
        let over: Vec<f64> = qs.iter().map(|q| q.over_kwh).collect();
        assert_eq!(over, [0.0, 0.0, 0.5, 1.0]);
        let costs: Vec<Option<f64>> = qs.iter().map(Quarter::cost).collect();
        assert_eq!(costs, [Some(2.0), Some(2.0), Some(2.25), Some(2.5)]);
        let day = by_day(&qs, Oslo, Some(5.0));
        let c = day.values().next().expect("a day");
        assert_eq!(c.cost, Some(8.75));
        assert_eq!(
            c.support_cap,
            Some(SupportCap { cap_kwh: 5.0, over_kwh: 1.5, support_lost: 0.75, unknown_kwh: 0.0 })
        );
    }

    #[test]
    fn no_price_is_no_cost_not_a_free_one() {
        let p = prices("2026-01-05T00:00:00Z", 2, 5.0);
        // Four quarters, the last two without a price.
        let qs = priced(&quarters("2026-01-05T00:00:00Z", 4, 500.0), &p, 0.0);
        let day = by_day(&qs, Oslo, None);
        let c = day.values().next().expect("a day");
        assert_eq!((c.cost, c.priced_kwh, c.unpriced_kwh, c.unpriced_share), (Some(2.0), 1.0, 1.0, Some(0.5)));
        let none = by_day(&priced(&quarters("2026-02-05T00:00:00Z", 4, 500.0), &p, 0.0), Oslo, None);
        let c = none.values().next().expect("a day");
        assert_eq!((c.cost, c.unpriced_share), (None, Some(1.0)));
        assert!(c.flexible_saving.is_sign_positive() && c.priced_kwh.is_sign_positive());
        let month = Sums::of(&priced(&quarters("2026-02-05T00:00:00Z", 4, 500.0), &p, 0.0), &none).costs();
        assert_eq!((month.cost, month.unpriced_share), (None, Some(1.0)));
        assert_eq!(Sums::default().costs().cost, Some(0.0), "nothing used: nothing to pay");
    }
}
