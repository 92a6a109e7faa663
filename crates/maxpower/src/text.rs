//! The readable summary (the default output), and the body of a mail.

use std::fmt::Write;

use crate::summary::{HourOut, Summary};

/// Wh as kWh for people (`4.000 kWh`).
pub fn kwh(wh: f64) -> String {
    format!("{:.3} kWh", wh / 1000.0)
}

/// `2025-01-06T16:00:00+01:00` -> `2025-01-06 16:00`.
pub fn short(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(d), Some(t)) => format!("{d} {t}"),
        _ => rfc3339.to_owned(),
    }
}

fn hour_line(out: &mut String, h: &HourOut, limit: Option<f64>, running: bool) {
    let how = match (h.source, h.complete) {
        _ if running => "  (so far)",
        (_, false) => "  (readings missing: at least this)",
        ("power", true) => "  (from power)",
        _ => "",
    };
    let over = if limit.is_some_and(|l| h.import_wh > l) { "  OVER THE LIMIT" } else { "" };
    let _ = writeln!(out, "  {}  {:>12}{over}{how}", short(&h.start), kwh(h.import_wh));
}

/// The whole summary.
pub fn render(s: &Summary) -> String {
    let mut o = String::new();
    let limit = s.limit_wh.map_or("none".to_owned(), kwh);
    let _ = writeln!(
        o,
        "maxpower {}  {}  tariff: {} ({}), limit {limit}",
        short(&s.now),
        s.tz,
        s.tariff.describe(),
        s.tariff_from
    );
    let _ = writeln!(o, "last reading {}", s.last_reading.as_deref().map_or("none".into(), short));
    let _ = writeln!(o, "\nToday's hours (import):");
    if s.today.is_empty() {
        let _ = writeln!(o, "  none");
    }
    for h in &s.today {
        hour_line(&mut o, h, s.limit_wh, s.current.as_ref().is_some_and(|c| c.at == h.at));
    }
    match &s.current {
        Some(c) => {
            let proj = c.projected_wh.map_or("no projection".into(), |p| format!("projected {}", kwh(p)));
            let recent = c.recent_w.map_or(String::new(), |w| format!(" at {:.0} W now", w));
            let _ = writeln!(o, "\nThis hour ({}): {} so far, {proj}{recent}", short(&c.start), kwh(c.so_far_wh));
        }
        None => {
            let _ = writeln!(o, "\nThis hour: no recent readings");
        }
    }
    o.push_str(&month(s));
    let _ = writeln!(o, "\nThis month: {:.3} kWh imported, {:.3} kWh exported", s.month_import_kwh, s.month_export_kwh);
    if !s.over_limit.is_empty() {
        let _ = writeln!(o, "Hours over the limit this month: {}", s.over_limit.len());
        for h in s.over_limit.iter().rev().take(5) {
            hour_line(&mut o, h, s.limit_wh, false);
        }
    }
    if !s.gaps.is_empty() {
        let _ = writeln!(o, "Gaps in the readings (not counted): {}", s.gaps.len());
        for g in s.gaps.iter().rev().take(5) {
            let _ = writeln!(o, "  {} - {} ({} min)", short(&g.from), short(&g.to), g.minutes);
        }
    }
    if s.repeated > 0 {
        let _ = writeln!(o, "Repeated register snapshots (counted once): {}", s.repeated);
    }
    o
}

/// The month's part: Norway's top three, step and headroom, or Belgium's
/// peak, mean and quarter hour (in the summary and in every mail).
pub fn month(s: &Summary) -> String {
    let mut o = String::new();
    if let Some(n) = &s.norway {
        let _ = writeln!(o, "\nThis month's top three (different days):");
        for (i, p) in n.top.iter().enumerate() {
            let _ = writeln!(o, "  {}. {}  {:.3} kWh", i + 1, short(&p.hour), p.kwh);
        }
        let upper = n.step_to_kwh.map_or("and up".into(), |t| format!("{t}"));
        let _ =
            writeln!(o, "  average {:.3} kWh/h: step {} ({}-{upper} kWh/h)", n.average_kwh, n.step, n.step_from_kwh);
        match n.headroom_wh {
            Some(h) => {
                let _ = writeln!(o, "  headroom: this hour may take {} more before the step rises", kwh(h));
            }
            None => {
                let _ = writeln!(o, "  headroom: the top step; nothing raises it further");
            }
        }
    }
    if let Some(b) = &s.belgium {
        let _ = writeln!(o, "\nThis month's peak quarter hour:");
        match b.month_peak_w {
            Some(w) => {
                let src = if b.peak_from_meter { "the meter's" } else { "computed" };
                let when = b.month_peak_time.as_deref().map_or(String::new(), |t| format!(" at {}", short(t)));
                let _ = writeln!(o, "  {:.3} kW{when} ({src}), billed at {:.3} kW", w / 1000.0, b.billed_w / 1000.0);
            }
            None => {
                let _ = writeln!(o, "  none yet (billed at the 2.5 kW floor)");
            }
        }
        let _ = writeln!(o, "  12-month mean: {:.3} kW over {} month(s)", b.mean_12_w / 1000.0, b.months.len().max(1));
        if let (Some(q), Some(room)) = (&b.quarter, b.quarter_headroom_wh) {
            let proj = q.projected_wh.map_or(String::new(), |p| format!(", projected {}", kwh(p)));
            let _ = writeln!(
                o,
                "  this quarter ({}): {} so far{proj}; {} more sets a new peak",
                short(&q.start),
                kwh(q.so_far_wh),
                kwh(room)
            );
        }
    }
    o
}
