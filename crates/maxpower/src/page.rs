//! `WWW/peaks.html` (complete HTML, an inline SVG chart, no script) and
//! `WWW/data/peaks.json` (the summary), both written atomically.

use std::fmt::Write;
use std::path::Path;

use anyhow::{Context, Result};

use crate::summary::Summary;
use crate::text::{kwh, short};

use han_common::www::{Head, esc};

/// Today's hours as bars (kWh) against the limit line.
fn chart(s: &Summary) -> String {
    // About a phone's width in CSS pixels, so the labels stay readable there.
    let (w, h, left, bottom) = (360.0, 170.0, 24.0, 16.0);
    let top_wh = s
        .today
        .iter()
        .map(|x| x.import_wh)
        .chain(s.current.as_ref().and_then(|c| c.projected_wh))
        .chain(s.limit_wh)
        .fold(1000.0_f64, f64::max)
        * 1.1;
    let n = s.today.len().max(24) as f64;
    let slot = (w - left) / n;
    let y = |wh: f64| (h - bottom) - (wh / top_wh) * (h - bottom - 8.0);
    let mut o = String::new();
    let _ = write!(
        o,
        r#"<svg id="hours" viewBox="0 0 {w} {h}" role="img" aria-label="Today's hourly energy against the limit" xmlns="http://www.w3.org/2000/svg">"#
    );
    // Grid lines every kWh (or every 5 when the scale is large).
    let step = if top_wh > 10_000.0 { 5000.0 } else { 1000.0 };
    let mut g = 0.0;
    while g <= top_wh {
        let _ = write!(
            o,
            r#"<line class="grid" x1="{left}" x2="{w}" y1="{0:.1}" y2="{0:.1}"/><text class="axis" x="{1}" y="{2:.1}" text-anchor="end">{3}</text>"#,
            y(g),
            left - 4.0,
            y(g) + 4.0,
            g / 1000.0
        );
        g += step;
    }
    for (i, hour) in s.today.iter().enumerate() {
        let x = left + i as f64 * slot + slot * 0.1;
        let over = s.limit_wh.is_some_and(|l| hour.import_wh > l);
        let class = match (over, hour.complete) {
            (true, _) => "bar over",
            (false, false) => "bar partial",
            _ => "bar",
        };
        let label = short(&hour.start);
        let _ = write!(
            o,
            r#"<rect class="{class}" x="{x:.1}" y="{:.1}" width="{:.1}" height="{:.1}"><title>{} {:.3} kWh</title></rect>"#,
            y(hour.import_wh),
            slot * 0.8,
            (h - bottom) - y(hour.import_wh),
            esc(&label),
            hour.import_wh / 1000.0
        );
        if i % 3 == 0 {
            let _ = write!(
                o,
                r#"<text class="axis" x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
                x + slot * 0.4,
                h - 4.0,
                esc(label.get(11..13).unwrap_or(""))
            );
        }
    }
    if let Some(c) = &s.current {
        if let (Some(p), Some(i)) = (c.projected_wh, s.today.iter().position(|x| x.at == c.at)) {
            let x = left + i as f64 * slot + slot * 0.1;
            let _ = write!(
                o,
                r#"<rect class="projected" x="{x:.1}" y="{:.1}" width="{:.1}" height="{:.1}"><title>projected {:.3} kWh</title></rect>"#,
                y(p),
                slot * 0.8,
                (y(c.so_far_wh) - y(p)).max(0.0),
                p / 1000.0
            );
        }
    }
    if let Some(l) = s.limit_wh {
        let _ = write!(
            o,
            r#"<line id="limit" class="limit" x1="{left}" x2="{w}" y1="{0:.1}" y2="{0:.1}"/><text class="limit-label" x="{w}" y="{1:.1}" text-anchor="end">limit {2:.3} kWh</text>"#,
            y(l),
            y(l) - 4.0,
            l / 1000.0
        );
    }
    o.push_str("</svg>");
    o
}

