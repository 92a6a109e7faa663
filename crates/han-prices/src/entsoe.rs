//! ENTSO-E Transparency Platform day-ahead documents (A44): the
//! Publication_MarketDocument with its prices, or the
//! Acknowledgement_MarketDocument that says why there are none.
//!
//! Names are matched without their namespace (7:0, 7:3 and 8:0 are all in
//! use). Slots are keyed by UTC start and resolution; curveType A03 omits a
//! point that repeats the one before, and its price then runs on to the next
//! listed point or to the period's end (research note §1.2).

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use roxmltree::Node;

use crate::slots::Slot;
use crate::web::{self, WebPage};

/// What a request brought back.
#[derive(Debug, Clone, PartialEq)]
pub enum Document {
    Prices(Vec<Series>),
    /// No data (not published yet, a zone without prices) or a refused
    /// request (bad token, bad parameters).
    Acknowledgement {
        code: String,
        text: String,
    },
}

/// One TimeSeries.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// classificationSequence position: 1 is the European day-ahead auction
    /// (SDAC), 2 EXAA's, where DE-LU and AT publish both.
    pub sequence: Option<u32>,
    pub domain: String,
    pub currency: String,
    pub unit: String,
    /// A01 (every point) or A03 (repeats left out).
    pub curve: String,
    pub periods: Vec<Period>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Period {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub minutes: u32,
    /// (position, EUR/MWh), as listed.
    pub points: Vec<(u32, f64)>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error("{0}, not a price document (a captive portal, a proxy or a maintenance page?)")]
    WebPage(WebPage),
    #[error("not XML: {0}")]
    Xml(String),
    #[error("not an ENTSO-E price document (the root is <{0}>)")]
    NotPrices(String),
    #[error("<{0}> is missing")]
    Missing(&'static str),
    #[error("<{what}> {value:?} is not valid")]
    Bad { what: &'static str, value: String },
    #[error("the prices are in {currency} per {unit}, not EUR per MWH")]
    Unit { currency: String, unit: String },
    #[error("the document is for {got}, not {want}")]
    Domain { got: String, want: String },
    #[error(
        "only sequence {0} prices came (for DE-LU and AT that is the EXAA auction, not the European day-ahead one); refusing to show them as day-ahead prices"
    )]
    OnlyOtherSequence(u32),
}

/// The longest period taken, in days.
const MAX_PERIOD_DAYS: i64 = 62;

/// Parses a response body.
pub fn parse(text: &str) -> Result<Document, Error> {
    if let Some(page) = web::page(text) {
        return Err(Error::WebPage(page));
    }
    let doc = roxmltree::Document::parse(text).map_err(|e| Error::Xml(e.to_string()))?;
    let root = doc.root_element();
    match root.tag_name().name() {
        "Publication_MarketDocument" => {
            let series =
                root.children().filter(|n| is(n, "TimeSeries")).map(|n| series(&n)).collect::<Result<_, _>>()?;
            Ok(Document::Prices(series))
        }
        "Acknowledgement_MarketDocument" => {
            let reason = child(&root, "Reason");
            let code = reason.and_then(|r| text_of(&r, "code")).unwrap_or_default();
            let text = reason.and_then(|r| text_of(&r, "text")).unwrap_or_default();
            Ok(Document::Acknowledgement { code, text })
        }
        other => Err(Error::NotPrices(other.to_string())),
    }
}

fn is(n: &Node, name: &str) -> bool {
    n.is_element() && n.tag_name().name() == name
}

fn child<'a>(n: &Node<'a, 'a>, name: &str) -> Option<Node<'a, 'a>> {
    n.children().find(|c| is(c, name))
}

fn text_of(n: &Node, name: &str) -> Option<String> {
    n.children().find(|c| is(c, name)).and_then(|c| c.text()).map(|t| t.trim().to_string())
}

fn need(n: &Node, name: &'static str) -> Result<String, Error> {
    text_of(n, name).ok_or(Error::Missing(name))
}

fn series(ts: &Node) -> Result<Series, Error> {
    let sequence = match child(ts, "classificationSequence_AttributeInstanceComponent.position") {
        Some(n) => {
            let v = n.text().unwrap_or_default().trim();
            Some(v.parse().map_err(|_| Error::Bad { what: "classificationSequence", value: v.to_string() })?)
        }
        None => None,
    };
    let periods = ts.children().filter(|n| is(n, "Period")).map(|n| period(&n)).collect::<Result<_, _>>()?;
    Ok(Series {
        sequence,
        domain: text_of(ts, "in_Domain.mRID").unwrap_or_default(),
        currency: text_of(ts, "currency_Unit.name").unwrap_or_else(|| "EUR".into()),
        unit: text_of(ts, "price_Measure_Unit.name").unwrap_or_else(|| "MWH".into()),
        curve: text_of(ts, "curveType").unwrap_or_else(|| "A01".into()),
        periods,
    })
}

