//! Settings from flags, else the config file's `[spotprices]`, else
//! defaults.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, anyhow};
use chrono::{DateTime, Days, NaiveDate, Utc};
use han_common::{Config, ConfigError, Usage};
use han_prices::public::Public;
use han_prices::tariff::Tariff;
use han_prices::zones::{self, Zone};

use crate::cli::{Args, Source};

const S: &str = "spotprices";
const KNOWN: &[&str] = &[
    "zone",
    "dir",
    "www",
    "currency",
    "token",
    "source",
    "api_url",
    "public_url",
    "ecb_url",
    "norges_bank_url",
    "rate_source",
    "rate_day",
    "hourly",
    "retries",
    "retry_delay",
    "markup",
    "grid_fee",
    "grid_day",
    "grid_night",
    "night",
    "weekend_is_night",
    "tax",
    "vat",
    "region",
    "support",
    "support_share",
    "support_threshold",
    "fixed_price",
];

pub const ENTSOE_URL: &str = "https://web-api.tp.entsoe.eu/api";
pub const ECB_URL: &str = "https://www.ecb.europa.eu/stats/eurofxref";
pub const NORGES_BANK_URL: &str = "https://data.norges-bank.no/api/data";
pub const TOKEN_ENV: &str = "SPOTPRICES_TOKEN";

/// Whose exchange rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateSource {
    Ecb,
    NorgesBank,
}

#[derive(Debug)]
pub struct Settings {
    pub zone: &'static Zone,
    pub dir: PathBuf,
    pub www: Option<PathBuf>,
    pub date: NaiveDate,
    pub now: DateTime<Utc>,
    pub hourly: bool,
    pub currency: String,
    pub token: Option<String>,
    /// In the order they are tried.
    pub sources: Vec<Source>,
    pub public: Option<Public>,
    pub api_url: String,
    pub public_url: Option<String>,
    pub ecb_url: String,
    pub norges_bank_url: String,
    pub rate_source: RateSource,
    /// The newest rate rather than the last one before the auction.
    pub rate_latest: bool,
    pub retries: u32,
    pub retry_delay: Duration,
    pub tariff: Option<Tariff>,
}

fn usage(e: ConfigError) -> anyhow::Error {
    anyhow!(Usage(e.to_string()))
}

/// `today`, `tomorrow`, `yesterday` or a date, in the zone's calendar.
pub fn date(s: &str, today: NaiveDate) -> Result<NaiveDate, Usage> {
    match s.trim().to_ascii_lowercase().as_str() {
        "today" => Ok(today),
        "tomorrow" => today.checked_add_days(Days::new(1)).ok_or_else(|| Usage("no tomorrow".into())),
        "yesterday" => today.checked_sub_days(Days::new(1)).ok_or_else(|| Usage("no yesterday".into())),
        d => NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| Usage(format!("--date {s:?}: today, tomorrow, yesterday or YYYY-MM-DD"))),
    }
}

