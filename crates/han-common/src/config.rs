//! The config file: TOML, a section per tool (`[han-read]`, `[han-log]` ...).
//!
//! Every setting also has a flag, and no tool needs the file; a missing
//! default file is not an error, a missing named one is. Secrets (keys,
//! passwords, tokens) may live here, so a file that others can read earns a
//! warning.

use std::path::{Path, PathBuf};

use toml::{Table, Value};

use crate::paths;

/// A config file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML.
    #[error("config file {path} is not valid TOML: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A setting has the wrong type.
    #[error("config file {path}: [{section}] {key} must be {expected}")]
    Type {
        /// The file.
        path: PathBuf,
        /// The section.
        section: String,
        /// The key.
        key: String,
        /// What it must be.
        expected: &'static str,
    },
}

/// A loaded config file (empty when there is none).
#[derive(Debug, Default, Clone)]
pub struct Config {
    path: Option<PathBuf>,
    table: Table,
    /// Set when the file holds secrets and others may read it.
    pub warning: Option<String>,
}

impl Config {
    /// Loads `explicit`, else `$HAN_TOOLS_CONFIG`, else the default file if
    /// it exists. A file named explicitly or by the environment must exist.
    pub fn load(explicit: Option<&Path>) -> Result<Config, ConfigError> {
        let named = explicit.map(Path::to_path_buf).or_else(|| std::env::var_os(paths::CONFIG_ENV).map(PathBuf::from));
        let (path, must_exist) = match named {
            Some(p) => (p, true),
            None => (PathBuf::from(paths::CONFIG), false),
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if !must_exist && e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(source) => return Err(ConfigError::Read { path, source }),
        };
        let mut c = Config::parse(&text, &path)?;
        c.warning = readable_by_others(&path).filter(|_| c.has_secrets()).map(|mode| {
            format!("config file {} holds secrets but others can read it (mode {mode:o}); chmod 600 it", path.display())
        });
        Ok(c)
    }

