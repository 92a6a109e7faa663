//! The rules file of `relay watch`: a small TOML file of `[[rule]]`s, at
//! most one of each kind per relay. Validated at start; an error names the
//! line and column of the bad value.
//!
//! ```toml
//! [[rule]]            # the water heater on solar surplus
//! relay = 1
//! kind = "surplus"
//! on_export_w = 1500  # on when export stays over 1500 W ...
//! on_for = "60s"      # ... for a minute
//! off_import_w = 300  # off when import stays over 300 W ...
//! off_for = "30s"     # ... for 30 s
//! min_on = "10m"      # protect the load
//! min_off = "5m"
//! stale_after = "2m"  # no reading for 2 minutes: the fail-safe state
//! fail_safe = "off"
//!
//! [[rule]]            # the EV charger off while the hour heads over 5 kWh
//! relay = 2
//! kind = "capacity"
//! limit_wh = 5000
//! resume_wh = 4500
//! ```

use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

/// What a rule watches.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// On while export stays above `on_export_w` for `on_for`; off when
    /// import stays above `off_import_w` for `off_for`. Between the two
    /// the relay stays as it is (the hysteresis).
    Surplus { on_export_w: f64, on_for: Duration, off_import_w: f64, off_for: Duration },
    /// Off while the current clock hour's projected import energy is over
    /// `limit_wh`; the relay is given back once it is under `resume_wh`.
    Capacity { limit_wh: f64, resume_wh: f64 },
}