fn period(p: &Node) -> Result<Period, Error> {
    let iv = child(p, "timeInterval").ok_or(Error::Missing("timeInterval"))?;
    let start = time(&need(&iv, "start")?)?;
    let end = time(&need(&iv, "end")?)?;
    let res = need(p, "resolution")?;
    let minutes = resolution(&res).ok_or(Error::Bad { what: "resolution", value: res })?;
    // A day-ahead period is a day or two; a longer one is not a price
    // document (and would make millions of slots).
    if end <= start || (end - start) > chrono::TimeDelta::days(MAX_PERIOD_DAYS) {
        return Err(Error::Bad { what: "timeInterval", value: format!("{start}/{end}") });
    }
    let mut points = Vec::new();
    for pt in p.children().filter(|n| is(n, "Point")) {
        let pos = need(&pt, "position")?;
        let pos: u32 = pos.parse().ok().filter(|&p| p > 0).ok_or(Error::Bad { what: "position", value: pos })?;
        let price = need(&pt, "price.amount")?;
        let price: f64 = price
            .parse()
            .ok()
            .filter(|p: &f64| p.is_finite())
            .ok_or(Error::Bad { what: "price.amount", value: price })?;
        points.push((pos, price));
    }
    Ok(Period { start, end, minutes, points })
}

/// `2024-10-05T22:00Z`, as the platform writes them, or full RFC 3339.
pub fn time(s: &str) -> Result<DateTime<Utc>, Error> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.to_utc())
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%MZ").map(|t| t.and_utc()))
        .map_err(|_| Error::Bad { what: "time", value: s.to_string() })
}

/// PT15M, PT30M, PT60M, PT1H: minutes.
fn resolution(s: &str) -> Option<u32> {
    let body = s.strip_prefix("PT").filter(|b| b.is_ascii())?;
    let (n, unit) = body.split_at(body.len().checked_sub(1)?);
    let n: u32 = n.parse().ok()?;
    let m = match unit {
        "M" => n,
        "H" => n.checked_mul(60)?,
        _ => return None,
    };
    (m > 0 && 1440 % m == 0).then_some(m)
}

impl Period {
    /// The slots of the period. Under A03 a price runs until the next listed
    /// position or the period's end; under A01 every position is listed, and
    /// one missing is left a gap (the day check then refuses the day).
    /// Points past the period's end are dropped.
    pub fn slots(&self, curve: &str) -> Vec<Slot> {
        let count = (self.end - self.start).num_minutes() / i64::from(self.minutes);
        let count = u32::try_from(count).unwrap_or(0);
        let mut pts: Vec<(u32, f64)> = self.points.iter().copied().filter(|(p, _)| *p <= count).collect();
        pts.sort_by_key(|(p, _)| *p);
        pts.dedup_by_key(|(p, _)| *p);
        let fill = curve == "A03";
        let mut out = Vec::with_capacity(count as usize);
        for (i, (pos, price)) in pts.iter().enumerate() {
            let until = if fill { pts.get(i + 1).map_or(count + 1, |(next, _)| *next) } else { pos + 1 };
            for p in *pos..until {
                let start = self.start + Duration::minutes(i64::from(p - 1) * i64::from(self.minutes));
                out.push(Slot { start, minutes: self.minutes, eur_per_mwh: *price });
            }
        }
        out
    }
}

/// The day-ahead slots of a document for the zone `eic`: the European
/// auction's series (sequence 1, or the series without a sequence), never
/// mixed with another auction's.
pub fn day_ahead(series: &[Series], eic: &str) -> Result<Vec<Slot>, Error> {
    for s in series {
        if !s.currency.eq_ignore_ascii_case("EUR") || !s.unit.eq_ignore_ascii_case("MWH") {
            return Err(Error::Unit { currency: s.currency.clone(), unit: s.unit.clone() });
        }
        if !s.domain.is_empty() && s.domain != eic {
            return Err(Error::Domain { got: s.domain.clone(), want: eic.to_string() });
        }
    }
    let sdac = |s: &&Series| s.sequence.is_none_or(|q| q == 1);
    if !series.is_empty() && !series.iter().any(|s| sdac(&s)) {
        let other = series.iter().find_map(|s| s.sequence).unwrap_or(2);
        return Err(Error::OnlyOtherSequence(other));
    }
    Ok(series.iter().filter(sdac).flat_map(|s| s.periods.iter().flat_map(|p| p.slots(&s.curve))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolutions() {
        assert_eq!(resolution("PT15M"), Some(15));
        assert_eq!(resolution("PT60M"), Some(60));
        assert_eq!(resolution("PT1H"), Some(60));
        assert_eq!(resolution("PT7M"), None);
        assert_eq!(resolution("P1D"), None);
        assert_eq!(resolution("PT"), None);
        assert_eq!(resolution("PTé"), None);
    }

    #[test]
    fn a03_fills_to_the_period_end() {
        let start = time("2025-04-01T22:00Z").expect("time");
        let p = Period { start, end: start + Duration::hours(4), minutes: 60, points: vec![(3, 5.0), (1, 1.0)] };
        let prices: Vec<f64> = p.slots("A03").iter().map(|s| s.eur_per_mwh).collect();
        assert_eq!(prices, [1.0, 1.0, 5.0, 5.0]);
        assert_eq!(p.slots("A01").len(), 2);
    }

    #[test]
    fn bad_documents_are_errors() {
        assert_eq!(
            parse("<html><body>Bad Request</body></html>"),
            Err(Error::WebPage(WebPage { words: "Bad Request".into() }))
        );
        assert!(matches!(parse("<Bad_Request/>"), Err(Error::NotPrices(_))));
        assert!(matches!(
            parse("<Publication_MarketDocument><TimeSeries><Period/></TimeSeries></Publication_MarketDocument>"),
            Err(Error::Missing(_))
        ));
        assert!(matches!(parse("not xml"), Err(Error::Xml(_))));
    }
}
