//! Official exchange rates, EUR to the user's currency: the ECB's reference
//! rates and Norges Bank's (SDMX-ML, generic or structure-specific).
//!
//! The rate for a delivery day is by default the last one published before
//! its auction (noon on the day before): both banks publish around 16:00,
//! so that is the newest rate dated two days or more before delivery.

use chrono::NaiveDate;
use roxmltree::Node;
use serde::{Deserialize, Serialize};

use crate::web::{self, WebPage};

/// A rate: `value` units of the currency for one euro.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rate {
    pub value: f64,
    pub date: NaiveDate,
    /// `ecb` or `norges-bank`.
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error("{page}, not the {src} rates (a captive portal, a proxy or a maintenance page?)")]
    WebPage { src: &'static str, page: WebPage },
    #[error("not XML: {0}")]
    Xml(String),
    #[error("no {currency} rate in the {src} document")]
    NoRate { currency: String, src: &'static str },
    #[error("{what} {value:?} is not valid in the {src} document")]
    Bad { what: &'static str, value: String, src: &'static str },
}

/// Every (date, rate) for `currency` in an ECB eurofxref document (the
/// daily one or a history: `Cube time=` holding `Cube currency= rate=`).
pub fn ecb(text: &str, currency: &str) -> Result<Vec<(NaiveDate, f64)>, Error> {
    let src = "ECB";
    if let Some(page) = web::page(text) {
        return Err(Error::WebPage { src, page });
    }
    let doc = roxmltree::Document::parse(text).map_err(|e| Error::Xml(e.to_string()))?;
    let mut out = Vec::new();
    for day in doc.descendants().filter(|n| n.tag_name().name() == "Cube" && n.has_attribute("time")) {
        let t = day.attribute("time").unwrap_or_default();
        let date = date(t).ok_or(Error::Bad { what: "time", value: t.into(), src })?;
        for c in day.children().filter(|n| n.tag_name().name() == "Cube") {
            if c.attribute("currency").is_some_and(|c| c.eq_ignore_ascii_case(currency)) {
                let r = c.attribute("rate").unwrap_or_default();
                out.push((date, number(r).ok_or(Error::Bad { what: "rate", value: r.into(), src })?));
            }
        }
    }
    if out.is_empty() {
        return Err(Error::NoRate { currency: currency.into(), src });
    }
    Ok(out)
}

/// Every (date, rate) of the EUR/`currency` series in a Norges Bank
/// document. Norges Bank quotes in NOK, so only NOK is in it; UNIT_MULT
/// says how many units of the base currency a value is for (SEK and DKK
/// are per 100: 101.14 means 100 SEK = 101.14 NOK).
pub fn norges_bank(text: &str, currency: &str) -> Result<Vec<(NaiveDate, f64)>, Error> {
    let src = "Norges Bank";
    if let Some(page) = web::page(text) {
        return Err(Error::WebPage { src, page });
    }
    let doc = roxmltree::Document::parse(text).map_err(|e| Error::Xml(e.to_string()))?;
    let mut out = Vec::new();
    for s in doc.descendants().filter(|n| n.tag_name().name() == "Series") {
        let key = |id: &str| series_key(&s, id);
        let wanted = key("BASE_CUR").is_some_and(|b| b == "EUR")
            && key("QUOTE_CUR").is_some_and(|q| q.eq_ignore_ascii_case(currency));
        if !wanted {
            continue;
        }
        let mult = key("UNIT_MULT").unwrap_or_else(|| "0".into());
        let mult: i32 = mult.parse().map_err(|_| Error::Bad { what: "UNIT_MULT", value: mult, src })?;
        for obs in s.children().filter(|n| n.tag_name().name() == "Obs") {
            let (t, v) = observation(&obs);
            let t = t.unwrap_or_default();
            let d = date(&t).ok_or(Error::Bad { what: "TIME_PERIOD", value: t.clone(), src })?;
            let v = v.unwrap_or_default();
            let value = number(&v).ok_or(Error::Bad { what: "OBS_VALUE", value: v.clone(), src })?;
            out.push((d, value / 10f64.powi(mult)));
        }
    }
    if out.is_empty() {
        return Err(Error::NoRate { currency: currency.into(), src });
    }
    Ok(out)
}

/// A series attribute: on the element itself (structure-specific) or as
/// `SeriesKey`/`Attributes` `Value id= value=` (generic).
fn series_key(s: &Node, id: &str) -> Option<String> {
    if let Some(v) = s.attribute(id) {
        return Some(v.to_string());
    }
    s.descendants()
        .filter(|n| n.tag_name().name() == "Value" && n.attribute("id") == Some(id))
        .find_map(|n| n.attribute("value"))
        .map(str::to_string)
}

fn observation(obs: &Node) -> (Option<String>, Option<String>) {
    if let (Some(t), Some(v)) = (obs.attribute("TIME_PERIOD"), obs.attribute("OBS_VALUE")) {
        return (Some(t.into()), Some(v.into()));
    }
    let find = |name: &str| {
        obs.children().find(|n| n.tag_name().name() == name).and_then(|n| n.attribute("value")).map(str::to_string)
    };
    (find("ObsDimension"), find("ObsValue"))
}

fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

fn number(s: &str) -> Option<f64> {
    s.trim().parse().ok().filter(|v: &f64| v.is_finite() && *v > 0.0)
}

/// The newest rate published before the auction for `delivery` (dated
/// before the day before delivery), or, with `latest`, the newest there is.
pub fn pick(obs: &[(NaiveDate, f64)], delivery: NaiveDate, latest: bool) -> Option<(NaiveDate, f64)> {
    let auction = delivery.pred_opt()?;
    obs.iter().copied().filter(|(d, _)| latest || *d < auction).max_by_key(|(d, _)| *d)
}