impl Kind {
    /// `surplus` or `capacity`, as the file names it.
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Surplus { .. } => "surplus",
            Kind::Capacity { .. } => "capacity",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub relay: u32,
    pub kind: Kind,
    pub min_on: Duration,
    pub min_off: Duration,
    pub stale_after: Duration,
    /// `None`: the relay's configured safe state.
    pub fail_safe: Option<bool>,
    /// Where the rule starts in the file (1-based).
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", self.at())]
pub struct RuleError {
    /// The line (1-based) of the bad value, else of its `[[rule]]`.
    pub line: Option<usize>,
    /// The column (1-based, in characters) of the bad value, where the
    /// error is about one value.
    pub column: Option<usize>,
    pub message: String,
    /// The rule's relay, when the error is that it is not configured (the
    /// caller knows where the relays are configured and can say it).
    pub unknown_relay: Option<i64>,
}

impl RuleError {
    /// `line 5, column 10: ` (or `line 1: `, or nothing): where, as the
    /// message starts.
    pub fn at(&self) -> String {
        match (self.line, self.column) {
            (Some(l), Some(c)) => format!("line {l}, column {c}: "),
            (Some(l), None) => format!("line {l}: "),
            _ => String::new(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    rule: Vec<Spanned<Raw>>,
}

/// Every value keeps its place in the file, so that an error about it can
/// say where it is (not only where its `[[rule]]` starts).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    relay: Spanned<i64>,
    kind: Spanned<String>,
    on_export_w: Option<Spanned<f64>>,
    on_for: Option<Spanned<String>>,
    off_import_w: Option<Spanned<f64>>,
    off_for: Option<Spanned<String>>,
    limit_wh: Option<Spanned<f64>>,
    resume_wh: Option<Spanned<f64>>,
    min_on: Option<Spanned<String>>,
    min_off: Option<Spanned<String>>,
    stale_after: Option<Spanned<String>>,
    fail_safe: Option<Spanned<String>>,
}

/// How long a rule waits for a reading before its fail-safe, by default.
pub const STALE_AFTER: Duration = Duration::from_secs(120);

/// The line and column (1-based; the column in characters) of a byte offset.
fn place(text: &str, byte: usize) -> (usize, usize) {
    let before = text.get(..byte).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Parses and checks a rules file; `relays` are the configured numbers. A
/// relay may have one rule of each kind (a surplus and a capacity rule).
pub fn parse(text: &str, relays: &[u32]) -> Result<Vec<Rule>, RuleError> {
    let file: File = toml::from_str(text).map_err(|e| {
        let (line, column) = e.span().map(|s| place(text, s.start)).unzip();
        RuleError { line, column, message: e.message().trim().to_string(), unknown_relay: None }
    })?;
    let mut rules: Vec<Rule> = Vec::new();
    for spanned in file.rule {
        let line = line_of(text, spanned.span().start);
        let r = spanned.into_inner();
        let kind_name = r.kind.get_ref().clone();
        // An error about the rule as a whole: its `[[rule]]` line.
        let err = |message: String| RuleError { line: Some(line), column: None, message, unknown_relay: None };
        // An error about one value: where the value is.
        let at = |span: std::ops::Range<usize>, message: String| {
            let (l, c) = place(text, span.start);
            RuleError { line: Some(l), column: Some(c), message, unknown_relay: None }
        };
        let relay = u32::try_from(*r.relay.get_ref()).ok().filter(|n| relays.contains(n)).ok_or_else(|| RuleError {
            unknown_relay: Some(*r.relay.get_ref()),
            ..at(
                r.relay.span(),
                format!(
                    "relay {} is not configured (the config file has {})",
                    r.relay.get_ref(),
                    relays.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
                ),
            )
        })?;
        let dur = |name: &str, v: &Option<Spanned<String>>, default: Duration| -> Result<Duration, RuleError> {
            match v {
                None => Ok(default),
                Some(s) => han_common::duration::parse(s.get_ref())
                    .map_err(|e| at(s.span(), format!("{name} = {:?}: {e}", s.get_ref()))),
            }
        };
        let watts = |name: &str, v: &Option<Spanned<f64>>| -> Result<f64, RuleError> {
            let v = v.as_ref().ok_or_else(|| err(format!("a {kind_name} rule needs {name}")))?;
            let w = *v.get_ref();
            if w.is_finite() && w >= 0.0 {
                Ok(w)
            } else {
                Err(at(v.span(), format!("{name} = {w}: a number of W or Wh, 0 or more")))
            }
        };
        let unused = |names: &[(&str, Option<std::ops::Range<usize>>)]| -> Result<(), RuleError> {
            match names.iter().find_map(|(n, span)| span.clone().map(|s| (n, s))) {
                Some((n, span)) => Err(at(span, format!("{n} is not a setting of a {kind_name} rule"))),
                None => Ok(()),
            }
        };
        let kind = match kind_name.as_str() {
            "surplus" => {
                unused(&[
                    ("limit_wh", r.limit_wh.as_ref().map(Spanned::span)),
                    ("resume_wh", r.resume_wh.as_ref().map(Spanned::span)),
                ])?;
                Kind::Surplus {
                    on_export_w: watts("on_export_w", &r.on_export_w)?,
                    on_for: dur("on_for", &r.on_for, Duration::from_secs(60))?,
                    off_import_w: watts("off_import_w", &r.off_import_w)?,
                    off_for: dur("off_for", &r.off_for, Duration::from_secs(30))?,
                }
            }
            "capacity" => {
                unused(&[
                    ("on_export_w", r.on_export_w.as_ref().map(Spanned::span)),
                    ("off_import_w", r.off_import_w.as_ref().map(Spanned::span)),
                    ("on_for", r.on_for.as_ref().map(Spanned::span)),
                    ("off_for", r.off_for.as_ref().map(Spanned::span)),
                ])?;
                let limit_wh = watts("limit_wh", &r.limit_wh)?;
                let resume_wh = match &r.resume_wh {
                    None => limit_wh * 0.9,
                    Some(w) if w.get_ref().is_finite() && *w.get_ref() >= 0.0 && *w.get_ref() <= limit_wh => {
                        *w.get_ref()
                    }
                    Some(w) => {
                        return Err(at(
                            w.span(),
                            format!("resume_wh = {}: 0 or more, at most limit_wh ({limit_wh})", w.get_ref()),
                        ));
                    }
                };
                Kind::Capacity { limit_wh, resume_wh }
            }
            other => return Err(at(r.kind.span(), format!("kind = {other:?}: surplus or capacity"))),
        };
        if let Some(other) = rules.iter().find(|o| o.relay == relay && o.kind.name() == kind.name()) {
            return Err(at(
                r.relay.span(),
                format!(
                    "relay {relay} already has the {} rule of line {}: one rule of each kind per relay",
                    kind.name(),
                    other.line
                ),
            ));
        }
        let fail_safe = match &r.fail_safe {
            None => None,
            Some(f) => match f.get_ref().as_str() {
                "on" => Some(true),
                "off" => Some(false),
                o => return Err(at(f.span(), format!("fail_safe = {o:?}: on or off"))),
            },
        };
        let stale_after = dur("stale_after", &r.stale_after, STALE_AFTER)?;
        if stale_after.is_zero() {
            let span = r.stale_after.as_ref().map_or(0..0, Spanned::span);
            return Err(at(span, "stale_after must be more than 0".into()));
        }
        rules.push(Rule {
            relay,
            kind,
            min_on: dur("min_on", &r.min_on, Duration::ZERO)?,
            min_off: dur("min_off", &r.min_off, Duration::ZERO)?,
            stale_after,
            fail_safe,
            line,
        });
    }
    if rules.is_empty() {
        return Err(RuleError {
            line: None,
            column: None,
            message: "no [[rule]] in the file".into(),
            unknown_relay: None,
        });
    }
    Ok(rules)
}

fn line_of(text: &str, byte: usize) -> usize {
    place(text, byte).0
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "[[rule]]\nrelay = 1\nkind = \"surplus\"\non_export_w = 1500\non_for = \"60s\"\noff_import_w = 300\noff_for = \"30s\"\nmin_on = \"10m\"\n\n[[rule]]\nrelay = 2\nkind = \"capacity\"\nlimit_wh = 5000\n";

    #[test]
    fn a_good_file() {
        let r = parse(GOOD, &[1, 2]).expect("valid");
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].min_on, Duration::from_secs(600));
        assert_eq!(r[1].kind, Kind::Capacity { limit_wh: 5000.0, resume_wh: 4500.0 });
        assert_eq!((r[0].line, r[1].line), (1, 10));
    }

    #[test]
    fn errors_point_at_the_value() {
        let e = parse(GOOD, &[1]).expect_err("relay 2 unknown");
        assert_eq!(e.to_string(), "line 11, column 9: relay 2 is not configured (the config file has 1)");
        assert_eq!(e.unknown_relay, Some(2), "the caller can say where relays are configured");
        let e = parse(&GOOD.replace("on_for = \"60s\"", "on_for = \"soon\""), &[1, 2]).expect_err("bad duration");
        assert_eq!((e.line, e.column), (Some(5), Some(10)), "{e}");
        assert!(e.message.starts_with("on_for = \"soon\""), "{e}");
        let e = parse(&GOOD.replace("on_export_w = 1500", "on_export_w = -1500"), &[1, 2]).expect_err("negative");
        assert_eq!(e.to_string(), "line 4, column 15: on_export_w = -1500: a number of W or Wh, 0 or more");
        let e = parse(&GOOD.replace("min_on = \"10m\"", "fail_safe = \"maybe\""), &[1, 2]).expect_err("fail_safe");
        assert_eq!(e.to_string(), "line 8, column 13: fail_safe = \"maybe\": on or off");
        let e = parse(&GOOD.replace("limit_wh", "limit_w"), &[1, 2]).expect_err("unknown key");
        assert_eq!((e.line, e.column), (Some(13), Some(1)), "{e}");
        assert!(e.message.contains("limit_w"), "{e}");
        // One rule of each kind per relay: a capacity rule beside a surplus
        // rule is fine, a second surplus rule is not.
        assert_eq!(parse(&GOOD.replace("relay = 2", "relay = 1"), &[1, 2]).map(|r| r.len()), Ok(2));
        let twice = format!("{GOOD}\n[[rule]]\nrelay = 1\nkind = \"surplus\"\non_export_w = 1\noff_import_w = 1\n");
        let e = parse(&twice, &[1, 2]).expect_err("twice");
        assert_eq!(
            e.to_string(),
            "line 16, column 9: relay 1 already has the surplus rule of line 1: one rule of each kind per relay"
        );
        let e = parse("[[rule]]\nrelay = 1\nkind = \"surplus\"\non_export_w = 1500\n", &[1]).expect_err("missing");
        assert_eq!(e.to_string(), "line 1: a surplus rule needs off_import_w");
        let e = parse("[[rule]]\nrelay = 1\nkind = \"sunny\"\n", &[1]).expect_err("kind");
        assert_eq!(e.to_string(), "line 3, column 8: kind = \"sunny\": surplus or capacity");
        let e = parse("[[rule]\n", &[1]).expect_err("syntax");
        assert_eq!(e.line, Some(1));
        assert!(parse("", &[1]).is_err());
    }

    #[test]
    fn columns_count_characters() {
        let e = parse(
            "[[rule]]\nrelay = 1\nkind = \"surplus\"\non_export_w = 1\noff_import_w = 1\n  on_for   =   \"ø\"\n",
            &[1],
        )
        .expect_err("bad");
        assert_eq!((e.line, e.column), (Some(6), Some(16)), "{e}");
        assert_eq!(place("ab\nøx", 5), (2, 2), "x follows ø: column 2, though ø is two bytes");
    }
}
