//! The rules file of `relay watch`: a small TOML file, one `[[rule]]` per
//! relay. Validated at start; an error names the line.
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

/// What a rule watches.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// On while export stays above `on_export_w` for `on_for`; off when
    /// import stays above `off_import_w` for `off_for`. Between the two
    /// the relay stays as it is (the hysteresis).
    Surplus { on_export_w: f64, on_for: Duration, off_import_w: f64, off_for: Duration },
    /// Off while the current clock hour's projected import energy is over
    /// `limit_wh`; on again once it is under `resume_wh`.
    Capacity { limit_wh: f64, resume_wh: f64 },
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
#[error("{}{message}", line.map_or(String::new(), |l| format!("line {l}: ")))]
pub struct RuleError {
    pub line: Option<usize>,
    pub message: String,
    /// The rule's relay, when the error is that it is not configured (the
    /// caller knows where the relays are configured and can say it).
    pub unknown_relay: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    rule: Vec<toml::Spanned<Raw>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    relay: i64,
    kind: String,
    on_export_w: Option<f64>,
    on_for: Option<String>,
    off_import_w: Option<f64>,
    off_for: Option<String>,
    limit_wh: Option<f64>,
    resume_wh: Option<f64>,
    min_on: Option<String>,
    min_off: Option<String>,
    stale_after: Option<String>,
    fail_safe: Option<String>,
}

/// How long a rule waits for a reading before its fail-safe, by default.
pub const STALE_AFTER: Duration = Duration::from_secs(120);

/// Parses and checks a rules file; `relays` are the configured numbers.
pub fn parse(text: &str, relays: &[u32]) -> Result<Vec<Rule>, RuleError> {
    let file: File = toml::from_str(text).map_err(|e| RuleError {
        line: e.span().map(|s| line_of(text, s.start)),
        message: e.message().trim().to_string(),
        unknown_relay: None,
    })?;
    let mut rules: Vec<Rule> = Vec::new();
    for spanned in file.rule {
        let line = line_of(text, spanned.span().start);
        let r = spanned.into_inner();
        let err = |message: String| RuleError { line: Some(line), message, unknown_relay: None };
        let relay = u32::try_from(r.relay).ok().filter(|n| relays.contains(n)).ok_or_else(|| RuleError {
            unknown_relay: Some(r.relay),
            ..err(format!(
                "relay {} is not configured (the config file has {})",
                r.relay,
                relays.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
            ))
        })?;
        if let Some(other) = rules.iter().find(|o| o.relay == relay) {
            return Err(err(format!("relay {relay} already has the rule of line {}: one rule per relay", other.line)));
        }
        let dur = |name: &str, v: &Option<String>, default: Duration| -> Result<Duration, RuleError> {
            match v {
                None => Ok(default),
                Some(s) => han_common::duration::parse(s).map_err(|e| err(format!("{name} = {s:?}: {e}"))),
            }
        };
        let watts = |name: &str, v: Option<f64>| -> Result<f64, RuleError> {
            let w = v.ok_or_else(|| err(format!("a {} rule needs {name}", r.kind)))?;
            if w.is_finite() && w >= 0.0 {
                Ok(w)
            } else {
                Err(err(format!("{name} = {w}: a number of W or Wh, 0 or more")))
            }
        };
        let unused = |names: &[(&str, bool)]| -> Result<(), RuleError> {
            match names.iter().find(|(_, set)| *set) {
                Some((n, _)) => Err(err(format!("{n} is not a setting of a {} rule", r.kind))),
                None => Ok(()),
            }
        };
        let kind = match r.kind.as_str() {
            "surplus" => {
                unused(&[("limit_wh", r.limit_wh.is_some()), ("resume_wh", r.resume_wh.is_some())])?;
                Kind::Surplus {
                    on_export_w: watts("on_export_w", r.on_export_w)?,
                    on_for: dur("on_for", &r.on_for, Duration::from_secs(60))?,
                    off_import_w: watts("off_import_w", r.off_import_w)?,
                    off_for: dur("off_for", &r.off_for, Duration::from_secs(30))?,
                }
            }
            "capacity" => {
                unused(&[
                    ("on_export_w", r.on_export_w.is_some()),
                    ("off_import_w", r.off_import_w.is_some()),
                    ("on_for", r.on_for.is_some()),
                    ("off_for", r.off_for.is_some()),
                ])?;
                let limit_wh = watts("limit_wh", r.limit_wh)?;
                let resume_wh = match r.resume_wh {
                    None => limit_wh * 0.9,
                    Some(w) if w.is_finite() && w >= 0.0 && w <= limit_wh => w,
                    Some(w) => return Err(err(format!("resume_wh = {w}: at most limit_wh ({limit_wh})"))),
                };
                Kind::Capacity { limit_wh, resume_wh }
            }
            other => return Err(err(format!("kind = {other:?}: surplus or capacity"))),
        };
        let fail_safe = match r.fail_safe.as_deref() {
            None => None,
            Some("on") => Some(true),
            Some("off") => Some(false),
            Some(o) => return Err(err(format!("fail_safe = {o:?}: on or off"))),
        };
        let stale_after = dur("stale_after", &r.stale_after, STALE_AFTER)?;
        if stale_after.is_zero() {
            return Err(err("stale_after must be more than 0".into()));
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
        return Err(RuleError { line: None, message: "no [[rule]] in the file".into(), unknown_relay: None });
    }
    Ok(rules)
}

fn line_of(text: &str, byte: usize) -> usize {
    text.get(..byte).map_or(1, |t| t.matches('\n').count() + 1)
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
    fn errors_point_at_the_line() {
        let e = parse(GOOD, &[1]).expect_err("relay 2 unknown");
        assert_eq!(e.to_string(), "line 10: relay 2 is not configured (the config file has 1)");
        assert_eq!(e.unknown_relay, Some(2), "the caller can say where relays are configured");
        let e = parse(&GOOD.replace("on_for = \"60s\"", "on_for = \"soon\""), &[1, 2]).expect_err("bad duration");
        assert_eq!(e.line, Some(1));
        assert!(e.message.starts_with("on_for = \"soon\""), "{e}");
        let e = parse(&GOOD.replace("limit_wh", "limit_w"), &[1, 2]).expect_err("unknown key");
        assert_eq!(e.line, Some(13), "{e}");
        assert!(e.message.contains("limit_w"), "{e}");
        let e = parse(&GOOD.replace("relay = 2", "relay = 1"), &[1, 2]).expect_err("twice");
        assert_eq!(e.to_string(), "line 10: relay 1 already has the rule of line 1: one rule per relay");
        let e = parse("[[rule]]\nrelay = 1\nkind = \"surplus\"\non_export_w = 1500\n", &[1]).expect_err("missing");
        assert_eq!(e.to_string(), "line 1: a surplus rule needs off_import_w");
        let e = parse("[[rule]\n", &[1]).expect_err("syntax");
        assert_eq!(e.line, Some(1));
        assert!(parse("", &[1]).is_err());
    }
}
