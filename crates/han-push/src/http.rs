//! HTTP for the influx and domoticz backends: one ureq agent with a
//! timeout, basic authentication, and what a failed request means.

use std::time::Duration;

/// An agent whose requests give up after `timeout` (connect, read, write each).
pub fn agent(timeout: Duration) -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout_connect(timeout)
        .timeout_read(timeout)
        .timeout_write(timeout)
        .user_agent(concat!("han-push/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// The `Authorization` header value of HTTP basic authentication.
pub fn basic_auth(user: &str, password: &str) -> String {
    use base64::Engine;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}

/// What a request came to.
#[derive(Debug)]
pub enum Answer {
    /// A 2xx status: the body.
    Ok(String),
    /// Another status, with the body (the server's reason).
    Status(u16, String),
    /// No answer: connection refused, timeout, TLS ...
    Transport(String),
}

impl Answer {
    /// The answer of `ureq`'s result, the body read (up to 64 KiB).
    pub fn of(result: Result<ureq::Response, ureq::Error>) -> Answer {
        match result {
            Ok(r) => Answer::Ok(body(r)),
            Err(ureq::Error::Status(status, r)) => Answer::Status(status, body(r)),
            Err(ureq::Error::Transport(t)) => Answer::Transport(t.to_string()),
        }
    }
}

fn body(r: ureq::Response) -> String {
    use std::io::Read;
    // Not always UTF-8 (a proxy's Latin-1 error page): the message all the same.
    let mut bytes = Vec::new();
    let _ = r.into_reader().take(64 * 1024).read_to_end(&mut bytes);
    String::from_utf8_lossy(&bytes).trim().to_owned()
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
    use base64::Engine;

    /// Standard base64 with padding (RFC 4648).
    fn base64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    #[test]
    fn base64_as_the_rfc_says() {
        for (plain, coded) in
            [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE=")]
        {
            assert_eq!(base64(plain.as_bytes()), coded);
        }
        assert_eq!(basic_auth("Aladdin", "open sesame"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    }

    #[test]
    fn urls() {
        assert_eq!(base_url("http://h:8086/", "--url").unwrap(), "http://h:8086");
        assert!(base_url("h:8086", "--url").is_err());
        assert!(base_url("https://", "--url").is_err());
    }
}
