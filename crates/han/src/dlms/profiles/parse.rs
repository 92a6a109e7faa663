//! Profile files: TOML to [`Profile`]s, with the line and column of
//! anything wrong.

use std::ops::Range;

use serde::Deserialize;
use toml::{Spanned, Value};

use super::{Layout, Match, ObisPattern, Position, Profile, Scale, ScaleRule, TYPES, first_bits, intern, unit};
use crate::reading::obis::Obis;

/// A position's scale before its profile's rules are known
/// ([`super::scale_positions`] sets it).
const UNSET: Scale = Scale { scaler: 0, unit: None };

/// A profile file that cannot be used: where, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct ProfileError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column (characters).
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDef {
    #[serde(default)]
    profile: Vec<Spanned<ProfileDef>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileDef {
    name: Spanned<String>,
    manufacturer: Option<Spanned<String>>,
    // Documentation only: what the profile is for and where its facts
    // come from.
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    source: Option<OneOrMany<String>>,
    #[serde(default, rename = "match")]
    matches: Vec<Spanned<MatchDef>>,
    #[serde(default)]
    scale: Vec<Spanned<ScaleDef>>,
    #[serde(default)]
    layout: Vec<Spanned<LayoutDef>>,
}

/// A key that takes one value or a list of them.
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    fn into_vec(self) -> Vec<T> {
        match self {
            OneOrMany::One(t) => vec![t],
            OneOrMany::Many(v) => v,
        }
    }
}