/// The page's own style.
const STYLE: &str = r#"svg { width: 100%; height: auto; } .bar { fill: var(--import, #1f6fbf); } .bar.partial { opacity: .5; }
.bar.over { fill: var(--bad, #c62828); } .projected { fill: none; stroke: var(--import, #1f6fbf); stroke-dasharray: 3 2; }
.limit { stroke: var(--bad, #c62828); stroke-width: 1.5; } .limit-label { fill: var(--bad, #c62828); font-size: 10px; }
.grid { stroke: var(--line, #d9dde2); } .axis { fill: var(--muted, #5c6670); font-size: 10px; }
table { border-collapse: collapse; width: 100%; } td, th { text-align: left; padding: .15rem .4rem; }
td.n { text-align: right; font-variant-numeric: tabular-nums; } tr.current { font-weight: 700; background: rgba(127,127,127,.15); }
"#;

/// The page.
pub fn html(s: &Summary) -> String {
    let month = esc(&s.month);
    let (title, h1) = (format!("Peaks {month}"), format!("Peaks, {month}"));
    let mut o =
        Head { tool: "maxpower", file: "peaks.html", title: &title, h1: &h1, refresh: 300, style: STYLE }.html();
    let _ = writeln!(
        o,
        r#"<p class="muted">As of {now} ({tz}); last reading {last}. Tariff: {tariff}. Limit: {limit}.</p>"#,
        now = esc(&short(&s.now)),
        tz = esc(&s.tz),
        last = esc(&s.last_reading.as_deref().map_or("none".into(), short)),
        tariff = s.tariff.describe(),
        limit = s.limit_wh.map_or("none".into(), kwh),
    );
    let _ = write!(o, "<section><h2>Today's hours (kWh)</h2>{}", chart(s));
    if let Some(c) = &s.current {
        let proj = c.projected_wh.map_or("no projection".into(), |p| format!("projected {}", kwh(p)));
        let _ = write!(
            o,
            r#"<p id="current">This hour ({}): {:.3} kWh so far, {proj}.</p>"#,
            esc(&short(&c.start)),
            c.so_far_wh / 1000.0
        );
    }
    o.push_str("</section>\n");
    if let Some(n) = &s.norway {
        o.push_str(r#"<section><h2>This month's top three (different days)</h2><table id="top"><tr><th>#</th><th>Hour</th><th>kWh</th></tr>"#);
        for (i, p) in n.top.iter().enumerate() {
            let _ = write!(
                o,
                r#"<tr><td>{}</td><td>{}</td><td class="n">{:.3}</td></tr>"#,
                i + 1,
                esc(&short(&p.hour)),
                p.kwh
            );
        }
        let _ = write!(o, r#"</table><p>Average <b id="average">{:.3}</b> kWh/h."#, n.average_kwh);
        match n.headroom_wh {
            Some(h) => {
                let _ = write!(
                    o,
                    r#" This hour may take <b id="headroom">{:.3}</b> kWh more before the step rises."#,
                    h / 1000.0
                );
            }
            None => o.push_str(" The month is in the top step."),
        }
        o.push_str(r#"</p></section><section><h2>Steps (kWh/h)</h2><table id="steps"><tr><th>Step</th><th>From</th><th>To</th></tr>"#);
        let mut from = 0.0;
        for i in 0..=n.steps.len() {
            let to = n.steps.get(i).map_or(String::new(), |t| format!("{t}"));
            let class = if i + 1 == n.step { r#" class="current""# } else { "" };
            let mark = if i + 1 == n.step { " (this month)" } else { "" };
            let _ = write!(
                o,
                r#"<tr{class}><td>{}{mark}</td><td class="n">{from}</td><td class="n">{to}</td></tr>"#,
                i + 1
            );
            from = n.steps.get(i).copied().unwrap_or(from);
        }
        o.push_str("</table></section>\n");
    }
    if let Some(b) = &s.belgium {
        o.push_str("<section><h2>Peak demand (quarter hour)</h2><p>");
        match b.month_peak_w {
            Some(w) => {
                let _ = write!(
                    o,
                    r#"This month: <b id="peak">{:.3}</b> kW, billed at {:.3} kW."#,
                    w / 1000.0,
                    b.billed_w / 1000.0
                );
            }
            None => o.push_str("This month: none yet (billed at 2.5 kW)."),
        }
        let _ = write!(
            o,
            r#" 12-month mean: <b id="mean">{:.3}</b> kW.</p><table id="months"><tr><th>Month</th><th>kW</th><th>From</th></tr>"#,
            b.mean_12_w / 1000.0
        );
        for m in &b.months {
            let _ = write!(
                o,
                r#"<tr><td>{}</td><td class="n">{:.3}</td><td>{}</td></tr>"#,
                esc(&m.month),
                m.peak_w / 1000.0,
                esc(&m.source)
            );
        }
        o.push_str("</table></section>\n");
    }
    if !s.gaps.is_empty() {
        let _ = writeln!(
            o,
            "<section><h2>Gaps in the readings</h2><p>{} this month, not counted.</p></section>",
            s.gaps.len()
        );
    }
    o.push_str("</body></html>\n");
    o
}

/// Writes the page and its data.
pub fn write(www: &Path, s: &Summary) -> Result<()> {
    let mut json = serde_json::to_vec(s).context("cannot serialise the summary")?;
    json.push(b'\n');
    han_common::www::write(www, "data/peaks.json", &json)?;
    Ok(han_common::www::write(www, "peaks.html", html(s).as_bytes())?)
}
