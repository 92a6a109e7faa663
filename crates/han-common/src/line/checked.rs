//! The checked way in ([`super::Line::parse`]): one serde_json pass that
//! checks the whole line is JSON and takes the fields on the way; nested
//! values are checked and skipped. The differential tests and the fuzz
//! target hold it equal to the scanner.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::{Line, LineError, Value, index_after};

/// Reads `line` with serde_json.
pub fn parse(line: &[u8], quantities: bool) -> Result<(Line<'_>, [bool; 3]), LineError> {
    let mut de = serde_json::Deserializer::from_slice(line);
    let parsed = Seed { quantities }.deserialize(&mut de).and_then(|l| de.end().map(|()| l));
    parsed.map_err(|e| {
        let msg = e.to_string();
        match KINDS.iter().find(|(name, _)| msg.starts_with(&format!("{name}: "))) {
            Some((name, kind)) => LineError::Kind(name, kind),
            None => LineError::Json(msg),
        }
    })
}

/// The fields whose kind is checked, for the error.
const KINDS: [(&str, &str); 6] = [
    ("v", "a whole number"),
    ("protocol", "a string"),
    ("received", "a string"),
    ("meter_time", "a string"),
    ("meter_id", "a string"),
    ("list", "a string"),
];

struct Seed {
    quantities: bool,
}

impl<'de> DeserializeSeed<'de> for Seed {
    type Value = (Line<'de>, [bool; 3]);
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

/// A field's value as written, checked as JSON.
fn raw<'de, A: MapAccess<'de>>(map: &mut A) -> Result<&'de str, A::Error> {
    map.next_value::<&'de RawValue>().map(RawValue::get)
}

/// A string field, or an error naming it (mapped to [`LineError::Kind`]).
fn string<'de, E: de::Error>(text: &'de str, name: &str) -> Result<Cow<'de, str>, E> {
    if !text.starts_with('"') {
        return Err(E::custom(format!("{name}: wrong kind")));
    }
    serde_json::from_str::<Str<'de>>(text).map(|s| s.0).map_err(E::custom)
}

impl<'de> Visitor<'de> for Seed {
    /// The line, and whether it had `v`, `protocol`, `obis`.
    type Value = (Line<'de>, [bool; 3]);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a stream line (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut l = Line::empty();
        let mut has = [false; 3];
        let mut next = 0;
        while let Some(key) = map.next_key::<Str<'de>>()? {
            match key.0.as_bytes() {
                b"v" => {
                    l.v = raw(&mut map)?.parse().map_err(|_| de::Error::custom("v: wrong kind"))?;
                    has[0] = true;
                }
                b"protocol" => {
                    l.protocol = string(raw(&mut map)?, "protocol")?;
                    has[1] = true;
                }
                b"received" => l.received = Some(string(raw(&mut map)?, "received")?),
                b"meter_time" => l.meter_time = Some(string(raw(&mut map)?, "meter_time")?),
                b"meter_id" => l.meter_id = Some(string(raw(&mut map)?, "meter_id")?),
                b"list" => l.list = Some(string(raw(&mut map)?, "list")?),
                b"obis" => {
                    has[2] = true;
                    map.next_value::<IgnoredAny>()?;
                }
                k => match self.quantities.then(|| index_after(k, next)).flatten() {
                    Some(i) => {
                        next = i + 1;
                        let text = raw(&mut map)?;
                        let v = if text.starts_with('"') {
                            Value::Text(string(text, "a quantity")?)
                        } else if text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
                            Value::Num(text)
                        } else {
                            // null, true, false, an object: not a quantity's value; dropped.
                            continue;
                        };
                        if let Some(slot) = l.quantities.get_mut(i) {
                            *slot = Some(v);
                        }
                    }
                    None => {
                        map.next_value::<IgnoredAny>()?;
                    }
                },
            }
        }
        Ok((l, has))
    }
}

/// A string, borrowed when it has no escapes.
struct Str<'a>(Cow<'a, str>);

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
