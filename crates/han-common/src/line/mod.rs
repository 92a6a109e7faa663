//! One stream line (docs/stream.md) read back: the fields every tool needs
//! (version, protocol, times, meter id) and, when asked, the normalised
//! quantities, borrowed from the line; everything else (`obis`,
//! `submeters` ...) is skipped.
//!
//! Two ways in: [`Line::parse`] for input from elsewhere (han-log's stdin)
//! checks that the whole line is JSON (one serde_json pass); [`Line::scan`]
//! for the daily logs (checked when they were written) reads only the top
//! level, skipping nested values by their brackets: faster, less strict.
//! Both give the same fields for a valid line (tested, fuzzed).

mod checked;
mod scan;

use std::borrow::Cow;
use std::sync::OnceLock;

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
    /// A field of the wrong kind.
    #[error("not a reading: {0:?} is not {1}")]
    Kind(&'static str, &'static str),
}

/// A quantity's value, as written in the line.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// A number, its text (`244.0`).
    Num(&'a str),
    /// A string (times).
    Text(Cow<'a, str>),
}

impl Value<'_> {
    /// The number, when it is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Num(t) => t.parse().ok(),
            Value::Text(_) => None,
        }
    }
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
    /// The meter's list or version identifier (`KFM_001`, `50217`).
    pub list: Option<Cow<'a, str>>,
    /// The normalised quantities by their index in [`QUANTITIES`] (all
    /// `None` unless asked for).
    pub quantities: [Option<Value<'a>>; N],
}

impl<'a> Line<'a> {
    /// Reads a line from elsewhere: it must be JSON throughout, an object
    /// with `v`, `protocol` and `obis`. `quantities` says whether to keep
    /// the quantities.
    pub fn parse(line: &'a [u8], quantities: bool) -> Result<Line<'a>, LineError> {
        let (l, has) = checked::parse(line, quantities)?;
        l.complete(has)
    }

    /// A line with nothing read yet.
    fn empty() -> Line<'a> {
        Line {
            v: 0,
            protocol: Cow::Borrowed(""),
            received: None,
            meter_time: None,
            meter_id: None,
            list: None,
            quantities: [const { None }; N],
        }
    }

    /// The line, when it had `v`, `protocol` and `obis`.
    fn complete(self, [v, protocol, obis]: [bool; 3]) -> Result<Line<'a>, LineError> {
        for (has, name) in [(obis, "obis"), (v, "v"), (protocol, "protocol")] {
            if !has {
                return Err(LineError::Missing(name));
            }
        }
        Ok(self)
    }

    /// Reads a line of the daily logs: the top level only (nested values
    /// are skipped by their brackets, not checked).
    pub fn scan(line: &'a [u8], quantities: bool) -> Result<Line<'a>, LineError> {
        Line::scan_to(line, quantities, None)
    }

    /// Reads the head of a line of the daily logs, up to its `obis` (which
    /// han-read writes last), keeping only the quantities of `fields` and
    /// stopping after the last of them (han-read writes them in the
    /// contract's order, [`QUANTITIES`]). The rest is neither read nor
    /// checked: for a tool that reads millions of lines han-log checked
    /// when it stored them, and needs a few quantities.
    pub fn scan_fields(line: &'a [u8], fields: &Fields) -> Result<Line<'a>, LineError> {
        Line::scan_to(line, true, Some(fields))
    }

    /// `head`: stop at `obis` or after the last of these quantities, and keep only them.
    fn scan_to(line: &'a [u8], quantities: bool, head: Option<&Fields>) -> Result<Line<'a>, LineError> {
        let mut c = scan::Cursor::new(line);
        let mut l = Line::empty();
        let (mut has_v, mut has_protocol, mut has_obis) = (false, false, false);
        // Quantities come in the contract's order: the next is looked for after the last.
        let mut next = 0;
        c.eat(b'{')?;
        if !c.take(b'}') {
            loop {
                let key = c.key()?;
                c.eat(b':')?;
                let text = |c: &mut scan::Cursor<'a>, name| {
                    if c.at_string() { c.string() } else { Err(LineError::Kind(name, "a string")) }
                };
                match key {
                    b"v" => {
                        let whole = c.number().ok().and_then(|t| t.parse().ok());
                        l.v = whole.ok_or(LineError::Kind("v", "a whole number"))?;
                        has_v = true;
                    }
                    b"protocol" => {
                        l.protocol = text(&mut c, "protocol")?;
                        has_protocol = true;
                    }
                    b"received" => l.received = Some(text(&mut c, "received")?),
                    b"meter_time" => l.meter_time = Some(text(&mut c, "meter_time")?),
                    b"meter_id" => l.meter_id = Some(text(&mut c, "meter_id")?),
                    b"list" => l.list = Some(text(&mut c, "list")?),
                    b"obis" if head.is_some() => return l.complete([has_v, has_protocol, true]),
                    // The contract's other fields: no quantity to look for.
                    b"framing" | b"manufacturer" | b"meter_model" | b"submeters" | b"encrypted" => c.skip()?,
                    b"obis" => {
                        has_obis = true;
                        c.skip()?;
                    }
                    k => match quantities.then(|| index_after(k, next)).flatten() {
                        // Past what was asked for: the rest is not read.
                        Some(i) if head.is_some_and(|f| i > f.last) => {
                            return l.complete([has_v, has_protocol, true]);
                        }
                        Some(i) if head.is_some_and(|f| !f.has(i)) => {
                            next = i + 1;
                            c.skip()?;
                        }
                        Some(i) => {
                            next = i + 1;
                            // Anything but a string or a number (null ...) is no value: dropped.
                            let v = if c.at_string() {
                                Some(Value::Text(c.string()?))
                            } else if c.at_number() {
                                Some(Value::Num(c.number()?))
                            } else {
                                c.skip()?;
                                None
                            };
                            if let (Some(slot), Some(v)) = (l.quantities.get_mut(i), v) {
                                *slot = Some(v);
                            }
                        }
                        None => c.skip()?,
                    },
                }
                if !c.take(b',') {
                    c.eat(b'}')?;
                    break;
                }
            }
        }
        if !c.at_end() {
            return Err(LineError::Json("more after the object".into()));
        }
        l.complete([has_v, has_protocol, has_obis])
    }

    /// A quantity by name (`power_import_w`), when present and a number.
    pub fn number(&self, name: &str) -> Option<f64> {
        self.number_at(index(name)?)
    }

    /// A quantity by its [`index`] (looked up once by a tool that reads
    /// millions of lines), when present and a number.
    pub fn number_at(&self, i: usize) -> Option<f64> {
        self.quantities.get(i)?.as_ref()?.as_f64()
    }
}

/// Which quantities [`Line::scan_fields`] keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fields {
    mask: u128,
    last: usize,
}

