//! `han-report plot KIND --out FILE.svg` (or `.png`): charts drawn with plotters,
//! labelled with units and local dates, black on white for printing.

use anyhow::{Result, anyhow, bail};
use chrono::{DateTime, Utc};
use han_common::Usage;
use han_report::report::Report;
use han_report::summary::Span;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::prelude::*;

use crate::cli::{Kind, Plot};
use crate::run::Setup;

const SIZE: (u32, u32) = (1000, 500);
const IMPORT: RGBColor = RGBColor(31, 111, 191);
const EXPORT: RGBColor = RGBColor(30, 145, 80);
const PRICE: RGBColor = RGBColor(198, 40, 40);
/// Readable when printed.
const LABEL: (&str, u32) = ("sans-serif", 14);
const DESC: (&str, u32) = ("sans-serif", 16);

type Err = Box<dyn std::error::Error>;

/// Draws the series' legend in the upper left corner, the one style every chart uses.
fn legend<'a, CT: CoordTranslate>(c: &mut ChartContext<'a, SVGBackend<'a>, CT>) -> Result<(), Err> {
    c.configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE)
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

/// The axes in the one style every chart uses: their names, and `label`
/// for the ticks along x.
fn axes<X, Y>(
    c: &mut ChartContext<'_, SVGBackend<'_>, Cartesian2d<X, Y>>,
    x: &str,
    y: &str,
    label: &dyn Fn(&X::ValueType) -> String,
) -> Result<(), Err>
where
    X: Ranged + ValueFormatter<X::ValueType>,
    Y: Ranged + ValueFormatter<Y::ValueType>,
{
    c.configure_mesh().x_desc(x).y_desc(y).label_style(LABEL).axis_desc_style(DESC).x_label_formatter(label).draw()?;
    Ok(())
}

/// The legend's swatch for a bar series: a small filled box.
fn bar_key(colour: RGBColor) -> impl Fn((i32, i32)) -> Rectangle<(i32, i32)> {
    move |(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], colour.filled())
}

/// The legend's swatch for a line series: a short stroke.
fn line_key(colour: RGBColor) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour)
}

pub fn run(s: &Setup, p: &Plot) -> Result<u8> {
    let ext = p.out.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
    if ext != "svg" && ext != "png" {
        bail!(Usage(format!("--out {}: a chart is written as .svg or .png", p.out.display())));
    }
    let mut report = Report::new();
    if p.kind == Kind::Day {
        let d = s.from.ok_or_else(|| anyhow!(Usage("plot day needs --date YYYY-MM-DD".into())))?;
        let (a, b) = han_common::times::day_bounds(s.tz, d);
        report.keep_minutes(a, b);
    }
    if p.kind == Kind::Price && s.prices.is_none() {
        bail!(Usage("plot price needs --prices DIR".into()));
    }
    let report = crate::read::read(&s.dir, s.tz, (s.from, s.to), p.span.threads, report)?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        draw(&root, s, p.kind, &report).map_err(|e| anyhow!("cannot draw the chart: {e}"))?;
        root.present().map_err(|e| anyhow!("cannot draw the chart: {e}"))?;
    }
    let bytes = if ext == "png" { png(&svg)? } else { svg.into_bytes() };
    han_common::atomic::write_atomic(&p.out, &bytes).map_err(|e| anyhow!("cannot write {}: {e}", p.out.display()))?;
    eprintln!("han-report: wrote {}", p.out.display());
    Ok(0)
}

