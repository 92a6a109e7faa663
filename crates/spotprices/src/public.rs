//! The second sources: public per-country APIs that need no token.
//! hvakosterstrommen.no (NO1-NO5) and elprisetjustnu.se (SE1-SE4) serve an
//! array of `{EUR_per_kWh, time_start, time_end, ...}` per local day;
//! Energi Data Service (DK1, DK2) serves `records` of `{TimeUTC,
//! DayAheadPriceEUR}` per MWh. EUR is taken from them, so the conversion is
//! the same official rate whatever the source.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::Deserialize;

use crate::slots::{Slot, round};

/// A no-token source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Public {
    Hvakosterstrommen,
    Elprisetjustnu,
    EnergiDataService,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error("not the JSON {src} serves: {why}")]
    Json { src: &'static str, why: String },
    #[error("{src}: {what} {value:?} is not valid")]
    Bad { src: &'static str, what: &'static str, value: String },
}

impl Public {
    /// The source for a zone, where one exists.
    pub fn for_zone(zone: &str) -> Option<Public> {
        match zone {
            "NO1" | "NO2" | "NO3" | "NO4" | "NO5" => Some(Public::Hvakosterstrommen),
            "SE1" | "SE2" | "SE3" | "SE4" => Some(Public::Elprisetjustnu),
            "DK1" | "DK2" => Some(Public::EnergiDataService),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Public::Hvakosterstrommen => "hvakosterstrommen",
            Public::Elprisetjustnu => "elprisetjustnu",
            Public::EnergiDataService => "energidataservice",
        }
    }

    /// The default base URL (the config's `public_url` replaces it).
    pub fn base_url(self) -> &'static str {
        match self {
            Public::Hvakosterstrommen => "https://www.hvakosterstrommen.no/api/v1/prices",
            Public::Elprisetjustnu => "https://www.elprisetjustnu.se/api/v1/prices",
            Public::EnergiDataService => "https://api.energidataservice.dk/dataset/DayAheadPrices",
        }
    }

    /// The request for a local day, after the base URL. `span` is the day in UTC.
    pub fn path(self, zone: &str, date: NaiveDate, span: (DateTime<Utc>, DateTime<Utc>)) -> String {
        match self {
            Public::Hvakosterstrommen | Public::Elprisetjustnu => format!("/{}_{zone}.json", date.format("%Y/%m-%d")),
            Public::EnergiDataService => format!(
                "?start={}&end={}&timezone=UTC&filter=%7B%22PriceArea%22:%5B%22{zone}%22%5D%7D",
                span.0.format("%Y-%m-%dT%H:%M"),
                span.1.format("%Y-%m-%dT%H:%M")
            ),
        }
    }

    /// The slots of a response body.
    pub fn parse(self, body: &str) -> Result<Vec<Slot>, Error> {
        let source = self.name();
        let json = |e: serde_json::Error| Error::Json { src: source, why: e.to_string() };
        match self {
            Public::Hvakosterstrommen | Public::Elprisetjustnu => {
                #[derive(Deserialize)]
                struct Row {
                    #[serde(rename = "EUR_per_kWh")]
                    eur: f64,
                    time_start: String,
                    time_end: String,
                }
                let rows: Vec<Row> = serde_json::from_str(body).map_err(json)?;
                rows.iter()
                    .map(|r| {
                        let start = rfc3339(source, &r.time_start)?;
                        let end = rfc3339(source, &r.time_end)?;
                        let minutes = u32::try_from((end - start).num_minutes())
                            .ok()
                            .filter(|m| (1..=1440).contains(m))
                            .ok_or(Error::Bad { src: source, what: "time_end", value: r.time_end.clone() })?;
                        Ok(Slot { start, minutes, eur_per_mwh: round(r.eur * 1000.0, 3) })
                    })
                    .collect()
            }
            Public::EnergiDataService => {
                #[derive(Deserialize)]
                struct Doc {
                    records: Vec<Rec>,
                }
                #[derive(Deserialize)]
                #[allow(non_snake_case)]
                struct Rec {
                    TimeUTC: String,
                    DayAheadPriceEUR: Option<f64>,
                }
                let doc: Doc = serde_json::from_str(body).map_err(json)?;
                let mut out = Vec::with_capacity(doc.records.len());
                for r in &doc.records {
                    let start = NaiveDateTime::parse_from_str(&r.TimeUTC, "%Y-%m-%dT%H:%M:%S")
                        .map(|t| t.and_utc())
                        .map_err(|_| Error::Bad { src: source, what: "TimeUTC", value: r.TimeUTC.clone() })?;
                    let eur = r.DayAheadPriceEUR.ok_or(Error::Bad {
                        src: source,
                        what: "DayAheadPriceEUR",
                        value: "null".into(),
                    })?;
                    out.push(Slot { start, minutes: 15, eur_per_mwh: eur });
                }
                // The dataset is quarter-hourly; hourly records (spaced an
                // hour apart) say so by their spacing.
                out.sort_by_key(|s| s.start);
                let step = out.windows(2).filter_map(|w| match w {
                    [a, b] => u32::try_from((b.start - a.start).num_minutes()).ok(),
                    _ => None,
                });
                if let Some(m) = step.filter(|m| *m > 0).min() {
                    out.iter_mut().for_each(|s| s.minutes = m);
                }
                Ok(out)
            }
        }
    }
}

fn rfc3339(src: &'static str, s: &str) -> Result<DateTime<Utc>, Error> {
    DateTime::parse_from_rfc3339(s).map(|t| t.to_utc()).map_err(|_| Error::Bad { src, what: "time", value: s.into() })
}
