//! `spotprices fetch`: a day's prices from the sources in turn, the rate,
//! the tariff, then the day's files, written atomically. Nothing already on
//! disk is touched unless a whole new day is ready to replace it.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::{Days, NaiveDate};
use han_prices::entsoe::{self, Document};
use han_prices::file::{Build, PriceFile, stem};
use han_prices::rates::{self, Rate};
use han_prices::slots::{self, Slot};

use crate::cli::{Fetch, Source};
use crate::http::{Got, Http};
use crate::settings::{RateSource, Settings};

pub const NOT_YET: u8 = 3;
pub const UNREACHABLE: u8 = 4;

/// Why a source gave no day.
#[derive(Debug)]
pub enum Failure {
    /// Not published yet, or the request was refused: exit 3.
    NotYet(String),
    /// No answer: exit 4.
    Unreachable(String),
    /// An answer that is wrong: exit 1.
    Bad(String),
}

impl Failure {
    fn text(&self) -> &str {
        match self {
            Failure::NotYet(s) | Failure::Unreachable(s) | Failure::Bad(s) => s,
        }
    }
}

pub fn paths(dir: &Path, date: NaiveDate) -> (PathBuf, PathBuf) {
    let stem = stem(date);
    (dir.join(format!("{stem}.json")), dir.join(format!("{stem}.csv")))
}

