//! Credentials: from the environment first, else the config file; never
//! from a flag (argv is visible to every user of the machine in `ps`).

use std::fmt;

use han_common::{Config, Usage};

/// The section of each backend in the config file.
pub const MQTT: &str = "han-push.mqtt";
/// `[han-push.influx]`.
pub const INFLUX: &str = "han-push.influx";
/// `[han-push.domoticz]`.
pub const DOMOTICZ: &str = "han-push.domoticz";

/// A credential. Its `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    value: String,
    /// Where it came from (`$HAN_PUSH_INFLUX_TOKEN`, `[han-push.influx] token`), for messages.
    pub from: String,
}

impl Secret {
    /// The credential itself.
    pub fn expose(&self) -> &str {
        &self.value
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(from {})", self.from)
    }
}

/// The credential `key` of `section`: the environment variable `env` when
/// set and not empty, else the config file's key, else `None`.
pub fn secret(config: &Config, section: &str, key: &str, env: &str) -> Result<Option<Secret>, Usage> {
    secret_with(config, section, key, env, |name| std::env::var(name).ok())
}

/// A login: `user` with the password of `section` (`env`, else its
/// `password` key). A user without a password is a usage error; no user,
/// no login.
pub fn login(
    config: &Config,
    section: &str,
    user: Option<String>,
    env: &str,
) -> Result<Option<(String, Secret)>, Usage> {
    match (user, secret(config, section, "password", env)?) {
        (Some(u), Some(p)) => Ok(Some((u, p))),
        (Some(u), None) => Err(Usage(format!("--user {u}: the password? ${env} or password in [{section}]"))),
        (None, _) => Ok(None),
    }
}

/// [`secret`] with the environment given (for tests).
fn secret_with(
    config: &Config,
    section: &str,
    key: &str,
    env: &str,
    var: impl Fn(&str) -> Option<String>,
) -> Result<Option<Secret>, Usage> {
    if let Some(v) = var(env).filter(|v| !v.is_empty()) {
        return Ok(Some(Secret { value: v, from: format!("${env}") }));
    }
    let v = config.string(section, key).map_err(|e| Usage(e.to_string()))?;
    Ok(v.filter(|v| !v.is_empty()).map(|value| Secret { value, from: format!("[{section}] {key}") }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn environment_first_then_the_file() {
        let c = Config::parse("[han-push.influx]\ntoken = \"file-token\"\nport = 1\n", Path::new("c.toml")).unwrap();
        let env = |v: &'static str| move |n: &str| (n == "T").then(|| v.to_owned());
        let s = secret_with(&c, INFLUX, "token", "T", env("env-token")).unwrap().unwrap();
        assert_eq!((s.expose(), s.from.as_str()), ("env-token", "$T"));
        let s = secret_with(&c, INFLUX, "token", "T", env("")).unwrap().unwrap();
        assert_eq!((s.expose(), s.from.as_str()), ("file-token", "[han-push.influx] token"));
        assert!(!format!("{s:?}").contains("file-token"), "Debug hides it");
        assert_eq!(secret_with(&c, DOMOTICZ, "password", "T", |_| None).unwrap(), None);
        assert!(secret_with(&c, INFLUX, "port", "T", |_| None).is_err(), "a number is no password");
    }
}
