//! The second sources: public per-country APIs that need no token.
//! hvakosterstrommen.no (NO1-NO5) and elprisetjustnu.se (SE1-SE4) serve an
//! array of `{EUR_per_kWh, time_start, time_end, ...}` per local day;
//! Energi Data Service (DK1, DK2) serves `records` of `{TimeUTC,
//! DayAheadPriceEUR}` per MWh. EUR is taken from them, so the conversion is
//! the same official rate whatever the source.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::Deserialize;

use crate::slots::{Slot, round};
use crate::web::{self, WebPage};

/// A no-token source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Public {
    Hvakosterstrommen,
    Elprisetjustnu,
    EnergiDataService,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error("{page}, not the JSON {src} serves (a captive portal, a proxy or a maintenance page?)")]
    WebPage { src: &'static str, page: WebPage },
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
        if let Some(page) = web::page(body) {
            return Err(Error::WebPage { src: source, page });
        }
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
                if let Some(m) = step.filter(|m| (1..=60).contains(m)).min() {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hvakosterstrommen_rows() {
        // The shape the site serves (its public docs and clients): local
        // times with their offsets.
        let body = r#"[{"NOK_per_kWh":0.92542,"EUR_per_kWh":0.08906,"EXR":10.391,"time_start":"2022-10-27T00:00:00+02:00","time_end":"2022-10-27T01:00:00+02:00"},
                       {"NOK_per_kWh":0.96771,"EUR_per_kWh":0.09312999999999999,"EXR":10.391,"time_start":"2022-10-27T01:00:00+02:00","time_end":"2022-10-27T02:00:00+02:00"}]"#;
        let v = Public::Hvakosterstrommen.parse(body).expect("rows");
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].start.to_rfc3339(), "2022-10-26T22:00:00+00:00");
        assert_eq!((v[0].minutes, v[0].eur_per_mwh, v[1].eur_per_mwh), (60, 89.06, 93.13));
        assert!(Public::Hvakosterstrommen.parse("{}").is_err());
        let bad = body.replace("2022-10-27T01:00:00+02:00\"}", "2022-10-26T01:00:00+02:00\"}");
        assert!(Public::Hvakosterstrommen.parse(&bad).is_err(), "an end before its start");
    }

    #[test]
    fn energi_data_service_records() {
        let body = r#"{"total":2,"records":[
            {"TimeUTC":"2025-10-01T22:15:00","TimeDK":"2025-10-02T00:15:00","PriceArea":"DK1","DayAheadPriceEUR":81.5,"DayAheadPriceDKK":608.2},
            {"TimeUTC":"2025-10-01T22:00:00","TimeDK":"2025-10-02T00:00:00","PriceArea":"DK1","DayAheadPriceEUR":80.25,"DayAheadPriceDKK":598.9}]}"#;
        let v = Public::EnergiDataService.parse(body).expect("records");
        assert_eq!(v.iter().map(|s| (s.minutes, s.eur_per_mwh)).collect::<Vec<_>>(), [(15, 80.25), (15, 81.5)]);
        let null = body.replace("81.5", "null");
        assert!(Public::EnergiDataService.parse(&null).is_err());
        let span = (
            DateTime::parse_from_rfc3339("2025-10-01T22:00:00Z").expect("t").to_utc(),
            DateTime::parse_from_rfc3339("2025-10-02T22:00:00Z").expect("t").to_utc(),
        );
        let date = NaiveDate::from_ymd_opt(2025, 10, 2).expect("date");
        assert_eq!(
            Public::EnergiDataService.path("DK1", date, span),
            "?start=2025-10-01T22:00&end=2025-10-02T22:00&timezone=UTC&filter=%7B%22PriceArea%22:%5B%22DK1%22%5D%7D"
        );
        assert_eq!(Public::Elprisetjustnu.path("SE3", date, span), "/2025/10-02_SE3.json");
    }
}