/// Reads a day's file, if it is there.
pub fn read(dir: &Path, date: NaiveDate) -> Result<Option<PriceFile>> {
    let (json, _) = paths(dir, date);
    match std::fs::read_to_string(&json) {
        Ok(text) => {
            Ok(Some(PriceFile::from_json(&text).with_context(|| format!("{} is not a price file", json.display()))?))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", json.display())),
    }
}

pub fn run(s: &Settings, f: &Fetch) -> Result<u8> {
    let (json, csv) = paths(&s.dir, s.date);
    if !f.force {
        match read(&s.dir, s.date) {
            Ok(Some(have)) if have.zone == s.zone.name && have.currency == s.currency => {
                if !f.quiet_if_done {
                    eprintln!("spotprices: {} is already there (--force fetches it again)", json.display());
                }
                return Ok(0);
            }
            Ok(Some(have)) => {
                anyhow::bail!(
                    "{} holds {} in {}, not {} in {}; --force replaces it",
                    json.display(),
                    have.zone,
                    have.currency,
                    s.zone.name,
                    s.currency
                );
            }
            Ok(None) => {}
            // A damaged file is fetched again.
            Err(e) => eprintln!("spotprices: {e:#}; fetching it again"),
        }
    }
    let http = Http::new(s.retries, s.retry_delay);
    let mut failures = Vec::new();
    let mut got = None;
    for (i, source) in s.sources.iter().enumerate() {
        let (name, result) = match source {
            Source::Entsoe => ("entsoe", entsoe(s, &http)),
            Source::Public => (s.public.map_or("public", |p| p.name()), public(s, &http)),
        };
        match result {
            Ok(day) => {
                got = Some((name, day));
                break;
            }
            Err(e) => {
                let next = s.sources.get(i + 1).map(|n| match n {
                    Source::Entsoe => "ENTSO-E".to_string(),
                    Source::Public => s.public.map_or("public", |p| p.name()).to_string(),
                });
                match next {
                    Some(n) => eprintln!("spotprices: {}; trying {n}", e.text()),
                    None => eprintln!("spotprices: {}", e.text()),
                }
                failures.push(e);
            }
        }
    }
    let Some((source, day)) = got else {
        return Ok(exit_code(&failures));
    };
    let rate = if s.currency == "EUR" {
        None
    } else {
        match rate(s, &http) {
            Ok(r) => Some(r),
            Err(e) => {
                eprintln!("spotprices: {}", e.text());
                return Ok(exit_code(&[e]));
            }
        }
    };
    let tz = s.zone.tz.name();
    let build = Build {
        zone: s.zone.name,
        tz,
        date: s.date,
        currency: &s.currency,
        rate,
        source,
        fetched: s.now,
        tariff: s.tariff.as_ref(),
        hourly: s.hourly,
    };
    let file = PriceFile::build(build, &day);
    std::fs::create_dir_all(&s.dir).with_context(|| format!("cannot make {}", s.dir.display()))?;
    // The CSV first: a JSON file there means its CSV is too.
    han_common::atomic::write_atomic(&csv, file.to_csv().as_bytes())
        .with_context(|| format!("cannot write {}", csv.display()))?;
    han_common::atomic::write_atomic(&json, file.to_json().as_bytes())
        .with_context(|| format!("cannot write {}", json.display()))?;
    println!("{}", summary(&file, &json));
    if let Some(www) = &s.www {
        crate::page::write(www, s)?;
    }
    Ok(0)
}

fn exit_code(failures: &[Failure]) -> u8 {
    if failures.iter().any(|f| matches!(f, Failure::NotYet(_))) {
        NOT_YET
    } else if failures.iter().all(|f| matches!(f, Failure::Unreachable(_))) {
        UNREACHABLE
    } else {
        1
    }
}

fn summary(f: &PriceFile, path: &Path) -> String {
    let lo = f.slots.iter().map(|s| s.eur_per_mwh).fold(f64::INFINITY, f64::min);
    let hi = f.slots.iter().map(|s| s.eur_per_mwh).fold(f64::NEG_INFINITY, f64::max);
    let rate = f
        .rate
        .as_ref()
        .map_or(String::new(), |r| format!(", 1 EUR = {} {} ({} {})", r.value, f.currency, r.source, r.date));
    format!(
        "{} {}: {} slots of {} min from {}, {lo} to {hi} EUR/MWh{rate} -> {}",
        f.zone,
        f.date,
        f.slots.len(),
        f.resolution,
        f.source,
        path.display()
    )
}

/// The day's slots, cut to the local day and checked.
fn day(slots: Vec<Slot>, s: &Settings, source: &str) -> Result<Vec<Slot>, Failure> {
    slots::cut(slots, s.date, s.zone.tz).map_err(|e| Failure::Bad(format!("{source}: {e}; the day is not written")))
}

/// Percent-encodes what is not plainly safe in a query.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn entsoe(s: &Settings, http: &Http) -> Result<Vec<Slot>, Failure> {
    let token = s.token.as_deref().unwrap_or_default();
    let (start, end) = slots::day_span(s.date, s.zone.tz);
    let eic = s.zone.eic;
    let url = format!(
        "{}?securityToken={}&documentType=A44&in_Domain={eic}&out_Domain={eic}&periodStart={}&periodEnd={}&contract_MarketAgreement.type=A01",
        s.api_url,
        encode(token),
        start.format("%Y%m%d%H%M"),
        end.format("%Y%m%d%H%M"),
    );
    let what = format!("ENTSO-E {} {}", s.zone.name, s.date);
    let (status, body) = match http.get(&url, &what) {
        Got::Answer { status, body } => (status, body),
        Got::Unreachable(why) => return Err(Failure::Unreachable(format!("{what}: no answer ({why})"))),
    };
    match entsoe::parse(&body) {
        Ok(Document::Prices(series)) if status == 200 => {
            let slots = entsoe::day_ahead(&series, eic).map_err(|e| Failure::Bad(format!("{what}: {e}")))?;
            day(slots, s, &what)
        }
        Ok(Document::Acknowledgement { code, text }) => {
            let hint = if text.contains("No matching data") {
                " (not published yet: day-ahead prices come out after about 13:00 CET the day before)"
            } else {
                ""
            };
            Err(Failure::NotYet(format!("{what}: ENTSO-E says {code}: {text}{hint}")))
        }
        _ if status == 401 || status == 403 => Err(Failure::NotYet(format!(
            "{what}: the token was refused (HTTP {status}); check it, or make a new one on the platform"
        ))),
        Ok(Document::Prices(_)) => Err(Failure::Bad(format!("{what}: HTTP {status}"))),
        Err(e) => Err(Failure::Bad(format!("{what}: HTTP {status}: {e}"))),
    }
}

