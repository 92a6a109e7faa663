//! Which mails are due: an hour over the limit (`over`), and when asked,
//! the current hour projected over it (`projected`) or about to raise the
//! month's step (`step`). One mail per hour per kind.

use chrono::{DateTime, Utc};

use crate::summary::Summary;
use crate::text::{kwh, short};

/// A mail to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Due {
    pub kind: &'static str,
    /// The hour (quarter hour for Belgium's step) it is about.
    pub hour: DateTime<Utc>,
    /// That period for people (`the hour from 2025-01-06 16:00`).
    pub about: String,
    pub subject: String,
    pub body: String,
}

/// The mails `s` calls for.
pub fn due(s: &Summary, warn_projected: bool, warn_step: bool) -> Vec<Due> {
    let mut out = Vec::new();
    let limit = s.limit_wh;
    let footer = format!("{}\n-- maxpower, {} ({})\n", crate::text::month(s), short(&s.now), s.tz);
    if let Some(l) = limit {
        for h in &s.over_limit {
            out.push(mail(
                "over",
                h.at,
                ("hour", &h.start),
                format!("maxpower: {} used {} (limit {})", short(&h.start), kwh(h.import_wh), kwh(l)),
                format!("used {}, over the limit of {}.", kwh(h.import_wh), kwh(l)),
                &footer,
            ));
        }
    }
    let Some(c) = &s.current else { return out };
    if let (true, Some(l), Some(p)) = (warn_projected, limit, c.projected_wh) {
        if p > l && c.so_far_wh <= l {
            out.push(mail(
                "projected",
                c.at,
                ("hour", &c.start),
                format!("maxpower: {} is heading for {} (limit {})", short(&c.start), kwh(p), kwh(l)),
                format!(
                    "has used {} so far and will come to {} at the present power{}, over the limit of {}.",
                    kwh(c.so_far_wh),
                    kwh(p),
                    c.recent_w.map_or(String::new(), |w| format!(" ({w:.0} W)")),
                    kwh(l)
                ),
                &footer,
            ));
        }
    }
    if !warn_step {
        return out;
    }
    if let (Some(n), Some(p)) = (&s.norway, c.projected_wh) {
        if n.headroom_wh.is_some_and(|room| p - c.so_far_wh > room) {
            out.push(mail(
                "step",
                c.at,
                ("hour", &c.start),
                format!("maxpower: {} would raise this month's step", short(&c.start)),
                format!(
                    "has used {} so far and will come to {} at the present power: enough to raise the month's capacity step from step {}.",
                    kwh(c.so_far_wh),
                    kwh(p),
                    n.step
                ),
                &footer,
            ));
        }
    }
    if let Some(b) = &s.belgium {
        if let (Some(q), Some(room)) = (&b.quarter, b.quarter_headroom_wh) {
            if q.projected_wh.is_some_and(|p| p - q.so_far_wh > room) {
                out.push(mail(
                    "step",
                    q.at,
                    ("quarter hour", &q.start),
                    format!("maxpower: the quarter hour from {} would set a new peak", short(&q.start)),
                    format!(
                        "has used {} so far and will come to {} ({:.3} kW) at the present power: a new peak for the month, above {:.3} kW.",
                        kwh(q.so_far_wh),
                        kwh(q.projected_wh.unwrap_or(0.0)),
                        q.projected_wh.unwrap_or(0.0) * 4.0 / 1000.0,
                        b.billed_w / 1000.0
                    ),
                    &footer,
                ));
            }
        }
    }
    out
}

/// One mail about the `period` (`hour` or `quarter hour`) from `start`
/// (local RFC 3339): its body is "The {period} from {start} {what}" and the footer.
fn mail(
    kind: &'static str,
    hour: DateTime<Utc>,
    (period, start): (&str, &str),
    subject: String,
    what: String,
    footer: &str,
) -> Due {
    let from = format!("{period} from {}", short(start));
    Due { kind, hour, about: format!("the {from}"), subject, body: format!("The {from} {what}\n{footer}") }
}
