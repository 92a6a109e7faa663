//! The summary as a table, CSV (a row per day) or JSON. Every number goes
//! through `han_report::fmt`: no negative zero.

use std::fmt::Write;

use han_report::cost::{Costs, Prices};
use han_report::fmt::{fixed, plain};
use han_report::summary::Summary;

/// A share as a percentage, as "50.0%".
fn pct(share: f64) -> String {
    format!("{}%", fixed(share * 100.0, 1))
}

/// A cost column: the cost, "no prices", or nothing without prices; and
/// the share without a price after it.
fn cost_cell(o: &mut String, cost: Option<Option<f64>>, share: Option<f64>, places: usize) {
    match cost {
        Some(Some(c)) => {
            let _ = write!(o, " {:>10}", fixed(c, places));
        }
        Some(None) => {
            let _ = write!(o, " {:>10}", "no prices");
        }
        None => {}
    }
    if let (Some(Some(_)), Some(share)) = (cost, share) {
        let _ = write!(o, "  ({} unpriced)", pct(share));
    }
}

/// What of the import had no price, for a month or the span; nothing when all had one.
fn unpriced_line(c: &Costs) -> Option<String> {
    let share = c.unpriced_share?;
    Some(match c.cost {
        None => format!("no prices: {} kWh of import without a price", fixed(c.unpriced_kwh, 3)),
        Some(_) => format!(
            "{} kWh of import ({}) had no price: the cost is that of the rest",
            fixed(c.unpriced_kwh, 3),
            pct(share)
        ),
    })
}

pub fn table(s: &Summary, prices: Option<&Prices>) -> String {
    let mut o = String::new();
    let cur = prices.map(|p| p.currency.clone()).unwrap_or_default();
    let _ = writeln!(
        o,
        "{} readings, {} ({}), import {} kWh, export {} kWh",
        s.readings,
        span(s),
        s.tz,
        fixed(s.import_kwh, 3),
        fixed(s.export_kwh, 3)
    );
    if s.skipped_lines > 0 {
        let _ = writeln!(o, "{} lines of the logs skipped: not readings", s.skipped_lines);
    }
    if let (Some(min), Some(avg), Some(max)) = (s.power.min_w, s.power.avg_w, s.power.max_w) {
        let _ = writeln!(o, "power: min {} W, avg {} W, max {} W", fixed(min, 0), fixed(avg, 0), fixed(max, 0));
    }
    if let Some(line) = s.costs.as_ref().and_then(unpriced_line) {
        let _ = writeln!(o, "costs: {line}");
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
        let _ = write!(o, "{:<10} {:>11} {:>11}", d.date, fixed(d.import_kwh, 3), fixed(d.export_kwh, 3));
        cost_cell(&mut o, d.cost, d.unpriced_share, 2);
        if !d.complete {
            o.push_str("  (gaps)");
        }
        o.push('\n');
    }
    for m in &s.months {
        let _ =
            writeln!(o, "\n{}: import {} kWh, export {} kWh", m.month, fixed(m.import_kwh, 3), fixed(m.export_kwh, 3));
        let top: Vec<String> = m.norway_top.iter().map(|p| format!("{} {}", p.date, fixed(p.kwh, 3))).collect();
        let _ = writeln!(
            o,
            "  Norway: top hours {}; average {} kWh/h, step {}",
            top.join(", "),
            fixed(m.norway_average_kwh, 3),
            m.norway_step + 1
        );
        if let Some(w) = m.belgium_peak_w {
            let _ = writeln!(o, "  Belgium: peak quarter {} W", fixed(w, 0));
        }
        if let Some(c) = &m.costs {
            if let Some(cost) = c.cost {
                let _ = writeln!(
                    o,
                    "  cost {} {cur}; paid {} against an average price of {} {cur}/kWh; moving the flexible part would have saved {}",
                    fixed(cost, 2),
                    c.average_paid.map_or("-".into(), |p| fixed(p, 4)),
                    c.average_price.map_or("-".into(), |p| fixed(p, 4)),
                    fixed(c.flexible_saving, 2)
                );
            }
            if let Some(line) = unpriced_line(c) {
                let _ = writeln!(o, "  {line}");
            }
            if let Some(cap) = c.support_cap.filter(|cap| cap.over_kwh > 0.0) {
                let _ = write!(
                    o,
                    "  support cap {} kWh: {} kWh past it paid {} {cur} of support back (in the cost)",
                    plain(cap.cap_kwh),
                    fixed(cap.over_kwh, 3),
                    fixed(cap.support_lost, 2)
                );
                if cap.unknown_kwh > 0.0 {
                    let _ = write!(o, "; {} kWh of it with a support not known, left out", fixed(cap.unknown_kwh, 3));
                }
                o.push('\n');
            }
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
            let _ =
                write!(o, "{:<25} {:>11} {:>11}", h.start.to_rfc3339(), fixed(h.import_kwh, 3), fixed(h.export_kwh, 3));
            cost_cell(&mut o, h.cost, h.unpriced_share, 4);
            if !h.complete {
                o.push_str("  (gaps)");
            }
            o.push('\n');
        }
    }
    let _ = writeln!(o, "\nhour  mean import kWh");
    for (h, v) in s.profile_kwh.iter().enumerate() {
        let _ = writeln!(o, "{h:02}    {}", v.map_or("-".into(), |v| fixed(v, 3)));
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
            let cost = h.cost.flatten().map(plain).unwrap_or_default();
            let _ = writeln!(
                o,
                "{},{},{},{},{cost}",
                h.start.to_rfc3339(),
                plain(h.import_kwh),
                plain(h.export_kwh),
                h.complete
            );
        }
        return o;
    }
    let mut o = String::from("date,import_kwh,export_kwh,complete,cost\n");
    for d in &s.days {
        let _ = writeln!(
            o,
            "{},{},{},{},{}",
            d.date,
            plain(d.import_kwh),
            plain(d.export_kwh),
            d.complete,
            d.cost.flatten().map(plain).unwrap_or_default()
        );
    }
    o
}