type Texts = Option<Spanned<OneOrMany<String>>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MatchDef {
    list_id: Texts,
    text: Texts,
    device_name: Texts,
    model: Texts,
    push_setup: Texts,
    values: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScaleDef {
    obis: Spanned<OneOrMany<String>>,
    scaler: Option<Spanned<i64>>,
    unit: Option<Spanned<String>>,
    #[serde(default)]
    #[allow(dead_code)]
    source: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LayoutDef {
    #[serde(default)]
    #[allow(dead_code)]
    name: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    source: Option<String>,
    positions: Spanned<Vec<Spanned<Value>>>,
}

/// Where `at` is in `text`: 1-based line and column.
fn line_column(text: &str, at: usize) -> (usize, usize) {
    let before = text.get(..at.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Checks the profiles of a file as they are turned into [`Profile`]s.
struct Checker<'a> {
    text: &'a str,
}

impl Checker<'_> {
    fn error(&self, span: Range<usize>, message: impl Into<String>) -> ProfileError {
        let (line, column) = line_column(self.text, span.start);
        ProfileError { line, column, message: message.into() }
    }

    fn profile(&self, def: Spanned<ProfileDef>) -> Result<Profile, ProfileError> {
        let span = def.span();
        let def = def.into_inner();
        let name = def.name.get_ref().trim().to_owned();
        if name.is_empty() {
            return Err(self.error(def.name.span(), "a profile's name is empty"));
        }
        let manufacturer = match def.manufacturer {
            Some(m) if m.get_ref().trim().is_empty() => return Err(self.error(m.span(), "manufacturer is empty")),
            Some(m) => Some(intern(m.get_ref().trim())),
            None => None,
        };
        if def.matches.is_empty() {
            return Err(self.error(
                span,
                format!("profile `{name}` has no [[profile.match]] table: nothing would ever select it"),
            ));
        }
        let matches = def.matches.into_iter().map(|m| self.matching(m)).collect::<Result<Vec<_>, _>>()?;
        let scales = def.scale.into_iter().map(|s| self.scale(s)).collect::<Result<Vec<_>, _>>()?;
        let mut layouts = def.layout.into_iter().map(|l| self.layout(l)).collect::<Result<Vec<_>, _>>()?;
        super::scale_positions(&scales, &mut layouts);
        let text_firsts = super::text_firsts(&matches);
        Ok(Profile { name, manufacturer, matches, scales, layouts, text_firsts })
    }

    fn texts(&self, t: Texts, what: &str) -> Result<Vec<String>, ProfileError> {
        let Some(t) = t else { return Ok(Vec::new()) };
        let span = t.span();
        let v = t.into_inner().into_vec();
        if v.is_empty() || v.iter().any(|s| s.is_empty()) {
            return Err(self.error(span, format!("{what} needs a text that is not empty")));
        }
        Ok(v)
    }

    fn matching(&self, def: Spanned<MatchDef>) -> Result<Match, ProfileError> {
        let def = def.into_inner();
        let push_setup = match def.push_setup {
            Some(p) => {
                let span = p.span();
                p.into_inner()
                    .into_vec()
                    .iter()
                    .map(|s| s.parse::<Obis>().map_err(|_| self.error(span.clone(), obis_message(s))))
                    .collect::<Result<Vec<_>, _>>()?
            }
            None => Vec::new(),
        };
        let values = match def.values {
            Some(v) => Some(
                usize::try_from(*v.get_ref())
                    .ok()
                    .filter(|n| (1..=4096).contains(n))
                    .ok_or_else(|| self.error(v.span(), "values is a count of values: 1 to 4096"))?,
            ),
            None => None,
        };
        let text = self.texts(def.text, "text")?;
        Ok(Match {
            list_id: self.texts(def.list_id, "list_id")?,
            text_firsts: first_bits(text.iter().map(|t| t.as_bytes())),
            text,
            device_name: self.texts(def.device_name, "device_name")?,
            model: self.texts(def.model, "model")?,
            push_setup,
            values,
        })
    }

    fn scaler(&self, s: Option<Spanned<i64>>) -> Result<Option<i8>, ProfileError> {
        match s {
            Some(s) => i8::try_from(*s.get_ref())
                .ok()
                .filter(|v| (-12..=12).contains(v))
                .map(Some)
                .ok_or_else(|| self.error(s.span(), "scaler is a power of ten from -12 to 12 (-1: tenths)")),
            None => Ok(None),
        }
    }

    fn unit(&self, u: Option<Spanned<String>>) -> Result<Option<Option<&'static str>>, ProfileError> {
        match u {
            Some(u) => unit(u.get_ref()).map(Some).ok_or_else(|| self.error(u.span(), unit_message(u.get_ref()))),
            None => Ok(None),
        }
    }

    fn scale(&self, def: Spanned<ScaleDef>) -> Result<ScaleRule, ProfileError> {
        let span = def.span();
        let def = def.into_inner();
        let obis_span = def.obis.span();
        let codes = def.obis.into_inner().into_vec();
        if codes.len() != 1 {
            return Err(self.error(obis_span, "a scale's obis is one pattern (use | inside a group for more)"));
        }
        let code = codes.first().map(String::as_str).unwrap_or_default();
        let pattern = ObisPattern::parse(code).ok_or_else(|| {
            self.error(
                obis_span,
                format!("{code:?} is not an OBIS pattern: A-B:C.D.E with numbers, * (any) or 31|51|71 in a group"),
            )
        })?;
        let scaler = self.scaler(def.scaler)?;
        let unit = self.unit(def.unit)?;
        if scaler.is_none() && unit.is_none() {
            return Err(self.error(span, "a scale needs a scaler, a unit or both"));
        }
        Ok(ScaleRule { pattern, scaler, unit })
    }

    fn layout(&self, def: Spanned<LayoutDef>) -> Result<Layout, ProfileError> {
        let def = def.into_inner();
        let span = def.positions.span();
        let list = def.positions.into_inner();
        if list.is_empty() {
            return Err(self.error(span, "a layout needs positions"));
        }
        if list.len() > 4096 {
            return Err(self.error(span, "a layout has at most 4096 positions"));
        }
        let positions = list.into_iter().map(|p| self.position(p)).collect::<Result<Vec<_>, _>>()?;
        Ok(Layout { positions })
    }

    fn position(&self, p: Spanned<Value>) -> Result<Position, ProfileError> {
        let span = p.span();
        let code = |s: &str| s.parse::<Obis>().map_err(|_| self.error(span.clone(), obis_message(s)));
        match p.into_inner() {
            Value::String(s) => Ok(Position { obis: code(&s)?, kind: None, scaler: None, unit: None, scale: UNSET }),
            Value::Table(t) => {
                let mut pos = Position {
                    obis: Obis::new(0, 0, 0, 0, 0, 255),
                    kind: None,
                    scaler: None,
                    unit: None,
                    scale: UNSET,
                };
                let mut have_obis = false;
                for (k, v) in t {
                    let text = || match &v {
                        Value::String(s) => Ok(s.as_str()),
                        _ => Err(self.error(span.clone(), format!("a position's {k} is a text"))),
                    };
                    match k.as_str() {
                        "obis" => {
                            pos.obis = code(text()?)?;
                            have_obis = true;
                        }
                        "type" => {
                            let name = text()?;
                            let tag = TYPES.iter().find(|(n, _)| *n == name).map(|(_, t)| *t);
                            pos.kind = Some(tag.ok_or_else(|| self.error(span.clone(), type_message(name)))?);
                        }
                        "scaler" => {
                            let Value::Integer(i) = v else {
                                return Err(self.error(span, "a position's scaler is a whole number"));
                            };
                            pos.scaler = self.scaler(Some(Spanned::new(span.clone(), i)))?;
                        }
                        "unit" => {
                            let u = text()?;
                            pos.unit = Some(unit(u).ok_or_else(|| self.error(span.clone(), unit_message(u)))?);
                        }
                        "note" => {
                            text()?;
                        }
                        _ => {
                            return Err(self.error(
                                span,
                                format!("unknown key `{k}` in a position (known: obis, type, scaler, unit, note)"),
                            ));
                        }
                    }
                }
                if !have_obis {
                    return Err(self.error(span, "a position needs its obis code"));
                }
                Ok(pos)
            }
            _ => Err(self.error(span, "a position is an OBIS code (\"1-0:1.7.0\") or a table { obis = ..., ... }")),
        }
    }
}

fn obis_message(s: &str) -> String {
    format!("{s:?} is not an OBIS code (A-B:C.D.E, e.g. 1-0:32.7.0)")
}

fn unit_message(u: &str) -> String {
    let mut known: Vec<&str> = (1..=255).filter_map(crate::dlms::units::unit_name).collect();
    known.dedup();
    format!("unknown unit {u:?} (one of: {}, or none)", known.join(", "))
}

fn type_message(t: &str) -> String {
    let known: Vec<&str> = TYPES.iter().map(|(n, _)| *n).collect();
    format!("unknown type {t:?} (one of: {})", known.join(", "))
}

/// The profiles of a profile file.
pub(crate) fn parse(text: &str) -> Result<Vec<Profile>, ProfileError> {
    let check = Checker { text };
    let file: FileDef = toml::from_str(text).map_err(|e| {
        // The reason only (the position is ours), on one line; toml has
        // none for some characters (a NUL in a comment).
        let message = match e.message().trim() {
            "" => "not valid TOML here (a control character?)".to_owned(),
            m => m.replace('\n', "; "),
        };
        check.error(e.span().unwrap_or(0..0), message)
    })?;
    let mut names: Vec<(String, Range<usize>)> = Vec::new();
    let mut out = Vec::with_capacity(file.profile.len());
    for def in file.profile {
        let span = def.span();
        let p = check.profile(def)?;
        if names.iter().any(|(n, _)| *n == p.name) {
            return Err(check.error(span, format!("a second profile named `{}`", p.name)));
        }
        names.push((p.name.clone(), span));
        out.push(p);
    }
    Ok(out)
}