/// The SVG rendered at twice its size (for print), with the system's fonts:
/// the first of some common sans-serif families there is.
fn png(svg: &str) -> Result<Vec<u8>> {
    use resvg::{tiny_skia, usvg};
    let mut opt = usvg::Options::default();
    let db = opt.fontdb_mut();
    db.load_system_fonts();
    let families = ["DejaVu Sans", "Liberation Sans", "Arial", "Helvetica", "Noto Sans", "Segoe UI", "Lato"];
    let have = |name: &str| db.faces().any(|f| f.families.iter().any(|(n, _)| n == name));
    match families.iter().find(|f| have(f)) {
        Some(f) => db.set_sans_serif_family(*f),
        None => {
            eprintln!("han-report: no font found for the PNG's text (tried {}); the .svg has it", families.join(", "))
        }
    }
    let tree = usvg::Tree::from_str(svg, &opt).map_err(|e| anyhow!("cannot read the chart back: {e}"))?;
    let size = tree.size().to_int_size();
    let mut pix =
        tiny_skia::Pixmap::new(size.width() * 2, size.height() * 2).ok_or_else(|| anyhow!("no room for the PNG"))?;
    resvg::render(&tree, tiny_skia::Transform::from_scale(2.0, 2.0), &mut pix.as_mut());
    pix.encode_png().map_err(|e| anyhow!("cannot encode the PNG: {e}"))
}

fn span_text(s: &Setup) -> String {
    match (s.from, s.to) {
        (Some(a), Some(b)) if a == b => a.to_string(),
        (Some(a), Some(b)) => format!("{a} to {b}"),
        (Some(a), None) => format!("from {a}"),
        (None, Some(b)) => format!("to {b}"),
        (None, None) => "all days".into(),
    }
}

