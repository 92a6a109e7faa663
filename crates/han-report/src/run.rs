//! A run: the settings both commands work from (flags, else the config
//! file), then the summary or the plot.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use chrono::{Datelike, NaiveDate};
use han_common::{Config, Usage};
use han_prices::file::PriceFile;
use han_report::cost::{NORWAY_SUPPORT_CAP_KWH, Prices};
use han_report::report::Report;
use han_report::summary::Span;

use crate::{cli, out, plot, read};

/// han-report's own section of the config file.
const S: &str = "han-report";
const KNOWN: &[&str] = &["support_cap_kwh"];

/// What both commands work from.
pub struct Setup {
    pub dir: PathBuf,
    pub tz: chrono_tz::Tz,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub steps: Vec<f64>,
    pub prices: Option<Arc<Prices>>,
    pub hours: bool,
}

impl Setup {
    /// What the summary is of.
    pub fn span(&self) -> Span {
        Span {
            tz: self.tz,
            steps: self.steps.clone(),
            from: self.from,
            to: self.to,
            prices: self.prices.clone(),
            hours: self.hours,
            used_before_kwh: 0.0,
        }
    }
}

pub fn run(args: &cli::Args) -> Result<u8> {
    match &args.command {
        cli::Command::Summary(a) => {
            let s = setup(args, a, None)?;
            // Month by month: memory does not grow with the span.
            let mut span = s.span();
            if s.prices.as_ref().is_some_and(|p| p.support_cap.is_some()) {
                span.used_before_kwh = used_before(&s, a.threads)?;
            }
            let report = read::read(&s.dir, s.tz, (s.from, s.to), a.threads, Report::folding(span.clone()))?;
            let summary = report.summary(&span);
            if let Some(cap) = summary.costs.and_then(|c| c.support_cap).filter(|c| c.unknown_kwh > 0.0) {
                eprintln!(
                    "han-report: warning: {} kWh past the support cap are in price files that the tariff of [spotprices] does not give (another tariff made them, or there is none in this config): their cost leaves out the support they lose",
                    han_report::fmt::fixed(cap.unknown_kwh, 3)
                );
            }
            let text = match a.format {
                cli::Format::Table => out::table(&summary, s.prices.as_deref()),
                cli::Format::Csv => out::csv(&summary),
                cli::Format::Json => han_report::fmt::json(&summary)?,
            };
            han_common::stdout::print(&text)?;
            Ok(0)
        }
        cli::Command::Plot(p) => {
            let s = setup(args, &p.span, p.date.as_deref())?;
            plot::run(&s, p)
        }
    }
}

/// The import of `from`'s month before `from`, kWh: what the support cap
/// counts from. The logs before the first reading are not known.
fn used_before(s: &Setup, threads: Option<usize>) -> Result<f64> {
    let Some(from) = s.from else { return Ok(0.0) };
    let (Some(first), Some(last)) = (from.with_day(1), from.pred_opt()) else { return Ok(0.0) };
    if from == first {
        return Ok(0.0);
    }
    let r = read::read(&s.dir, s.tz, (Some(first), Some(last)), threads, Report::new())?;
    Ok(r.periods(true, s.tz, Some(first), Some(last)).iter().map(|q| q.import_wh).sum::<f64>() / 1000.0)
}

