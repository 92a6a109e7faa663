//! Summarising month by month (`Report::folding`, what `summary` does)
//! gives what keeping every period gives, on one pass or on parts joined as
//! the reading threads join them, across month ends and a summer-time day.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Europe::Oslo;
use han_energy::hours::Sample;
use han_report::report::Report;
use han_report::summary::Span;

/// A reading a minute from 2026-01-25 to 2026-04-03 (UTC): power with a
/// daily shape, registers integrating it, and a three-hour gap in February.
fn readings() -> Vec<(DateTime<Utc>, Sample)> {
    let start = DateTime::parse_from_rfc3339("2026-01-25T00:00:00Z").expect("time").to_utc();
    let end = DateTime::parse_from_rfc3339("2026-04-03T00:00:00Z").expect("time").to_utc();
    let gap = (
        DateTime::parse_from_rfc3339("2026-02-10T09:00:00Z").expect("time").to_utc(),
        DateTime::parse_from_rfc3339("2026-02-10T12:00:00Z").expect("time").to_utc(),
    );
    let (mut t, mut kwh, mut out) = (start, 1000.0, Vec::new());
    let mut i = 0u64;
    while t < end {
        let w = 300.0 + ((i * 37) % 1440) as f64 * 2.0 + if i % 97 == 0 { 4000.0 } else { 0.0 };
        if !(gap.0 <= t && t < gap.1) {
            out.push((
                t,
                Sample { import_w: Some(w), export_w: Some(0.0), import_kwh: Some(kwh), export_kwh: Some(5.0) },
            ));
        }
        kwh += w / 60_000.0;
        t += Duration::minutes(1);
        i += 1;
    }
    out
}

fn span(from: Option<&str>, to: Option<&str>) -> Span {
    let d = |s: Option<&str>| s.map(|s| s.parse::<NaiveDate>().expect("date"));
    Span {
        tz: Oslo,
        steps: vec![2.0, 5.0, 10.0],
        from: d(from),
        to: d(to),
        prices: None,
        hours: true,
        used_before_kwh: 0.0,
    }
}

fn summary(report: Report, span: &Span) -> serde_json::Value {
    serde_json::to_value(report.summary(span)).expect("JSON")
}

#[test]
fn folded_months_give_the_summary_of_all_periods() {
    let rs = readings();
    for s in [span(None, None), span(Some("2026-02-01"), Some("2026-03-31")), span(Some("2026-01-30"), None)] {
        let mut whole = Report::new();
        let mut folded = Report::folding(s.clone());
        for (at, x) in &rs {
            whole.add(*at, x);
            folded.add(*at, x);
        }
        // What is still held as periods: the first month (its start
        // unseen) and the last, not all of them.
        let held = folded.periods(false, Oslo, None, None).len();
        let all = whole.periods(false, Oslo, None, None).len();
        assert!(all > 1600 && held < 1000, "held {held} of {all} hours");
        let want = summary(whole, &s);
        assert_eq!(want["months"].as_array().map(Vec::len), Some(if s.to.is_none() { 4 } else { 2 }));
        assert_eq!(summary(folded, &s), want, "{:?}..{:?}", s.from, s.to);
        // In parts, as the threads read runs of days, cut mid-month and
        // at a month's first reading.
        // A part that starts with the month's first reading (local midnight).
        let march = rs.iter().position(|(t, _)| t.to_rfc3339() == "2026-02-28T23:00:00+00:00").expect("1 March");
        for cuts in [vec![20_000], vec![9_000, 50_000, 80_000], vec![rs.len() / 2], vec![march]] {
            let template = Report::folding(s.clone());
            let mut bounds = vec![0];
            bounds.extend(cuts.iter().copied());
            bounds.push(rs.len());
            let mut joined = template.like();
            for (i, w) in bounds.windows(2).enumerate() {
                let mut part = if i == 0 { template.like().first_part() } else { template.like() };
                for (at, x) in rs.get(w[0]..w[1]).unwrap_or_default() {
                    part.add(*at, x);
                }
                joined.append(part);
            }
            assert_eq!(summary(joined, &s), want, "cuts {cuts:?}");
        }
    }
}
