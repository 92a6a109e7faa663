//! InfluxDB line protocol: one point per reading,
//! `MEASUREMENT,meter_id=ID field=1.5,... TIME_MS`.
//!
//! Escaping as the line protocol reference has it: in the measurement a
//! comma or space is escaped with a backslash; in tag keys, tag values and
//! field keys a comma, `=` or space. Newlines cannot be written at all
//! (they end the point) and become spaces; a tag value cannot end in a
//! backslash (it would escape what follows), so one there is dropped. Every
//! field is a float (no `i` suffix): a quantity never changes type between
//! readings, so no field type conflict arises.

use crate::stream::Reading;

/// What separates the parts of a point: escaped in measurements.
const MEASUREMENT_SPECIAL: &[char] = &[',', ' '];
/// In tag keys, tag values and field keys.
const KEY_SPECIAL: &[char] = &[',', '=', ' '];

/// Appends `s` to `out`, the `special` characters escaped.
fn escape(out: &mut String, s: &str, special: &[char]) {
    for c in s.chars() {
        match c {
            '\n' | '\r' | '\t' => out.push_str("\\ "),
            c if special.contains(&c) => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
}

/// The point of a reading (no newline), `None` when it has no number to
/// write (a point needs a field).
pub fn point(measurement: &str, r: &Reading) -> Option<String> {
    if r.quantities.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(32 + 32 * r.quantities.len());
    escape(&mut out, measurement, MEASUREMENT_SPECIAL);
    if let Some(id) = r.meter_id.as_deref().map(|id| id.trim_end_matches('\\')).filter(|id| !id.is_empty()) {
        out.push_str(",meter_id=");
        escape(&mut out, id, KEY_SPECIAL);
    }
    let mut sep = ' ';
    for (name, value) in &r.quantities {
        out.push(sep);
        sep = ',';
        escape(&mut out, name, KEY_SPECIAL);
        out.push('=');
        out.push_str(&float(*value));
    }
    out.push(' ');
    out.push_str(&r.time.timestamp_millis().to_string());
    Some(out)
}

/// A float field value: Rust's shortest exact form (`244`, `6.825`), which
/// line protocol reads as a float (integers carry an `i`).
fn float(v: f64) -> String {
    // -0.0 would print as "-0".
    if v == 0.0 { "0".to_owned() } else { v.to_string() }
}

/// The measurement name: not empty, no newline.
pub fn check_measurement(m: &str) -> Result<(), String> {
    if m.is_empty() || m.contains(['\n', '\r']) {
        return Err(format!("--measurement {m:?}: must be a name (default han)"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn reading(id: Option<&str>, q: Vec<(&'static str, f64)>) -> Reading {
        Reading {
            meter_id: id.map(str::to_owned),
            time: DateTime::parse_from_rfc3339("2017-01-02T18:20:02.250Z").unwrap().to_utc(),
            quantities: q,
            times: vec![],
            manufacturer: None,
            model: None,
            line: vec![],
        }
    }

    #[test]
    fn a_point() {
        let r = reading(Some("K8EG004046395507"), vec![("power_import_w", 244.0), ("energy_import_kwh", 6.825)]);
        assert_eq!(
            point("han", &r).unwrap(),
            "han,meter_id=K8EG004046395507 power_import_w=244,energy_import_kwh=6.825 1483381202250"
        );
        let r = reading(None, vec![("power_export_w", -0.0), ("voltage_l1_v", 229.9), ("big", 1e21)]);
        assert_eq!(
            point("han", &r).unwrap(),
            "han power_export_w=0,voltage_l1_v=229.9,big=1000000000000000000000 1483381202250"
        );
        assert_eq!(point("han", &reading(Some("x"), vec![])), None, "no field, no point");
    }

    #[test]
    fn escaping() {
        let r = reading(Some("a b,c=d\\e\nf\\"), vec![("power_import_w", 1.5)]);
        assert_eq!(
            point("my m,x=y", &r).unwrap(),
            r"my\ m\,x=y,meter_id=a\ b\,c\=d\e\ f power_import_w=1.5 1483381202250"
        );
        assert_eq!(point("han", &reading(Some("\\"), vec![("p", 1.0)])).unwrap(), "han p=1 1483381202250");
        assert!(
            check_measurement("").is_err() && check_measurement("a\nb").is_err() && check_measurement("han").is_ok()
        );
    }
}