fn setup(args: &cli::Args, a: &cli::Summary, day: Option<&str>) -> Result<Setup> {
    let file = Config::load(args.config.as_deref()).map_err(|e| anyhow!(Usage(e.to_string())))?;
    for w in file.warnings(S, KNOWN) {
        eprintln!("han-report: warning: {w}");
    }
    let u = |e: han_common::ConfigError| anyhow!(Usage(e.to_string()));
    let dir = a
        .dir
        .clone()
        .or(file.string("han-log", "dir").map_err(u)?.map(PathBuf::from))
        .unwrap_or(han_common::paths::LOG_DIR.into());
    let tz = match a.tz.clone().or(file.string("han-log", "tz").map_err(u)?) {
        Some(z) => han_common::tz::parse(&z).map_err(|e| Usage(format!("time zone: {e}")))?,
        None => han_common::tz::system().0,
    };
    let date = |s: &Option<String>, what: &str| -> Result<Option<NaiveDate>> {
        s.as_deref()
            .map(|d| {
                NaiveDate::parse_from_str(d, "%Y-%m-%d")
                    .map_err(|_| anyhow!(Usage(format!("--{what} {d:?}: YYYY-MM-DD"))))
            })
            .transpose()
    };
    let (mut from, mut to) = (date(&a.from, "from")?, date(&a.to, "to")?);
    if let Some(d) = day {
        let d = NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| anyhow!(Usage(format!("--date {d:?}: YYYY-MM-DD"))))?;
        (from, to) = (Some(d), Some(d));
    }
    let steps = match &a.steps {
        Some(s) => s.clone(),
        None => file.numbers("maxpower", "steps").map_err(u)?.unwrap_or(han_energy::capacity::DEFAULT_STEPS.to_vec()),
    };
    let prices = match &a.prices {
        None => None,
        Some(p) => {
            let files = price_files(p, from, to)?;
            let zone = files.first().and_then(|f| han_prices::zones::by_name(&f.zone));
            let cap = support_cap(&file, a.support_cap.as_deref(), zone)?;
            // The tariff that made the all-in prices, as the config says it.
            let tariff = match (cap, zone) {
                (Some(_), Some(z)) => {
                    han_prices::tariff::from_config(&file, z).map_err(|e| anyhow!(Usage(e.to_string())))?
                }
                _ => None,
            };
            Some(Arc::new(Prices::with_support_cap(&files, cap, tariff.as_ref())))
        }
    };
    Ok(Setup { dir, tz, from, to, steps, prices, hours: a.hours })
}

/// The kWh of a month with support: the flag, else the config, else
/// Norway's cap for Norwegian prices; `None` when off.
fn support_cap(file: &Config, flag: Option<&str>, zone: Option<&han_prices::zones::Zone>) -> Result<Option<f64>> {
    let parse = |v: &str, what: &str| -> Result<Option<f64>> {
        match v.trim() {
            "none" | "off" => Ok(None),
            n => match n.parse::<f64>() {
                Ok(k) if k >= 0.0 && k.is_finite() => Ok(Some(k)),
                _ => Err(anyhow!(Usage(format!("{what} {v:?}: kWh (as 5000) or none")))),
            },
        }
    };
    if let Some(v) = flag {
        return parse(v, "--support-cap");
    }
    if file.has(S, "support_cap_kwh") {
        return match file.number(S, "support_cap_kwh") {
            Ok(Some(k)) => parse(&k.to_string(), "config [han-report] support_cap_kwh ="),
            _ => match file.string(S, "support_cap_kwh") {
                Ok(Some(v)) => parse(&v, "config [han-report] support_cap_kwh ="),
                _ => Err(anyhow!(Usage("config [han-report] support_cap_kwh: kWh (as 5000) or \"none\"".into()))),
            },
        };
    }
    Ok(zone.filter(|z| z.country == "NO").map(|_| NORWAY_SUPPORT_CAP_KWH))
}

/// The price files of `from..=to` (all there are when open).
fn price_files(dir: &std::path::Path, from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<Vec<PriceFile>> {
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let e = e?;
        let Some(name) = e.file_name().into_string().ok() else { continue };
        let Some(d) = han_common::logs::date_of(&name, ".json") else { continue };
        // A day either side: a local day's slots start the evening before in UTC.
        if from.and_then(|f| f.pred_opt()).is_some_and(|f| d < f)
            || to.and_then(|t| t.succ_opt()).is_some_and(|t| d > t)
        {
            continue;
        }
        let text = std::fs::read_to_string(e.path()).with_context(|| format!("cannot read {}", e.path().display()))?;
        files.push(PriceFile::from_json(&text).with_context(|| format!("{} is not a price file", e.path().display()))?);
    }
    Ok(files)
}