fn public(s: &Settings, http: &Http) -> Result<Vec<Slot>, Failure> {
    let Some(p) = s.public else {
        return Err(Failure::Bad(format!("{} has no no-token source", s.zone.name)));
    };
    let span = slots::day_span(s.date, s.zone.tz);
    let base = s.public_url.as_deref().unwrap_or(p.base_url()).trim_end_matches('/');
    let url = format!("{base}{}", p.path(s.zone.name, s.date, span));
    let what = format!("{} {} {}", p.name(), s.zone.name, s.date);
    match http.get(&url, &what) {
        Got::Answer { status: 200, body } => {
            let slots = p.parse(&body).map_err(|e| Failure::Bad(format!("{what}: {e}")))?;
            if slots.is_empty() {
                return Err(Failure::NotYet(format!("{what}: no prices yet")));
            }
            day(slots, s, &what)
        }
        Got::Answer { status: 404, .. } => Err(Failure::NotYet(format!("{what}: not published yet (HTTP 404)"))),
        Got::Answer { status, .. } => Err(Failure::Bad(format!("{what}: HTTP {status}"))),
        Got::Unreachable(why) => Err(Failure::Unreachable(format!("{what}: no answer ({why})"))),
    }
}

fn rate(s: &Settings, http: &Http) -> Result<Rate, Failure> {
    let get = |url: &str, what: &str| match http.get(url, what) {
        Got::Answer { status: 200, body } => Ok(Some(body)),
        Got::Answer { status: 404, .. } => Ok(None),
        Got::Answer { status, .. } => Err(Failure::Bad(format!("{what}: HTTP {status}"))),
        Got::Unreachable(why) => Err(Failure::Unreachable(format!("{what}: no answer ({why})"))),
    };
    let none = |src: &str| {
        Failure::Bad(format!(
            "no {src} EUR/{} rate published before the auction for {} (noon {})",
            s.currency,
            s.date,
            s.date.pred_opt().unwrap_or(s.date)
        ))
    };
    let bad = |e: rates::Error| Failure::Bad(e.to_string());
    match s.rate_source {
        RateSource::Ecb => {
            let base = s.ecb_url.trim_end_matches('/');
            for doc in ["eurofxref-daily.xml", "eurofxref-hist-90d.xml"] {
                let what = format!("ECB rates ({doc})");
                if let Some(body) = get(&format!("{base}/{doc}"), &what)? {
                    let obs = rates::ecb(&body, &s.currency).map_err(bad)?;
                    if let Some((date, value)) = rates::pick(&obs, s.date, s.rate_latest) {
                        return Ok(Rate { value, date, source: "ecb".into() });
                    }
                }
            }
            Err(none("ECB"))
        }
        RateSource::NorgesBank => {
            let base = s.norges_bank_url.trim_end_matches('/');
            let query = if s.rate_latest {
                "lastNObservations=1".to_string()
            } else {
                let from = s.date.checked_sub_days(Days::new(14)).unwrap_or(s.date);
                let to = s.date.checked_sub_days(Days::new(2)).unwrap_or(s.date);
                format!("startPeriod={from}&endPeriod={to}")
            };
            let url = format!("{base}/EXR/B.EUR.{}.SP?format=sdmx-generic-2.1&locale=en&{query}", s.currency);
            let body = get(&url, "Norges Bank rates")?.ok_or_else(|| none("Norges Bank"))?;
            let obs = rates::norges_bank(&body, &s.currency).map_err(bad)?;
            let (date, value) = rates::pick(&obs, s.date, s.rate_latest).ok_or_else(|| none("Norges Bank"))?;
            Ok(Rate { value, date, source: "norges-bank".into() })
        }
    }
}
