//! Numbers as the outputs show them: never a negative zero. A sum of
//! nothing is -0.0 in Rust, and a tiny negative cost rounds to "-0.00";
//! both would read as a value below zero (or as "free"). Every number of
//! the table, the CSV and the JSON goes through here.

use std::io;

use serde::Serialize;
use serde_json::ser::{Formatter, PrettyFormatter};

/// `x`, with -0.0 made 0.0.
pub fn num(x: f64) -> f64 {
    // -0.0 == 0.0, and 0.0 has no sign.
    if x == 0.0 { 0.0 } else { x }
}

/// `x` to `places` decimals, without a sign when it shows as zero.
pub fn fixed(x: f64, places: usize) -> String {
    let s = format!("{:.*}", places, num(x));
    match s.strip_prefix('-') {
        Some(rest) if rest.bytes().all(|b| b == b'0' || b == b'.') => rest.to_string(),
        _ => s,
    }
}

/// `x` as the CSV shows it (the shortest text that reads back as it).
pub fn plain(x: f64) -> String {
    num(x).to_string()
}

/// Pretty JSON, its numbers through [`num`], ending with a newline.
pub fn json<T: Serialize>(value: &T) -> serde_json::Result<String> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, NoNegativeZero(PrettyFormatter::new()));
    value.serialize(&mut ser)?;
    out.push(b'\n');
    // The serializer writes UTF-8 only.
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// serde_json's pretty formatter, but a -0.0 is written as 0.0.
struct NoNegativeZero<'a>(PrettyFormatter<'a>);

impl Formatter for NoNegativeZero<'_> {
    fn write_f64<W: ?Sized + io::Write>(&mut self, w: &mut W, value: f64) -> io::Result<()> {
        self.0.write_f64(w, num(value))
    }
    fn write_f32<W: ?Sized + io::Write>(&mut self, w: &mut W, value: f32) -> io::Result<()> {
        self.0.write_f32(w, if value == 0.0 { 0.0 } else { value })
    }
    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + io::Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn negative_zero_and_what_rounds_to_zero() {
        assert_eq!(fixed(-0.0, 2), "0.00");
        assert_eq!(fixed(-0.004, 2), "0.00");
        assert_eq!(fixed(-0.0049999, 2), "0.00");
        assert_eq!(fixed(-1e-12, 4), "0.0000");
        assert_eq!(fixed(-0.005001, 2), "-0.01");
        assert_eq!(fixed(-3.25, 1), "-3.2");
        assert_eq!(fixed(0.004, 0), "0");
        assert_eq!(fixed(-0.4, 0), "0");
        assert_eq!(plain(-0.0), "0");
        assert_eq!(plain(-0.5), "-0.5");
        // A sum of nothing is -0.0.
        let empty: f64 = std::iter::empty::<f64>().sum();
        assert_eq!(plain(empty), "0");
        assert_eq!(
            json(&serde_json::json!({"cost": -0.0, "list": [-0.0, 1.5, -2.0], "f": -0.0f32})).expect("json"),
            "{\n  \"cost\": 0.0,\n  \"f\": 0.0,\n  \"list\": [\n    0.0,\n    1.5,\n    -2.0\n  ]\n}\n"
        );
    }

    proptest! {
        /// Whatever the number, a text that is all zeros has no sign, and
        /// a text with a sign reads back as below zero.
        #[test]
        fn no_negative_zero(x in prop_oneof![-1e-3f64..1e-3, -10.0f64..10.0, Just(-0.0)], places in 0usize..6) {
            let s = fixed(x, places);
            let digits = s.trim_start_matches('-');
            if digits.bytes().all(|b| b == b'0' || b == b'.') {
                prop_assert!(!s.starts_with('-'), "{x} as {s}");
            }
            if s.starts_with('-') {
                prop_assert!(s.parse::<f64>().is_ok_and(|v| v < 0.0), "{x} as {s}");
            }
            prop_assert!(plain(x) != "-0", "{x}");
            let j = json(&x).expect("json");
            prop_assert!(!j.starts_with("-0.0\n"), "{x} as {j}");
            prop_assert_eq!(j.trim().parse::<f64>().ok(), Some(num(x)));
        }
    }
}
