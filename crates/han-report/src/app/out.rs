//! The summary as a table, CSV (a row per day) or JSON.

use std::fmt::Write;

use han_report::cost::Prices;
use han_report::summary::Summary;

pub fn table(s: &Summary, prices: Option<&Prices>) -> String {
    let mut o = String::new();
    let cur = prices.map(|p| p.currency.clone()).unwrap_or_default();
    let _ = writeln!(
        o,
        "{} readings, {} ({}), import {:.3} kWh, export {:.3} kWh",
        s.readings,
        span(s),
        s.tz,
        s.import_kwh,
        s.export_kwh
    );
    if s.skipped_lines > 0 {
        let _ = writeln!(o, "{} lines of the logs skipped: not readings", s.skipped_lines);
    }
    if let (Some(min), Some(avg), Some(max)) = (s.power.min_w, s.power.avg_w, s.power.max_w) {
        let _ = writeln!(o, "power: min {min:.0} W, avg {avg:.0} W, max {max:.0} W");
    }
    let _ = writeln!(
        o,
        "\n{:<10} {:>11} {:>11}{}",
        "day",
        "import kWh",
        "export kWh",
        if prices.is_some() { format!(" {:>10}", format!("cost {cur}")) } else { String::new() }
    );
    for d in &s.days {
        let _ = write!(o, "{:<10} {:>11.3} {:>11.3}", d.date, d.import_kwh, d.export_kwh);
        if let Some(c) = d.cost {
            let _ = write!(o, " {c:>10.2}");
        }
        if !d.complete {
            o.push_str("  (gaps)");
        }
        o.push('\n');
    }
    for m in &s.months {
        let _ = writeln!(o, "\n{}: import {:.3} kWh, export {:.3} kWh", m.month, m.import_kwh, m.export_kwh);
        let top: Vec<String> = m.norway_top.iter().map(|p| format!("{} {:.3}", p.date, p.kwh)).collect();
        let _ = writeln!(
            o,
            "  Norway: top hours {}; average {:.3} kWh/h, step {}",
            top.join(", "),
            m.norway_average_kwh,
            m.norway_step + 1
        );
        if let Some(w) = m.belgium_peak_w {
            let _ = writeln!(o, "  Belgium: peak quarter {w:.0} W");
        }
        if let Some(c) = &m.costs {
            let _ = writeln!(
                o,
                "  cost {:.2} {cur}; paid {} against an average price of {} {cur}/kWh; moving the flexible part would have saved {:.2}",
                c.cost,
                c.average_paid.map_or("-".into(), |p| format!("{p:.4}")),
                c.average_price.map_or("-".into(), |p| format!("{p:.4}")),
                c.flexible_saving
            );
        }
    }
    if let Some(hours) = &s.hours {
        let _ = writeln!(
            o,
            "\n{:<25} {:>11} {:>11}{}",
            "hour (local start)",
            "import kWh",
            "export kWh",
            if prices.is_some() { format!(" {:>10}", format!("cost {cur}")) } else { String::new() }
        );
        for h in hours {
            let _ = write!(o, "{:<25} {:>11.3} {:>11.3}", h.start.to_rfc3339(), h.import_kwh, h.export_kwh);
            if let Some(c) = h.cost {
                let _ = write!(o, " {c:>10.4}");
            }
            if !h.complete {
                o.push_str("  (gaps)");
            }
            o.push('\n');
        }
    }
    let _ = writeln!(o, "\nhour  mean import kWh");
    for (h, v) in s.profile_kwh.iter().enumerate() {
        let _ = writeln!(o, "{h:02}    {}", v.map_or("-".into(), |v| format!("{v:.3}")));
    }
    if !s.gaps.is_empty() {
        let _ = writeln!(o, "\ngaps: {}", s.gaps.len());
        for (a, b) in s.gaps.iter().take(20) {
            let _ = writeln!(o, "  {} to {}", a.format("%Y-%m-%d %H:%M:%S"), b.format("%Y-%m-%d %H:%M:%S UTC"));
        }
    }
    o
}

fn span(s: &Summary) -> String {
    match (s.days.first(), s.days.last()) {
        (Some(a), Some(b)) => format!("{} to {}", a.date, b.date),
        _ => "no days".into(),
    }
}

/// A row per day; with `--hours`, a row per hour.
pub fn csv(s: &Summary) -> String {
    if let Some(hours) = &s.hours {
        let mut o = String::from("start,import_kwh,export_kwh,complete,cost\n");
        for h in hours {
            let cost = h.cost.map(|c| c.to_string()).unwrap_or_default();
            let _ = writeln!(o, "{},{},{},{},{cost}", h.start.to_rfc3339(), h.import_kwh, h.export_kwh, h.complete);
        }
        return o;
    }
    let mut o = String::from("date,import_kwh,export_kwh,complete,cost\n");
    for d in &s.days {
        let _ = writeln!(
            o,
            "{},{},{},{},{}",
            d.date,
            d.import_kwh,
            d.export_kwh,
            d.complete,
            d.cost.map(|c| c.to_string()).unwrap_or_default()
        );
    }
    o
}