fn draw(
    root: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    s: &Setup,
    kind: Kind,
    r: &Report,
) -> Result<(), Err> {
    root.fill(&WHITE)?;
    let tz = s.tz;
    let local = move |t: DateTime<Utc>, f: &str| t.with_timezone(&tz).format(f).to_string();
    let font = ("sans-serif", 22);
    match kind {
        Kind::Day => {
            let mins = r.minutes();
            let top = mins.iter().map(|m| m.1.max(m.2)).fold(100.0_f64, f64::max) * 1.1;
            let n = mins.len().max(1) as f64;
            let mut c = ChartBuilder::on(root)
                .caption(format!("Power, {} ({})", span_text(s), tz.name()), font)
                .margin(10)
                .x_label_area_size(40)
                .y_label_area_size(60)
                .build_cartesian_2d(0f64..n, 0f64..top)?;
            let times: Vec<DateTime<Utc>> = mins.iter().map(|m| m.0).collect();
            axes(&mut c, "local time", "W", &|x| times.get(*x as usize).map_or(String::new(), |t| local(*t, "%H:%M")))?;
            for (label, colour, export) in [("import W", IMPORT, false), ("export W", EXPORT, true)] {
                c.draw_series(LineSeries::new(
                    mins.iter().enumerate().map(|(i, m)| (i as f64, if export { m.2 } else { m.1 })),
                    colour.stroke_width(2),
                ))?
                .label(label)
                .legend(line_key(colour));
            }
            legend(&mut c)?;
        }
        Kind::Hours | Kind::Price => {
            let hours = r.periods(false, tz, s.from, s.to);
            let top = hours.iter().map(|h| h.import_wh / 1000.0).fold(0.1_f64, f64::max) * 1.1;
            let n = hours.len().max(1);
            let title = if kind == Kind::Hours { "Energy per hour" } else { "Energy per hour and its price" };
            let mut builder = ChartBuilder::on(root);
            builder
                .caption(format!("{title}, {}", span_text(s)), font)
                .margin(10)
                .x_label_area_size(40)
                .y_label_area_size(60);
            if kind == Kind::Price {
                builder.right_y_label_area_size(70);
            }
            let starts: Vec<DateTime<Utc>> = hours.iter().map(|h| h.start).collect();
            let mut c = builder.build_cartesian_2d(0..n, 0f64..top)?;
            let label = |x: &usize| {
                starts.get(*x).map_or(String::new(), |t| {
                    local(
                        *t,
                        if n <= 25 {
                            "%H:%M"
                        } else if n <= 24 * 7 {
                            "%m-%d %H:%M"
                        } else {
                            "%m-%d"
                        },
                    )
                })
            };
            axes(&mut c, "local time", "kWh", &label)?;
            c.draw_series(
                hours
                    .iter()
                    .enumerate()
                    .map(|(i, h)| Rectangle::new([(i, 0.0), (i + 1, h.import_wh / 1000.0)], IMPORT.filled())),
            )?
            .label("import kWh")
            .legend(bar_key(IMPORT));
            if let (Kind::Price, Some(prices)) = (kind, &s.prices) {
                let points: Vec<(usize, f64)> = hours
                    .iter()
                    .enumerate()
                    .filter_map(|(i, h)| {
                        let qs = (0..4)
                            .filter_map(|q| prices.at(h.start + chrono::Duration::minutes(15 * q)))
                            .collect::<Vec<_>>();
                        (!qs.is_empty()).then(|| (i, qs.iter().sum::<f64>() / qs.len() as f64))
                    })
                    .collect();
                let (lo, hi) = points.iter().fold((0.0_f64, 0.01_f64), |(a, b), p| (a.min(p.1), b.max(p.1)));
                let mut c = c.set_secondary_coord(0..n, lo..hi * 1.1);
                c.configure_secondary_axes()
                    .y_desc(format!("{}/kWh", prices.currency))
                    .label_style(LABEL)
                    .axis_desc_style(DESC)
                    .draw()?;
                c.draw_secondary_series(LineSeries::new(points.iter().map(|(i, p)| (*i, *p)), PRICE.stroke_width(2)))?
                    .label(format!("price {}/kWh", prices.currency))
                    .legend(line_key(PRICE));
                legend(&mut c)?;
            } else {
                legend(&mut c)?;
            }
        }
        Kind::Days => {
            let summary = r.summary(&Span { prices: None, ..s.span() });
            let days = summary.days;
            let top = days.iter().map(|d| d.import_kwh.max(d.export_kwh)).fold(0.1_f64, f64::max) * 1.1;
            let n = days.len().max(1);
            let mut c = ChartBuilder::on(root)
                .caption(format!("Energy per day, {}", span_text(s)), font)
                .margin(10)
                .x_label_area_size(40)
                .y_label_area_size(60)
                .build_cartesian_2d(0..n, 0f64..top)?;
            let label = |x: &usize| days.get(*x).map_or(String::new(), |d| d.date.format("%m-%d").to_string());
            axes(&mut c, "day", "kWh", &label)?;
            c.draw_series(
                days.iter()
                    .enumerate()
                    .map(|(i, d)| Rectangle::new([(i, 0.0), (i + 1, d.import_kwh)], IMPORT.filled())),
            )?
            .label("import kWh")
            .legend(bar_key(IMPORT));
            legend(&mut c)?;
        }
        Kind::Peaks => {
            let months = r.summary(&Span { prices: None, ..s.span() }).months;
            let top = months
                .iter()
                .map(|m| m.norway_average_kwh.max(m.belgium_peak_w.unwrap_or(0.0) / 1000.0))
                .fold(0.1_f64, f64::max)
                * 1.1;
            let n = months.len().max(1);
            let mut c = ChartBuilder::on(root)
                .caption(format!("Monthly capacity peaks, {}", span_text(s)), font)
                .margin(10)
                .x_label_area_size(40)
                .y_label_area_size(60)
                .build_cartesian_2d(0..n * 2, 0f64..top)?;
            let label = |x: &usize| months.get(*x / 2).map_or(String::new(), |m| m.month.clone());
            axes(&mut c, "month", "kWh/h, kW", &label)?;
            c.draw_series(
                months
                    .iter()
                    .enumerate()
                    .map(|(i, m)| Rectangle::new([(2 * i, 0.0), (2 * i + 1, m.norway_average_kwh)], IMPORT.filled())),
            )?
            .label("Norway: top three days' average, kWh/h")
            .legend(bar_key(IMPORT));
            c.draw_series(months.iter().enumerate().map(|(i, m)| {
                Rectangle::new(
                    [(2 * i + 1, 0.0), (2 * i + 2, m.belgium_peak_w.unwrap_or(0.0) / 1000.0)],
                    PRICE.filled(),
                )
            }))?
            .label("Belgium: peak quarter hour, kW")
            .legend(bar_key(PRICE));
            legend(&mut c)?;
        }
    }
    Ok(())
}