pub fn settings(args: &Args, fetch: Option<&crate::cli::Fetch>) -> Result<Settings> {
    let file = Config::load(args.config.as_deref()).map_err(usage)?;
    for w in file.warnings(S, KNOWN) {
        eprintln!("spotprices: warning: {w}");
    }
    let string = |key: &str| file.string(S, key).map_err(usage);
    let zone_name = match args.zone.clone() {
        Some(z) => z,
        None => string("zone")?.ok_or_else(|| {
            Usage(format!("which zone? --zone or `zone` in [spotprices] of the config file ({})", zones::names()))
        })?,
    };
    let zone = zones::by_name(&zone_name)
        .ok_or_else(|| Usage(format!("unknown zone {zone_name:?}; known: {}", zones::names())))?;
    let now = han_common::times::now_flag(args.now.as_deref())?.unwrap_or_else(Utc::now);
    let today = now.with_timezone(&zone.tz).date_naive();
    let date = date(&args.date, today)?;
    let currency = match fetch.and_then(|f| f.currency.clone()) {
        Some(c) => c,
        None => string("currency")?.unwrap_or_else(|| zone.currency.to_string()),
    }
    .to_ascii_uppercase();
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(Usage(format!("currency {currency:?}: a three-letter code, as NOK, SEK, DKK or EUR")).into());
    }
    let token = string("token")?.or_else(|| std::env::var(TOKEN_ENV).ok()).filter(|t| !t.trim().is_empty());
    let public = Public::for_zone(zone.name);
    let first = match (fetch.and_then(|f| f.source), string("source")?.as_deref()) {
        (Some(s), _) => s,
        (None, Some("entsoe")) => Source::Entsoe,
        (None, Some("public")) => Source::Public,
        (None, Some(o)) => return Err(Usage(format!("config [spotprices] source = {o:?}: entsoe or public")).into()),
        (None, None) if token.is_none() && public.is_some() => Source::Public,
        (None, None) => Source::Entsoe,
    };
    let mut sources = vec![first];
    let other = if first == Source::Entsoe { Source::Public } else { Source::Entsoe };
    if (other == Source::Public && public.is_some()) || (other == Source::Entsoe && token.is_some()) {
        sources.push(other);
    }
    if fetch.is_some() {
        if first == Source::Public && public.is_none() {
            return Err(Usage(format!(
                "{} has no no-token source; use ENTSO-E (--source entsoe, with a token)",
                zone.name
            ))
            .into());
        }
        if sources == [Source::Entsoe] && token.is_none() {
            return Err(Usage(format!(
                "ENTSO-E needs a token: `token` in [spotprices] of the config file or ${TOKEN_ENV} (https://transparency.entsoe.eu, \"Web API Security Token\")"
            ))
            .into());
        }
    }
    let rate_source = match string("rate_source")?.as_deref() {
        None if currency == "NOK" => RateSource::NorgesBank,
        None | Some("ecb") => RateSource::Ecb,
        Some("norges-bank") if currency == "NOK" => RateSource::NorgesBank,
        Some(o) => {
            return Err(Usage(format!("config [spotprices] rate_source = {o:?}: ecb, or norges-bank for NOK")).into());
        }
    };
    let rate_latest = match string("rate_day")?.as_deref() {
        None | Some("before-auction") => false,
        Some("latest") => true,
        Some(o) => return Err(Usage(format!("config [spotprices] rate_day = {o:?}: before-auction or latest")).into()),
    };
    let retries = file.integer(S, "retries").map_err(usage)?.unwrap_or(3);
    let retries = u32::try_from(retries).map_err(|_| Usage(format!("retries = {retries}: 0 or more")))?;
    let retry_delay = match string("retry_delay")? {
        None => Duration::from_secs(5),
        Some(d) => han_common::duration::parse(&d).map_err(|e| Usage(format!("retry_delay: {e}")))?,
    };
    let tariff = han_prices::tariff::from_config(&file, zone).map_err(|e| anyhow!(Usage(e.to_string())))?;
    let www = args.www.clone().or(string("www")?.map(PathBuf::from));
    let flag_url = fetch.and_then(|f| f.api_url.clone());
    Ok(Settings {
        zone,
        dir: args.dir.clone().or(string("dir")?.map(PathBuf::from)).unwrap_or(han_common::paths::PRICES_DIR.into()),
        www,
        date,
        now,
        hourly: args.hourly || file.boolean(S, "hourly").map_err(usage)?.unwrap_or(false),
        currency,
        token,
        sources,
        public,
        api_url: flag_url.or(string("api_url")?).unwrap_or(ENTSOE_URL.into()),
        public_url: string("public_url")?,
        ecb_url: string("ecb_url")?.unwrap_or(ECB_URL.into()),
        norges_bank_url: string("norges_bank_url")?.unwrap_or(NORGES_BANK_URL.into()),
        rate_source,
        rate_latest,
        retries,
        retry_delay,
        tariff,
    })
}
