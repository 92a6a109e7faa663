//! HTTP for the influx and domoticz backends: han-http's agent with one
//! timeout and han-push's name, basic authentication, what a failed request
//! means, and the servers' URLs checked.

use std::time::Duration;

pub use han_http::{Answer, basic_auth};

/// An agent whose requests give up after `timeout` (connect, read, write each).
pub fn agent(timeout: Duration) -> ureq::Agent {
    han_http::agent(han_http::Timeouts::all(timeout), concat!("han-push/", env!("CARGO_PKG_VERSION")))
}

/// `url` without a trailing `/`, checked to be http(s).
pub fn base_url(url: &str, flag: &str) -> Result<String, han_common::Usage> {
    let u = url.trim().trim_end_matches('/');
    let rest = u.strip_prefix("http://").or_else(|| u.strip_prefix("https://"));
    match rest {
        Some(host) if !host.is_empty() => Ok(u.to_owned()),
        _ => Err(han_common::Usage(format!("{flag} {url:?}: not an http:// or https:// URL"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(base_url("http://h:8086/", "--url").unwrap(), "http://h:8086");
        assert!(base_url("h:8086", "--url").is_err());
        assert!(base_url("https://", "--url").is_err());
    }
}
