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

use crate::input::Reading;

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
/// write (a point needs a field). `seq` above 0 adds the tag `seq=N`: the
/// reading has the series and the time of the one before it ([`Apart`]).
pub fn point(measurement: &str, r: &Reading, seq: u32) -> Option<String> {
    if r.quantities.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(32 + 32 * r.quantities.len());
    escape(&mut out, measurement, MEASUREMENT_SPECIAL);
    if let Some(id) = series(r) {
        out.push_str(",meter_id=");
        escape(&mut out, id, KEY_SPECIAL);
    }
    if seq > 0 {
        // Tags sorted by key, as InfluxDB keeps them: meter_id, seq.
        out.push_str(&format!(",seq={seq}"));
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

/// The key of a point's series: its measurement is the same for all, so
/// the meter id (none for a line without one, a Norwegian list 1).
fn series(r: &Reading) -> Option<&str> {
    r.meter_id.as_deref().map(|id| id.trim_end_matches('\\')).filter(|id| !id.is_empty())
}

/// InfluxDB keeps one point per series and time: a second point with the
/// same tags and time overwrites the first's fields. Two readings of a
/// meter can have the same time (a Norwegian meter's hourly list 3 and the
/// list 2 of the same second, both stamped xx:00:00 by its clock), so each
/// reading whose series and time are those of the reading before it in its
/// series gets a `seq` tag, 1, 2 ..., and stays a point of its own.
#[derive(Debug, Default)]
pub struct Apart {
    /// Per series: the last time (ms) and how many readings had it.
    last: std::collections::HashMap<Option<String>, (i64, u32)>,
    /// Readings written with a `seq` tag.
    pub tagged: u64,
}

impl Apart {
    /// The `seq` of the next reading's point (0: no tag; a reading with no
    /// quantity makes no point and does not count).
    pub fn seq(&mut self, r: &Reading) -> u32 {
        if r.quantities.is_empty() {
            return 0;
        }
        let t = r.time.timestamp_millis();
        let key = series(r).map(str::to_owned);
        let seq = match self.last.get(&key) {
            Some(&(last, n)) if last == t => n,
            _ => 0,
        };
        self.last.insert(key, (t, seq + 1));
        if seq > 0 {
            self.tagged += 1;
        }
        seq
    }
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
            point("han", &r, 0).unwrap(),
            "han,meter_id=K8EG004046395507 power_import_w=244,energy_import_kwh=6.825 1483381202250"
        );
        let r = reading(None, vec![("power_export_w", -0.0), ("voltage_l1_v", 229.9), ("big", 1e21)]);
        assert_eq!(
            point("han", &r, 0).unwrap(),
            "han power_export_w=0,voltage_l1_v=229.9,big=1000000000000000000000 1483381202250"
        );
        assert_eq!(point("han", &reading(Some("x"), vec![]), 0), None, "no field, no point");
    }

    #[test]
    fn readings_of_one_series_and_time_are_kept_apart() {
        let mut a = Apart::default();
        let list2 = reading(Some("6970631401234567"), vec![("power_import_w", 500.0)]);
        let mut list3 = list2.clone();
        list3.quantities.push(("energy_import_kwh", 1234.5));
        let list1 = reading(None, vec![("power_import_w", 510.0)]);
        let other = reading(Some("K8EG004046395507"), vec![("power_import_w", 1.0)]);
        let seqs: Vec<u32> = [&list2, &list3, &list1, &other, &list3].iter().map(|r| a.seq(r)).collect();
        assert_eq!(seqs, [0, 1, 0, 0, 2], "another series or no meter id is another series");
        assert_eq!(a.tagged, 2);
        assert_eq!(
            point("han", &list3, 1).unwrap(),
            "han,meter_id=6970631401234567,seq=1 power_import_w=500,energy_import_kwh=1234.5 1483381202250"
        );
        let mut later = list2.clone();
        later.time += chrono::Duration::milliseconds(1);
        assert_eq!(a.seq(&later), 0, "a new time starts again");
        assert_eq!(a.seq(&list2), 0, "only the reading before counts (the time went back)");
    }

    #[test]
    fn escaping() {
        let r = reading(Some("a b,c=d\\e\nf\\"), vec![("power_import_w", 1.5)]);
        assert_eq!(
            point("my m,x=y", &r, 0).unwrap(),
            r"my\ m\,x=y,meter_id=a\ b\,c\=d\e\ f power_import_w=1.5 1483381202250"
        );
        assert_eq!(point("han", &reading(Some("\\"), vec![("p", 1.0)]), 0).unwrap(), "han p=1 1483381202250");
        assert!(
            check_measurement("").is_err() && check_measurement("a\nb").is_err() && check_measurement("han").is_ok()
        );
    }
}
