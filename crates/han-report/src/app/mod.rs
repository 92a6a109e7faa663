//! The han-report binary's parts: flags, reading the logs, the outputs.

pub mod cli;
pub mod out;
pub mod plot;
pub mod read;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use chrono::NaiveDate;
use han_common::{Config, Usage};
use han_report::cost::Prices;
use han_report::report::Report;
use han_report::summary::Span;
use spotprices::file::PriceFile;

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
        }
    }
}

pub fn run(args: &cli::Args) -> Result<u8> {
    match &args.command {
        cli::Command::Summary(a) => {
            let s = setup(args, a, None)?;
            // Month by month: memory does not grow with the span.
            let span = s.span();
            let report = read::read(&s.dir, s.tz, (s.from, s.to), a.threads, Report::folding(span.clone()))?;
            let summary = report.summary(&span);
            let text = match a.format {
                cli::Format::Table => out::table(&summary, s.prices.as_deref()),
                cli::Format::Csv => out::csv(&summary),
                cli::Format::Json => {
                    let mut t = serde_json::to_string_pretty(&summary)?;
                    t.push('\n');
                    t
                }
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

fn setup(args: &cli::Args, a: &cli::Summary, day: Option<&str>) -> Result<Setup> {
    let file = Config::load(args.config.as_deref()).map_err(|e| anyhow!(Usage(e.to_string())))?;
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
        None => file.numbers("maxpower", "steps").map_err(u)?.unwrap_or(maxpower::capacity::DEFAULT_STEPS.to_vec()),
    };
    let prices = match &a.prices {
        None => None,
        Some(p) => Some(Arc::new(prices(p, from, to)?)),
    };
    Ok(Setup { dir, tz, from, to, steps, prices, hours: a.hours })
}

/// The price files of `from..=to` (all there are when open).
fn prices(dir: &std::path::Path, from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<Prices> {
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
    Ok(Prices::from_files(&files))
}
