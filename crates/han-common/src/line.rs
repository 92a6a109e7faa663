//! One stream line (docs/stream.md) read back: the fields every tool needs
//! (version, protocol, times, meter id) and, when asked, the normalised
//! quantities, borrowed from the line; everything else (`obis`,
//! `submeters` ...) is checked to be JSON and skipped.

use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

pub use han::STREAM_VERSION;

/// The normalised quantities of the contract, in its order.
pub const QUANTITIES: &[&str] = han::Quantities::NAMES;
const N: usize = han::Quantities::NAMES.len();

/// Why a line is not a reading.
#[derive(Debug, thiserror::Error)]
pub enum LineError {
    /// Not JSON, or not a JSON object.
    #[error("not a JSON object: {0}")]
    Json(String),
    /// A JSON object without a field every reading has.
    #[error("not a reading: no {0:?} field")]
    Missing(&'static str),
}

/// A quantity's value: a number, or a time (`gas_time` ...).
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// A number.
    Num(f64),
    /// A string (times).
    Text(Cow<'a, str>),
}

/// A stream line's fields.
#[derive(Debug, Clone)]
pub struct Line<'a> {
    /// The contract version.
    pub v: u64,
    /// `han` or `p1`.
    pub protocol: Cow<'a, str>,
    /// When han-read received it (UTC).
    pub received: Option<Cow<'a, str>>,
    /// The meter's clock.
    pub meter_time: Option<Cow<'a, str>>,
    /// The meter's id.
    pub meter_id: Option<Cow<'a, str>>,
    /// The normalised quantities by their index in [`QUANTITIES`] (all
    /// `None` unless asked for).
    pub quantities: [Option<Value<'a>>; N],
}

impl<'a> Line<'a> {
    /// Reads a line; `quantities` says whether to keep the quantities.
    pub fn parse(line: &'a [u8], quantities: bool) -> Result<Line<'a>, LineError> {
        let mut de = serde_json::Deserializer::from_slice(line);
        let parsed = LineSeed { quantities }.deserialize(&mut de).and_then(|l| de.end().map(|()| l));
        let (l, obis) = parsed.map_err(|e| LineError::Json(e.to_string()))?;
        if !obis {
            return Err(LineError::Missing("obis"));
        }
        if l.v == 0 {
            return Err(LineError::Missing("v"));
        }
        if l.protocol.is_empty() {
            return Err(LineError::Missing("protocol"));
        }
        Ok(l)
    }

    /// A quantity by name (`power_import_w`), when present and a number.
    pub fn number(&self, name: &str) -> Option<f64> {
        match self.quantities.get(index(name)?)? {
            Some(Value::Num(v)) => Some(*v),
            _ => None,
        }
    }
}

/// The index of a quantity name in [`QUANTITIES`].
pub fn index(name: &str) -> Option<usize> {
    static SORTED: OnceLock<Vec<(&'static str, usize)>> = OnceLock::new();
    let sorted = SORTED.get_or_init(|| {
        let mut v: Vec<_> = QUANTITIES.iter().enumerate().map(|(i, n)| (*n, i)).collect();
        v.sort_unstable();
        v
    });
    let at = sorted.binary_search_by(|(n, _)| (*n).cmp(name)).ok()?;
    sorted.get(at).map(|(_, i)| *i)
}

struct LineSeed {
    quantities: bool,
}

impl<'de> DeserializeSeed<'de> for LineSeed {
    type Value = (Line<'de>, bool);
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for LineSeed {
    /// The line, and whether it had `obis`.
    type Value = (Line<'de>, bool);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a stream line (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut l = Line {
            v: 0,
            protocol: Cow::Borrowed(""),
            received: None,
            meter_time: None,
            meter_id: None,
            quantities: [const { None }; N],
        };
        let mut obis = false;
        while let Some(key) = map.next_key::<Key<'de>>()? {
            match &*key.0 {
                "v" => l.v = map.next_value()?,
                "protocol" => l.protocol = map.next_value::<Str<'de>>()?.0,
                "received" => l.received = Some(map.next_value::<Str<'de>>()?.0),
                "meter_time" => l.meter_time = Some(map.next_value::<Str<'de>>()?.0),
                "meter_id" => l.meter_id = Some(map.next_value::<Str<'de>>()?.0),
                "obis" => {
                    obis = true;
                    map.next_value::<IgnoredAny>()?;
                }
                k if self.quantities => match index(k).and_then(|i| l.quantities.get_mut(i)) {
                    Some(slot) => *slot = Some(map.next_value::<Quantity<'de>>()?.0),
                    None => {
                        map.next_value::<IgnoredAny>()?;
                    }
                },
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok((l, obis))
    }
}

/// A string, borrowed when it has no escapes.
struct Str<'a>(Cow<'a, str>);
/// An object key (the same, named for what it is).
type Key<'a> = Str<'a>;

impl<'de> de::Deserialize<'de> for Str<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

struct Quantity<'a>(Value<'a>);

impl<'de> de::Deserialize<'de> for Quantity<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Quantity<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or a string")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Quantity<'de>, E> {
                Ok(Quantity(Value::Num(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Quantity<'de>, E> {
                Ok(Quantity(Value::Num(v as f64)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Quantity<'de>, E> {
                Ok(Quantity(Value::Num(v as f64)))
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Quantity<'de>, E> {
                Ok(Quantity(Value::Text(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Quantity<'de>, E> {
                Ok(Quantity(Value::Text(Cow::Owned(v.to_owned()))))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = r#"{"v":1,"received":"2025-12-14T15:00:02.314Z","meter_time":"2025-12-14T16:00:00","protocol":"han","framing":"hdlc","meter_id":"7359992890497997","power_import_w":4027.0,"tariff":2,"gas_time":"2017-01-02T16:10:05+01:00","submeters":[{"channel":1}],"obis":{"1-0:1.7.0":{"value":4027,"unit":"W"}}}"#;

    #[test]
    fn fields_and_quantities() {
        let l = Line::parse(LINE.as_bytes(), true).unwrap();
        assert_eq!((l.v, &*l.protocol), (1, "han"));
        assert_eq!(l.received.as_deref(), Some("2025-12-14T15:00:02.314Z"));
        assert_eq!(l.meter_time.as_deref(), Some("2025-12-14T16:00:00"));
        assert_eq!(l.meter_id.as_deref(), Some("7359992890497997"));
        assert_eq!(l.number("power_import_w"), Some(4027.0));
        assert_eq!(l.number("tariff"), Some(2.0));
        assert_eq!(l.number("power_export_w"), None);
        assert_eq!(l.quantities[index("gas_time").unwrap()], Some(Value::Text("2017-01-02T16:10:05+01:00".into())));
        let plain = Line::parse(LINE.as_bytes(), false).unwrap();
        assert!(plain.quantities.iter().all(Option::is_none), "quantities only when asked");
    }

    #[test]
    fn what_is_not_a_reading() {
        for (bad, why) in [
            ("", "not a JSON object"),
            ("hello", "not a JSON object"),
            ("[1,2]", "not a JSON object"),
            (&LINE[..LINE.len() - 1], "not a JSON object"),
            (r#"{"v":1,"protocol":"han","obis":{}} trailing"#, "not a JSON object"),
            (r#"{"v":1,"protocol":"han"}"#, "no \"obis\" field"),
            (r#"{"protocol":"han","obis":{}}"#, "no \"v\" field"),
            (r#"{"v":1,"obis":{}}"#, "no \"protocol\" field"),
            (r#"{"v":"1","protocol":"han","obis":{}}"#, "not a JSON object"),
        ] {
            let e = Line::parse(bad.as_bytes(), true).unwrap_err().to_string();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
    }

    #[test]
    fn every_name_has_its_index() {
        for (i, n) in QUANTITIES.iter().enumerate() {
            assert_eq!(index(n), Some(i));
        }
        assert_eq!(index("obis"), None);
    }
}