    /// Parses config text (`path` names it in errors).
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let table: Table = text
            .parse()
            .map_err(|e: toml::de::Error| ConfigError::Parse { path: path.to_owned(), message: e.to_string() })?;
        Ok(Config { path: Some(path.to_owned()), table, warning: None })
    }

    /// A section; `relay.1` is the table `1` of `[relay]` (`[relay.1]`).
    fn section(&self, section: &str) -> Option<&Table> {
        let mut parts = section.split('.');
        let first = self.table.get(parts.next()?)?.as_table()?;
        parts.try_fold(first, |t, p| t.get(p)?.as_table())
    }

    /// The names of a section's own sections (`1` and `2` for `[relay.1]`
    /// and `[relay.2]`), sorted.
    pub fn subsections(&self, section: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .section(section)
            .map(|t| t.iter().filter(|(_, v)| v.is_table()).map(|(k, _)| k.clone()).collect())
            .unwrap_or_default();
        v.sort();
        v
    }

    /// Whether a section has the key, of any type.
    pub fn has(&self, section: &str, key: &str) -> bool {
        self.section(section).is_some_and(|t| t.contains_key(key))
    }

    fn type_error(&self, section: &str, key: &str, expected: &'static str) -> ConfigError {
        ConfigError::Type {
            path: self.path.clone().unwrap_or_default(),
            section: section.to_owned(),
            key: key.to_owned(),
            expected,
        }
    }

    /// A string setting of a section.
    pub fn string(&self, section: &str, key: &str) -> Result<Option<String>, ConfigError> {
        match self.section(section).and_then(|t| t.get(key)) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(self.type_error(section, key, "a string")),
        }
    }

    /// A whole-number setting of a section.
    pub fn integer(&self, section: &str, key: &str) -> Result<Option<i64>, ConfigError> {
        match self.section(section).and_then(|t| t.get(key)) {
            None => Ok(None),
            Some(Value::Integer(i)) => Ok(Some(*i)),
            Some(_) => Err(self.type_error(section, key, "a whole number")),
        }
    }

    /// A number setting of a section (whole or not).
    pub fn number(&self, section: &str, key: &str) -> Result<Option<f64>, ConfigError> {
        match self.section(section).and_then(|t| t.get(key)) {
            None => Ok(None),
            Some(Value::Integer(i)) => Ok(Some(*i as f64)),
            Some(Value::Float(f)) => Ok(Some(*f)),
            Some(_) => Err(self.type_error(section, key, "a number")),
        }
    }

    /// A list-of-texts setting of a section (`files = ["a", "b"]`); one text
    /// is a list of one.
    pub fn strings(&self, section: &str, key: &str) -> Result<Option<Vec<String>>, ConfigError> {
        let Some(v) = self.section(section).and_then(|t| t.get(key)) else { return Ok(None) };
        let wrong = || self.type_error(section, key, "a text or a list of texts");
        match v {
            Value::String(s) => Ok(Some(vec![s.clone()])),
            Value::Array(list) => {
                list.iter().map(|v| v.as_str().map(str::to_owned).ok_or_else(wrong)).collect::<Result<_, _>>().map(Some)
            }
            _ => Err(wrong()),
        }
    }

    /// The file this was loaded from (none for an absent default file).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// A list-of-numbers setting of a section (`steps = [2, 5, 10]`).
    pub fn numbers(&self, section: &str, key: &str) -> Result<Option<Vec<f64>>, ConfigError> {
        let Some(v) = self.section(section).and_then(|t| t.get(key)) else { return Ok(None) };
        let wrong = || self.type_error(section, key, "a list of numbers");
        let list = v.as_array().ok_or_else(wrong)?;
        let each = |v: &Value| match v {
            Value::Integer(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        };
        list.iter().map(|v| each(v).ok_or_else(wrong)).collect::<Result<Vec<f64>, _>>().map(Some)
    }

    /// A true/false setting of a section.
    pub fn boolean(&self, section: &str, key: &str) -> Result<Option<bool>, ConfigError> {
        match self.section(section).and_then(|t| t.get(key)) {
            None => Ok(None),
            Some(Value::Boolean(b)) => Ok(Some(*b)),
            Some(_) => Err(self.type_error(section, key, "true or false")),
        }
    }

    /// The keys of `section` that are not in `known` (typos, settings of
    /// another version), for a warning.
    pub fn unknown_keys(&self, section: &str, known: &[&str]) -> Vec<String> {
        // A sub-section (`[relay.1]`) is not a setting of its section.
        self.section(section)
            .map(|t| {
                t.iter()
                    .filter(|(k, v)| !v.is_table() && !known.contains(&k.as_str()))
                    .map(|(k, _)| k.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// What a tool should warn about before it starts: the file readable
    /// by others while it holds secrets, and each key of `section` not in
    /// `known` (a typo such as `sync-every`).
    pub fn warnings(&self, section: &str, known: &[&str]) -> Vec<String> {
        let typos = self
            .unknown_keys(section, known)
            .into_iter()
            .map(|key| format!("config [{section}] {key}: no such setting (known: {})", known.join(", ")));
        self.warning.clone().into_iter().chain(typos).collect()
    }

    /// Whether any section has a key that names a secret.
    fn has_secrets(&self) -> bool {
        self.table.values().filter_map(Value::as_table).any(secret_in)
    }
}

/// Whether a section, or a section of it (`[han-push.influx] token`), has a
/// key that names a secret.
fn secret_in(t: &Table) -> bool {
    t.iter().any(|(k, v)| {
        let k = k.to_ascii_lowercase();
        let named = k.contains("key") || k.contains("password") || k.contains("token") || k.contains("secret");
        (named && !v.is_table()) || v.as_table().is_some_and(secret_in)
    })
}

/// The file's mode when group or others may read it.
#[cfg(unix)]
fn readable_by_others(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o044 != 0).then_some(mode)
}

/// No Unix modes (han-report on Windows): nothing to say.
#[cfg(not(unix))]
fn readable_by_others(_path: &Path) -> Option<u32> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_types_and_errors() {
        let c = Config::parse("[han-read]\nkey = \"00\"\nbaud = 2400\n[han-log]\ncsv = true\n", Path::new("t.toml"))
            .unwrap();
        assert_eq!(c.boolean("han-log", "csv").unwrap(), Some(true));
        assert!(c.boolean("han-read", "key").unwrap_err().to_string().contains("must be true or false"));
        assert_eq!(c.unknown_keys("han-read", &["key"]), ["baud"]);
        assert_eq!(c.warnings("han-read", &["key"]), ["config [han-read] baud: no such setting (known: key)"]);
        assert!(c.unknown_keys("nowhere", &[]).is_empty());
        let r =
            Config::parse("[relay]\nbackend = \"sim\"\n[relay.2]\npin = 4\n[relay.1]\npin = 17\n", Path::new("r.toml"))
                .unwrap();
        assert_eq!(r.subsections("relay"), ["1", "2"]);
        assert_eq!(r.integer("relay.1", "pin").unwrap(), Some(17));
        assert!(r.unknown_keys("relay", &["backend"]).is_empty());
        assert!(r.has("relay.2", "pin") && !r.has("relay.2", "name"));
        assert_eq!(c.string("han-read", "key").unwrap().as_deref(), Some("00"));
        assert_eq!(c.integer("han-read", "baud").unwrap(), Some(2400));
        assert_eq!(c.string("han-log", "dir").unwrap(), None);
        let m = Config::parse("[maxpower]\nlimit_wh = 4500\nsteps = [2, 5.5]\nbad = [1, \"x\"]\n", Path::new("m.toml"))
            .unwrap();
        assert_eq!(m.number("maxpower", "limit_wh").unwrap(), Some(4500.0));
        assert_eq!(m.numbers("maxpower", "steps").unwrap(), Some(vec![2.0, 5.5]));
        assert!(m.numbers("maxpower", "bad").unwrap_err().to_string().contains("a list of numbers"));
        assert!(m.number("maxpower", "steps").unwrap_err().to_string().contains("must be a number"));
        let f = Config::parse("[han-read]\none = \"a.toml\"\ntwo = [\"a\", \"b\"]\nbad = [1]\n", Path::new("f.toml"))
            .unwrap();
        assert_eq!(f.strings("han-read", "one").unwrap(), Some(vec!["a.toml".to_owned()]));
        assert_eq!(f.strings("han-read", "two").unwrap(), Some(vec!["a".to_owned(), "b".to_owned()]));
        assert_eq!(f.strings("han-read", "none").unwrap(), None);
        assert!(f.strings("han-read", "bad").unwrap_err().to_string().contains("a text or a list of texts"));
        assert_eq!(f.path(), Some(Path::new("f.toml")));
        assert_eq!(Config::default().path(), None);
        let e = c.string("han-read", "baud").unwrap_err().to_string();
        assert!(e.contains("[han-read] baud must be a string"), "{e}");
        let e = Config::parse("[han-read\n", Path::new("bad.toml")).unwrap_err().to_string();
        assert!(e.contains("bad.toml is not valid TOML"), "{e}");
    }

    #[test]
    #[cfg(unix)]
    fn secrets_readable_by_others_are_warned_about() {
        let dir = std::env::temp_dir().join(format!("han-common-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("config.toml");
        std::fs::write(&p, "[han-read]\nkey = \"0123\"\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(Config::load(Some(&p)).unwrap().warning.is_some_and(|w| w.contains("chmod 600")));
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(Config::load(Some(&p)).unwrap().warning.is_none());
        std::fs::write(&p, "[han-push.influx]\ntoken = \"t\"\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
        assert!(Config::load(Some(&p)).unwrap().warning.is_some(), "a secret in a sub-section counts");
        assert!(Config::load(Some(&dir.join("missing.toml"))).is_err(), "a named file must exist");
        std::fs::remove_dir_all(&dir).ok();
    }
}
