//! `YYYY-MM-DD.csv`: one row per reading, for spreadsheets. Columns (fixed
//! for stream contract v1, docs/han-log.md): `time` (the instant that put
//! the reading in its day, local, RFC 3339), `received`, `meter_time`,
//! `meter_id`, then every normalised quantity of the contract in its order
//! (`power_import_w` ... `heat_time`); a quantity the reading does not have
//! is an empty cell, never 0; a number is written exactly as in the line.

use std::io::Write;
use std::sync::OnceLock;

use han_common::line::{Line, QUANTITIES, Value};
use han_common::tz::Tz;

use han_common::days::Stamp;

/// The header line, with its newline.
pub fn header() -> &'static [u8] {
    static HEADER: OnceLock<Vec<u8>> = OnceLock::new();
    HEADER.get_or_init(|| {
        let mut h = b"time,received,meter_time,meter_id".to_vec();
        for q in QUANTITIES {
            h.push(b',');
            h.extend_from_slice(q.as_bytes());
        }
        h.push(b'\n');
        h
    })
}

/// Appends the row of `line` (without the newline).
pub fn row(out: &mut Vec<u8>, line: &Line<'_>, stamp: Stamp, tz: Tz) {
    // Writing to a Vec cannot fail.
    let _ = write!(out, "{}", stamp.at.with_timezone(&tz).format("%Y-%m-%dT%H:%M:%S%:z"));
    for text in [&line.received, &line.meter_time, &line.meter_id] {
        out.push(b',');
        if let Some(t) = text {
            cell(out, t);
        }
    }
    for q in &line.quantities {
        out.push(b',');
        match q {
            Some(Value::Num(v)) => out.extend_from_slice(v.as_bytes()),
            Some(Value::Text(t)) => cell(out, t),
            None => {}
        }
    }
}

/// A text cell, quoted when it has to be (RFC 4180).
fn cell(out: &mut Vec<u8>, t: &str) {
    if t.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        out.push(b'"');
        for b in t.bytes() {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(t.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, NaiveDate};

    #[test]
    fn header_and_row_line_up() {
        let h = String::from_utf8(header().to_vec()).unwrap();
        let cols: Vec<&str> = h.trim_end().split(',').collect();
        assert_eq!(cols.len(), 4 + QUANTITIES.len());
        assert_eq!(&cols[..5], ["time", "received", "meter_time", "meter_id", "power_import_w"]);
        let json = r#"{"v":1,"received":"2025-01-01T10:00:00.000Z","protocol":"p1","meter_id":"a,\"b\"","power_import_w":244.0,"energy_import_kwh":6.825,"gas_time":"2017-01-02T16:10:05+01:00","obis":{}}"#;
        let line = Line::parse(json.as_bytes(), true).unwrap();
        let at = DateTime::parse_from_rfc3339("2025-01-01T10:00:00Z").unwrap().to_utc();
        let stamp = Stamp { date: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(), at };
        let mut out = Vec::new();
        row(&mut out, &line, stamp, Tz::Europe__Oslo);
        let r = String::from_utf8(out).unwrap();
        assert!(r.starts_with("2025-01-01T11:00:00+01:00,2025-01-01T10:00:00.000Z,,\"a,\"\"b\"\"\",244.0,"), "{r}");
        assert_eq!(r.matches(',').count(), cols.len() - 1 + 1, "one comma inside the quoted id");
        let cell = |name: &str| {
            let i = cols.iter().position(|c| *c == name).unwrap();
            r.replace("\"a,\"\"b\"\"\"", "id").split(',').nth(i).unwrap().to_owned()
        };
        assert_eq!(cell("energy_import_kwh"), "6.825");
        assert_eq!(cell("gas_time"), "2017-01-02T16:10:05+01:00");
        assert_eq!(cell("power_export_w"), "", "absent is empty, not 0");
    }
}