const _: () = assert!(N <= 128, "Fields holds 128 quantities");

impl Fields {
    /// Every quantity.
    pub const ALL: Fields = Fields { mask: u128::MAX, last: usize::MAX };

    /// These quantities (names not in [`QUANTITIES`] are ignored).
    pub fn of(names: &[&str]) -> Fields {
        let found = names.iter().filter_map(|n| index(n));
        let mask = found.clone().fold(0u128, |m, i| m | 1u128.checked_shl(i as u32).unwrap_or(0));
        Fields { mask, last: found.max().unwrap_or(0) }
    }

    fn has(&self, i: usize) -> bool {
        1u128.checked_shl(i as u32).is_some_and(|bit| self.mask & bit != 0)
    }
}

/// The index of a quantity name in [`QUANTITIES`], looked for from `from`
/// on first (lines name them in the contract's order), then everywhere.
pub(crate) fn index_after(name: &[u8], from: usize) -> Option<usize> {
    let ahead = QUANTITIES.get(from..).unwrap_or_default();
    match ahead.iter().position(|q| q.as_bytes() == name) {
        Some(i) => Some(from + i),
        None if from > 0 => index(std::str::from_utf8(name).ok()?),
        None => None,
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
        assert_eq!(l.quantities[index("power_import_w").unwrap()], Some(Value::Num("4027.0")), "the text as written");
        let plain = Line::parse(LINE.as_bytes(), false).unwrap();
        assert!(plain.quantities.iter().all(Option::is_none), "quantities only when asked");
        let escaped = r#"{"v":1,"protocol":"p1","meter_id":"a\"b\u00e6","obis":{"x":["}",{"]":"\""}]}}"#;
        for l in [Line::parse(escaped.as_bytes(), true).unwrap(), Line::scan(escaped.as_bytes(), true).unwrap()] {
            assert_eq!(l.meter_id.as_deref(), Some("a\"b\u{e6}"));
        }
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
            (r#"{"v":"1","protocol":"han","obis":{}}"#, "\"v\" is not a whole number"),
            (r#"{"v":1,"protocol":2,"obis":{}}"#, "\"protocol\" is not a string"),
        ] {
            let e = Line::parse(bad.as_bytes(), true).unwrap_err().to_string();
            assert!(e.contains(why), "{bad:?}: {e}");
            assert!(Line::scan(bad.as_bytes(), true).is_err(), "scan too: {bad:?}");
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
