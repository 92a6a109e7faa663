//! `WWW/prices.html`: today and tomorrow, each an inline SVG bar chart and a
//! table, the current slot highlighted; no script. Beside it
//! `WWW/data/prices-YYYY-MM-DD.json`, the day's price file. All written
//! atomically.

use std::fmt::Write;
use std::path::Path;

use anyhow::Result;
use chrono::Days;
use han_common::www::{self, esc};

use crate::fetch::read;
use crate::settings::Settings;
use crate::show::{Day, price};

pub fn write(dir: &Path, s: &Settings) -> Result<()> {
    let today = s.now.with_timezone(&s.zone.tz).date_naive();
    let tomorrow = today.checked_add_days(Days::new(1)).unwrap_or(today);
    let mut days = Vec::new();
    for (label, date) in [("Today", today), ("Tomorrow", tomorrow)] {
        let day = read(&s.dir, date)?.map(|f| Day::new(f, s.hourly, s.now));
        if let Some(d) = &day {
            www::write(dir, &format!("data/prices-{date}.json"), d.file.to_json().as_bytes())?;
        }
        days.push((label, date, day));
    }
    www::write(dir, "prices.html", html(s, &days).as_bytes())?;
    Ok(())
}

/// The page's own style.
const STYLE: &str = r#"svg { width: 100%; height: auto; display: block; }
.bar { fill: var(--import, #1f6fbf); } .bar.neg { fill: var(--export, #1e9150); } .bar.current { fill: #e07b00; }
.axis { fill: var(--muted, #5c6670); font-size: 9px; } .zero { stroke: var(--line, #d9dde2); }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
td, th { padding: .15rem .4rem; text-align: right; white-space: nowrap; } td:first-child, th:first-child { text-align: left; }
tr.current { font-weight: 700; background: rgba(224,123,0,.25); }
.wrap { max-height: 24rem; overflow-y: auto; } .note { color: var(--muted, #5c6670); font-size: .9rem; }
"#;

fn html(s: &Settings, days: &[(&str, chrono::NaiveDate, Option<Day>)]) -> String {
    let zone = esc(s.zone.name);
    let (title, h1) = (format!("Prices {zone}"), format!("Prices, {zone}"));
    let mut o =
        www::Head { tool: "spotprices", file: "prices.html", title: &title, h1: &h1, refresh: 300, style: STYLE }
            .html();
    for (label, date, day) in days {
        let _ =
            writeln!(o, r#"<section id="{}"><h2>{label}, {}</h2>"#, label.to_lowercase(), date.format("%A %-d %B %Y"));
        match day {
            None => {
                let _ = writeln!(
                    o,
                    r#"<p class="missing">{label}'s prices are not there yet (day-ahead prices are published after about 13:00 CET the day before).</p>"#
                );
            }
            Some(d) => section(&mut o, d),
        }
        o.push_str("</section>\n");
    }
    let _ = writeln!(
        o,
        r#"<p class="note">Made {} by spotprices. EUR/MWh is the market's price; prices per kWh are converted with the rate shown.</p></body></html>"#,
        s.now.with_timezone(&s.zone.tz).format("%Y-%m-%d %H:%M %Z")
    );
    o
}

fn section(o: &mut String, d: &Day) {
    let unit = esc(&d.unit());
    if let Some(sum) = &d.summary {
        let now = sum.current.as_ref().map_or(String::new(), |c| {
            format!("Now ({}): <b>{}</b> {unit}. ", d.time(c.start), price(han_prices::summary::value(c)))
        });
        let _ = writeln!(
            o,
            r#"<p class="stats">{now}Min {}, average {}, max {} {unit} ({}).{}</p>"#,
            price(sum.min),
            price(sum.avg),
            price(sum.max),
            if sum.of == "total" { "all-in" } else { "spot" },
            d.file.rate.as_ref().map_or(String::new(), |_| format!(" {}.", esc(&d.rate_text())))
        );
    }
    chart(o, d);
    let total = d.rows.first().is_some_and(|r| r.total_per_kwh.is_some());
    o.push_str(r#"<div class="wrap"><table><thead><tr><th>Time</th><th>EUR/MWh</th><th>Spot</th>"#);
    if total {
        o.push_str("<th>All-in</th>");
    }
    let _ = writeln!(o, "</tr></thead><tbody>");
    let current = d.summary.as_ref().and_then(|s| s.current.as_ref()).map(|c| c.start);
    for r in &d.rows {
        let class = if Some(r.start) == current { r#" class="current""# } else { "" };
        let _ = write!(
            o,
            "<tr{class}><td>{}–{}</td><td>{:.2}</td><td>{}</td>",
            d.time(r.start),
            d.time(r.end),
            r.eur_per_mwh,
            price(r.spot_per_kwh)
        );
        if let Some(t) = r.total_per_kwh {
            let _ = write!(o, "<td>{}</td>", price(t));
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</tbody></table></div>\n");
}

/// One bar per slot, negative prices below the zero line.
fn chart(o: &mut String, d: &Day) {
    let (w, h, left, bottom) = (360.0, 160.0, 28.0, 14.0);
    let vals: Vec<f64> = d.rows.iter().map(han_prices::summary::value).collect();
    let hi = vals.iter().copied().fold(0.0_f64, f64::max).max(0.01);
    let lo = vals.iter().copied().fold(0.0_f64, f64::min);
    let span = hi - lo;
    let plot = h - bottom - 6.0;
    let y = |v: f64| 6.0 + (hi - v) / span * plot;
    let n = vals.len().max(1) as f64;
    let slot = (w - left) / n;
    let current = d.summary.as_ref().and_then(|s| s.current.as_ref()).map(|c| c.start);
    let _ = write!(
        o,
        r#"<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="Prices per slot" xmlns="http://www.w3.org/2000/svg">"#
    );
    let _ = write!(
        o,
        r#"<line class="zero" x1="{left}" x2="{w}" y1="{0:.2}" y2="{0:.2}"/><text class="axis" x="{1}" y="{2:.1}" text-anchor="end">{3:.2}</text><text class="axis" x="{1}" y="{4:.1}" text-anchor="end">0</text>"#,
        y(0.0),
        left - 3.0,
        y(hi) + 8.0,
        hi,
        y(0.0) + 3.0
    );
    for (i, (r, v)) in d.rows.iter().zip(&vals).enumerate() {
        let x = left + i as f64 * slot;
        let (top, height) = if *v >= 0.0 { (y(*v), y(0.0) - y(*v)) } else { (y(0.0), y(*v) - y(0.0)) };
        let class = match (Some(r.start) == current, *v < 0.0) {
            (true, _) => "bar current",
            (false, true) => "bar neg",
            _ => "bar",
        };
        let _ = write!(
            o,
            r#"<rect class="{class}" x="{x:.2}" y="{top:.2}" width="{:.2}" height="{:.2}"><title>{} {}</title></rect>"#,
            (slot * 0.85).max(0.5),
            height.max(0.3),
            d.time(r.start),
            price(*v)
        );
        let local = r.start.with_timezone(&d.tz());
        if chrono::Timelike::minute(&local) == 0 && chrono::Timelike::hour(&local) % 3 == 0 {
            let _ = write!(
                o,
                r#"<text class="axis" x="{x:.1}" y="{}" text-anchor="start">{}</text>"#,
                h - 2.0,
                local.format("%H")
            );
        }
    }
    o.push_str("</svg>\n");
}
